from typing import Any

from django.http import HttpRequest
from ninja import Router

from aman.api.schemas import ErrorOut, MrzIn, MrzOut
from aman.core.errors import ApplicationError
from aman.registry.identity import MrzError, parse_mrz
from aman.registry.mrz_text import mrz_error_text

router = Router(tags=["identity"])


@router.post(
    "/mrz",
    response={200: MrzOut, 400: ErrorOut, 422: ErrorOut},
    summary="Parse and check a passport or ID card machine-readable zone (ICAO 9303)",
    description="A zone that cannot be read or whose check fails is answered 400: "
    "`message` says what is wrong in the language asked for (`Accept-Language`), "
    "`extra.field` names the field, `extra.code` the problem and `extra.params` its values.",
)
def mrz_parse(request: HttpRequest, payload: MrzIn) -> Any:
    try:
        result = parse_mrz(payload.lines)
    except MrzError as exc:
        # In the user's language; the field, the problem's code and its values for a
        # program (the characters concerned, no more than what was sent).
        raise ApplicationError(
            mrz_error_text(exc), {"field": exc.field, "code": exc.code, "params": exc.params}
        ) from exc
    return result
