"""Phone numbers to E.164 with libphonenumber; invalid numbers kept as typed."""

from __future__ import annotations

import pytest

from aman.registry.identity.phones import format_international, normalize_phone


@pytest.mark.parametrize(
    ("raw", "region", "e164", "number_region", "kind"),
    [
        ("8 701 123 45 67", "KZ", "+77011234567", "KZ", "mobile"),
        ("87011234567", "kz", "+77011234567", "KZ", "mobile"),
        ("+7 (701) 123-45-67", None, "+77011234567", "KZ", "mobile"),
        ("8 727 272 00 00", "KZ", "+77272720000", "KZ", "fixed"),
        # +7 is shared: the number itself says Russia.
        ("+7 495 123 45 67", "KZ", "+74951234567", "RU", "fixed"),
        ("+98 912 345 6789", None, "+989123456789", "IR", "mobile"),
        ("+98 912 345 6789", "KZ", "+989123456789", "IR", "mobile"),
        # International prefixes: Kazakhstan's 8~10 and the common 00.
        ("8 10 98 912 345 6789", "KZ", "+989123456789", "IR", "mobile"),
        ("00 98 912 345 6789", "TR", "+989123456789", "IR", "mobile"),
        ("0912 345 6789", "IR", "+989123456789", "IR", "mobile"),
        ("tel:+7-701-123-4567", None, "+77011234567", "KZ", "mobile"),
        # North American numbers do not tell fixed from mobile.
        ("+1 650 253 0000", None, "+16502530000", "US", "unknown"),
    ],
)
def test_valid_numbers(
    raw: str, region: str | None, e164: str, number_region: str, kind: str
) -> None:
    result = normalize_phone(raw, region)
    assert result.valid
    assert result.e164 == e164
    assert result.raw == raw
    assert result.region == number_region
    assert result.kind == kind
    assert result.extension is None


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("garbage", "KZ"),
        ("", "KZ"),
        ("123", "KZ"),
        ("8 701 123 45", "KZ"),
        ("+7 000 000 00 00", "KZ"),
        ("8 701 123 45 67", None),  # no country code and no default region
        ("8 701 123 45 67", "XX"),
        ("звоните после 18:00", "KZ"),
    ],
)
def test_invalid_numbers_are_kept_as_typed(raw: str, region: str | None) -> None:
    result = normalize_phone(raw, region)
    assert not result.valid
    assert result.raw == raw
    assert result.e164 is None
    assert result.region is None
    assert result.kind == "unknown"


def test_extension_is_kept_apart_from_e164() -> None:
    result = normalize_phone("+7 701 123 45 67 доб. 5", "KZ")
    assert (result.e164, result.extension) == ("+77011234567", "5")
    assert normalize_phone("+1 650 253 0000 ext. 12", None).extension == "12"


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+77172720000", "+7 7172 72 00 00"),
        ("+77012345678", "+7 701 234 5678"),
        ("+994123456789", "+994 12 345 67 89"),
        ("not a number", "not a number"),
    ],
)
def test_e164_is_written_for_reading_in_the_international_format(e164: str, shown: str) -> None:
    assert format_international(e164) == shown
