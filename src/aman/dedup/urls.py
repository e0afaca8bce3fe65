from django.urls import path

from aman.dedup import views

urlpatterns = [
    path("", views.candidate_list, name="candidate_list"),
    path("<int:pk>/reject/", views.candidate_reject, name="candidate_reject"),
]
