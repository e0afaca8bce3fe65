"""Every 4xx under /api/ has the shape {"message": ..., "extra": {...}}, also the ones
Django produces before the API sees the request (405, CSRF, unknown paths)."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse


class ApiErrorShapeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/api/") or not 400 <= response.status_code < 500:
            return response
        body = None
        if response.get("Content-Type", "").startswith("application/json"):
            try:
                body = json.loads(response.content or b"null")
            except ValueError:
                body = None
        if isinstance(body, dict) and "message" in body and "extra" in body:
            return response
        message = HTTPStatus(response.status_code).phrase
        extra: dict[str, object] = {}
        if isinstance(body, dict) and "detail" in body:
            message, extra = str(body["detail"]), {k: v for k, v in body.items() if k != "detail"}
        shaped = JsonResponse({"message": message, "extra": extra}, status=response.status_code)
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):
            if header in response:
                shaped[header] = response[header]
        return shaped
