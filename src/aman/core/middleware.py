import ipaddress
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from aman.core.context import origin


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from. Behind a reverse proxy, the proxy must set
    X-Forwarded-For and `USE_X_FORWARDED_FOR` must be on (docs/deploy.md)."""
    from django.conf import settings

    if getattr(settings, "USE_X_FORWARDED_FOR", False):
        first = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip()
        try:
            return str(ipaddress.ip_address(first))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        via = "api" if request.path.startswith("/api/") else "web"
        with origin(ip=client_ip(request), via=via):
            return self.get_response(request)
