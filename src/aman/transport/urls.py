from django.urls import path

from aman.transport import views, views_documents, views_gate, views_permits

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
    # Boarding passes and manifests (views_documents.py)
    path("legs/<int:pk>/manifest.<str:fmt>", views_documents.leg_manifest, name="leg_manifest"),
    path("legs/<int:pk>/passes/", views_documents.leg_passes, name="leg_passes"),
    path(
        "legs/<int:pk>/passes/<int:print_pk>.pdf",
        views_documents.pass_print_pdf,
        name="pass_print_pdf",
    ),
    path("bookings/<int:pk>/pass.<str:fmt>", views_documents.booking_pass, name="booking_pass"),
    # The gate: check-in and boarding by scan, offline (views_gate.py)
    path("legs/<int:pk>/gate/", views_gate.gate_page, name="gate"),
    path("gate-sw.js", views_gate.gate_worker, name="gate_worker"),
    path("legs/<int:pk>/gate/manifest.json", views_gate.gate_manifest, name="gate_manifest"),
    path("legs/<int:pk>/gate/scan", views_gate.gate_scan, name="gate_scan"),
    path("legs/<int:pk>/gate/sync", views_gate.gate_sync, name="gate_sync"),
    # Transit permits and the crisis's transport policy (views_permits.py)
    path("permits/", views_permits.permit_list, name="permit_list"),
    path("permits/<int:pk>/", views_permits.permit_detail, name="permit_detail"),
    path("permits/<int:pk>/export.<str:fmt>", views_permits.permit_export, name="permit_export"),
    path("policy/", views_permits.transport_policy, name="transport_policy"),
    path(
        "bookings/<int:pk>/undertaking.pdf",
        views_permits.undertaking_pdf,
        name="undertaking_pdf",
    ),
]
