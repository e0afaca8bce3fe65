from django.urls import path

from aman.transport import views

urlpatterns = [
    # Legs and bookings (views.py)
    path("", views.leg_list, name="leg_list"),
    path("legs/new/", views.leg_create, name="leg_create"),
    path("legs/import/", views.leg_import, name="leg_import"),
    path("legs/import/<int:pk>/", views.leg_import_detail, name="leg_import_detail"),
    path("legs/<int:pk>/", views.leg_detail, name="leg_detail"),
    path("legs/<int:pk>/edit/", views.leg_edit, name="leg_edit"),
    path("legs/<int:pk>/status/", views.leg_status, name="leg_status"),
    path("legs/<int:pk>/allocations/", views.leg_allocation, name="leg_allocation"),
    path("legs/<int:pk>/book/", views.leg_book, name="leg_book"),
    path("legs/<int:pk>/no-shows/", views.leg_release_no_shows, name="leg_release_no_shows"),
    path("bookings/<int:pk>/action/", views.booking_action, name="booking_action"),
]
