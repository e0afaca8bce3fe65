from django.contrib import admin
from django.urls import include, path

from aman.api.api import api
from aman.core import views as core_views
from aman.shelter import views_documents as shelter_documents

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("geo/", include("aman.geo.urls")),
    path("people/duplicates/", include("aman.dedup.urls")),
    path("transport/", include("aman.transport.urls")),
    path("shelter/", include("aman.shelter.urls")),
    path("planning/", include("aman.planning.urls")),
    path("voucher/<str:code>/", shelter_documents.voucher_check, name="voucher_check"),
    path("people/", include("aman.registry.urls")),
    path("", include("aman.public.urls")),
    path("", include("aman.core.urls")),
]

handler404 = "aman.core.views.not_found"
