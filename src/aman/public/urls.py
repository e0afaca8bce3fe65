from django.urls import path

from aman.public import views

urlpatterns = [
    path("register/", views.register, name="public_register"),
    path("register/done/", views.register_done, name="public_register_done"),
    path("status/", views.status_lookup, name="public_status"),
    path("status/me/", views.status_me, name="public_status_me"),
    path("status/leave/", views.status_leave, name="public_status_leave"),
]
