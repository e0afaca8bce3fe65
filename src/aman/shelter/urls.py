from django.urls import path

from aman.shelter import views, views_documents

urlpatterns = [
    # Hotels, room blocks, tour operators, occupancy (views.py)
    path("", views.hotel_list, name="hotel_list"),
    path("hotels/new/", views.hotel_create, name="hotel_create"),
    path("hotels/<int:pk>/", views.hotel_detail, name="hotel_detail"),
    path("hotels/<int:pk>/edit/", views.hotel_edit, name="hotel_edit"),
    path("hotels/<int:pk>/blocks/new/", views.block_create, name="block_create"),
    path("hotels/<int:pk>/day/", views.hotel_day, name="hotel_day"),
    path("hotels/<int:pk>/day.csv", views.hotel_day_csv, name="hotel_day_csv"),
    path("blocks/<int:pk>/edit/", views.block_edit, name="block_edit"),
    path("operators/", views.tour_operator_list, name="tour_operator_list"),
    path("operators/<int:pk>/edit/", views.tour_operator_edit, name="tour_operator_edit"),
    path("occupancy/", views.occupancy, name="occupancy"),
    # Stays and assignment (views.py)
    path("stays/", views.stay_list, name="stay_list"),
    path("stays/<int:pk>/", views.stay_detail, name="stay_detail"),
    path("stays/<int:pk>/status/", views.stay_status, name="stay_status"),
    path("stays/<int:pk>/nights/", views.stay_nights, name="stay_nights"),
    path("stays/<int:pk>/move/", views.stay_move, name="stay_move"),
    path("assign/", views.assign, name="shelter_assign"),
    # Vouchers, the cost ledger, exchange rates (views_documents.py)
    path("stays/<int:pk>/voucher.<str:fmt>", views_documents.voucher, name="stay_voucher"),
    path("ledger/", views_documents.ledger, name="ledger"),
    path("ledger.xlsx", views_documents.ledger_xlsx, name="ledger_xlsx"),
    path("rates/", views_documents.exchange_rates, name="exchange_rates"),
]
