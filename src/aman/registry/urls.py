from django.urls import path

from aman.registry import views

urlpatterns = [
    path("", views.person_list, name="person_list"),
    path("<int:pk>/", views.person_detail, name="person_detail"),
    path("<int:pk>/status/", views.person_status, name="person_status"),
]
