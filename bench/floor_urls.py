"""Aman's URLs, and `GET /bench/floor` after them (see floor_settings.py)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from aman.urls import handler404  # noqa: F401
from aman.urls import urlpatterns as aman_urlpatterns


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [*aman_urlpatterns, path("bench/floor", floor)]
