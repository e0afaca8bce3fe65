from django.urls import path

from aman.dedup import views

urlpatterns = [
    path("<int:pk>/reject/", views.candidate_reject, name="candidate_reject"),
]
