"""The REST API: django-ninja at /api/, OpenAPI at /api/openapi.json.

Every 4xx answer is {"message": str, "extra": {...}}: the handlers below cover errors raised
inside endpoints, `ApiErrorShapeMiddleware` the ones Django raises around them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from aman.api.auth import AUTH
from aman.api.routers import (
    audit,
    crises,
    dedup,
    geo,
    identity,
    me,
    missions,
    permits,
    planning,
    registry,
    shelter,
    transport,
    transport_documents,
)
from aman.core.errors import ApplicationError
from aman.core.validation import pydantic_message

api = NinjaAPI(
    title="Aman API",
    version="1",
    description=(
        "Crisis response and evacuation. Authenticate with `Authorization: Bearer <token>` "
        "(create tokens on the account page). Send `Idempotency-Key` on every create. "
        'Errors: `{"message": ..., "extra": {...}}` with a 4xx status.'
    ),
    auth=AUTH,
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def _error(
    request: HttpRequest, status: int, message: str, extra: dict[str, Any] | None = None
) -> HttpResponse:
    return api.create_response(request, {"message": message, "extra": extra or {}}, status=status)


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return _error(request, exc.status_code, exc.message, exc.extra)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "field": ".".join(
                str(p) for p in e.get("loc", ()) if p not in ("body", "payload", "query", "path")
            ),
            "message": pydantic_message(e),
            "type": e.get("type", ""),
        }
        for e in exc.errors
    ]
    first = errors[0] if errors else {"field": "", "message": ""}
    message = (
        _("Invalid input: %(field)s: %(message)s") % first
        if first["field"]
        else _("Invalid input.")
    )
    return _error(request, 422, message, {"errors": errors})


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(request, 401, _("Authentication required: send a valid API token."))
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, _("Your role does not allow this."))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, _("Not found."))


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE (Django refuses to read it): 413 naming the
    limit, rather than Django's bare 400."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _error(
        request,
        413,
        _("The request is larger than the limit of %(limit)s: send less in one request.")
        % {"limit": filesizeformat(limit)},
        {"limit_bytes": limit},
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


api.add_router("/me", me.router)
api.add_router("/crises", crises.router)
api.add_router("/missions", missions.router)
api.add_router("/geo", geo.router)
api.add_router("/audit", audit.router)
api.add_router("/identity", identity.router)
api.add_router("", registry.router)
api.add_router("", dedup.router)
api.add_router("", permits.router)
api.add_router("", transport.router)
api.add_router("", transport_documents.router)
api.add_router("", shelter.router)
api.add_router("", planning.router)
