"""Phone numbers in E.164 (ITU-T E.164), parsed and validated by the ``phonenumbers`` library
(Google's libphonenumber metadata).

A number is read with the person's country as the default region, so ``8 701 123 45 67``
typed by someone in Kazakhstan becomes ``+77011234567``; numbers written with ``+`` or an
international prefix (``00``, Kazakhstan's ``8 10``) keep their own country. A number that
cannot be read or is not valid is kept exactly as typed and flagged, never dropped: an
operator may still be able to call it.

Pure Python, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

__all__ = ["PhoneKind", "PhoneResult", "format_international", "normalize_phone"]

PhoneKind = Literal["mobile", "fixed", "unknown"]


@dataclass(frozen=True, slots=True)
class PhoneResult:
    """A phone number as typed and, when valid, in E.164.

    ``valid`` is libphonenumber's full validation (the number's length and prefix exist in
    its region's plan). For an invalid number ``e164`` and ``region`` are ``None`` and
    ``kind`` is ``"unknown"``. ``region`` is the ISO 3166-1 alpha-2 code of the number itself
    (``+7 495…`` is RU, ``+7 701…`` KZ), not the default region it was read with. ``kind`` is
    ``"unknown"`` also where the plan does not tell fixed from mobile (North America), so a
    caller choosing SMS recipients should not skip ``"unknown"``. ``extension`` is set when
    one was typed (``доб. 5``, ``ext. 5``); E.164 has no place for it.
    """

    e164: str | None
    raw: str
    valid: bool
    region: str | None
    kind: PhoneKind
    extension: str | None = None


_KINDS: dict[int, PhoneKind] = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed",
}


def normalize_phone(raw: str, default_region: str | None) -> PhoneResult:
    """Read ``raw`` as a phone number; ``default_region`` (ISO alpha-2, any case, or ``None``)
    applies to numbers written without a country code.

    Never raises for bad input: unreadable or invalid numbers give ``valid=False`` with
    ``raw`` unchanged.
    """
    region = default_region.upper() if default_region else None
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return PhoneResult(e164=None, raw=raw, valid=False, region=None, kind="unknown")
    if not phonenumbers.is_valid_number(number):
        return PhoneResult(e164=None, raw=raw, valid=False, region=None, kind="unknown")
    return PhoneResult(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        raw=raw,
        valid=True,
        region=phonenumbers.region_code_for_number(number),
        kind=_KINDS.get(phonenumbers.number_type(number), "unknown"),
        extension=number.extension or None,
    )


def format_international(e164: str) -> str:
    """A number in E.164 written for reading, in the ITU-T E.123 international format
    (``+77172720000`` → ``+7 7172 72 00 00``); anything libphonenumber cannot read is
    returned as it is."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
