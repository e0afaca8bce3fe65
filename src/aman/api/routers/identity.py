from typing import Any

from django.http import HttpRequest
from ninja import Router

from aman.api.schemas import ErrorOut, MrzIn, MrzOut
from aman.core.errors import ApplicationError
from aman.registry.identity import MrzError, parse_mrz

router = Router(tags=["identity"])


@router.post(
    "/mrz",
    response={200: MrzOut, 400: ErrorOut, 422: ErrorOut},
    summary="Parse and check a passport or ID card machine-readable zone (ICAO 9303)",
)
def mrz_parse(request: HttpRequest, payload: MrzIn) -> Any:
    try:
        result = parse_mrz(payload.lines)
    except MrzError as exc:
        raise ApplicationError(str(exc), {"field": exc.field}) from exc
    return result
