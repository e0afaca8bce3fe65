from django.urls import path

from aman.dedup import views

urlpatterns = [
    path("", views.candidate_list, name="candidate_list"),
    path("<int:pk>/reject/", views.candidate_reject, name="candidate_reject"),
    path("<int:pk>/defer/", views.candidate_defer, name="candidate_defer"),
    path("<int:pk>/merge/", views.candidate_merge, name="candidate_merge"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
    path("runs/", views.linkage_run_create, name="linkage_run_create"),
    path("policy/", views.linkage_policy, name="linkage_policy"),
    path("clusters.csv", views.clusters_export, name="clusters_export"),
    path("clusters/<int:cluster>/reject/", views.cluster_reject, name="cluster_reject"),
    path("clusters/<int:cluster>/defer/", views.cluster_defer, name="cluster_defer"),
]
