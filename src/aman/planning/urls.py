from django.urls import path

from aman.planning import views

urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("run/", views.plan_run, name="plan_run"),
    path("what-if/", views.plan_what_if, name="plan_what_if"),
    path("pools/", views.pool_list, name="pool_list"),
    path("pools/<int:pk>/", views.pool_edit, name="pool_edit"),
    path("policy/", views.planning_policy, name="planning_policy"),
    path("compare/", views.plan_compare, name="plan_compare"),
    path("locks/", views.lock_list, name="lock_list"),
    path("locks/<int:household>/unlock/", views.lock_unlock, name="lock_unlock"),
    path("<int:pk>/", views.plan_detail, name="plan_detail"),
    path("<int:pk>/publish/", views.plan_publish, name="plan_publish"),
    path("<int:pk>/discard/", views.plan_discard, name="plan_discard"),
    path("<int:pk>/lock/<int:household>/", views.plan_lock, name="plan_lock"),
]
