from django.urls import path

from aman.geo import views

urlpatterns = [
    path("crossings/", views.crossing_list, name="crossing_list"),
    path("places/", views.place_list, name="place_list"),
    path("places/<int:pk>/", views.place_detail, name="place_detail"),
    path("places/<int:pk>/status/", views.place_status, name="place_status"),
    path("places/<int:pk>/crossing/", views.crossing_edit, name="crossing_edit"),
]
