"""Boarding-pass codes: what the QR code on a pass carries.

`AMAN1:<booking>:<leg>:<signature>` — upper case and digits only, so that the QR code uses
its compact alphanumeric mode and a USB scanner types it as it is. The signature is an HMAC
(keyed by the server's secret) over the booking, the leg and the person: a code cannot be
forged, and a code for one leg does not open another.
"""

from __future__ import annotations

import base64
import hmac
import re
from dataclasses import dataclass

from django.utils.crypto import salted_hmac

PREFIX = "AMAN1"
_SALT = "aman.transport.boarding-pass"


@dataclass(frozen=True)
class PassCode:
    booking_id: int
    leg_id: int


class BadPass(ValueError):
    """Not a boarding-pass code of this system (malformed or with a wrong signature)."""


def _signature(booking_id: int, leg_id: int, person_id: int) -> str:
    digest = salted_hmac(_SALT, f"{booking_id}:{leg_id}:{person_id}", algorithm="sha256").digest()
    return base64.b32encode(digest[:10]).decode()  # 16 characters, 80 bits


def pass_code(*, booking_id: int, leg_id: int, person_id: int) -> str:
    return f"{PREFIX}:{booking_id}:{leg_id}:{_signature(booking_id, leg_id, person_id)}"


def looks_like_pass(text: str) -> bool:
    return text.strip().upper().startswith(PREFIX + ":")


_SHAPE = re.compile(r"^AMAN1:([0-9]{1,12}):([0-9]{1,12}):([A-Z2-7]{16})$")


def parse_pass(text: str) -> tuple[PassCode, str]:
    """The booking and leg a code names, and its signature (checked by `verify`). Anything
    else — other characters, digits beyond ASCII, numbers too long for an id — is not a
    pass."""
    match = _SHAPE.match(text.strip().upper())
    if match is None:
        raise BadPass(text[:40])
    return PassCode(int(match[1]), int(match[2])), match[3]


def verify(code: PassCode, signature: str, person_id: int) -> bool:
    expected = _signature(code.booking_id, code.leg_id, person_id)
    return hmac.compare_digest(expected, signature)
