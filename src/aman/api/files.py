"""Files answered by the REST API (manifests, boarding passes, vouchers, ledgers, lists)."""

from typing import Any

from django.http import HttpResponse


def file_response(content: bytes, content_type: str, filename: str) -> HttpResponse:
    """A download: an attachment, never kept by browsers or proxies (names inside)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def binary_openapi(*types: str) -> dict[str, Any]:
    """The OpenAPI description of a route answering a file of one of `types`."""
    return {
        "responses": {
            200: {
                "description": "The file",
                "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in types},
            }
        }
    }
