from django.urls import path

from aman.registry import views, views_imports, views_intake

urlpatterns = [
    path("", views.person_list, name="person_list"),
    path("new/", views.person_create, name="person_create"),
    path("<int:pk>/", views.person_detail, name="person_detail"),
    path("<int:pk>/status/", views.person_status, name="person_status"),
    path("<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("<int:pk>/household/", views.person_household, name="person_household"),
    path("policy/", views.priority_policy, name="priority_policy"),
    path("intake/", views_intake.intake_list, name="intake_list"),
    path("intake/<int:pk>/", views_intake.intake_detail, name="intake_detail"),
    path("imports/", views_imports.import_list, name="import_list"),
    path("imports/<int:pk>/", views_imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/rejected.csv", views_imports.import_rejected, name="import_rejected"),
]
