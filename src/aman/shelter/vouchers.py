"""Hotel vouchers: the signed code of a stay, its QR code alone (PNG: the check page's
address, nothing else) and the printable voucher (PDF) in the language of the household's
contact person. Aman hands them to the officer, who forwards them; sending them belongs to
the messaging app, later.

`AMANV1:<stay>:<signature>` — upper case and digits only. The signature is an HMAC (keyed by
the server's secret) over the stay, its block, its room in the block and its first night: a
code cannot be forged, and a code of one stay does not open another (nor the same stay moved
to another room). Extending or shortening a stay keeps its code.

The QR code carries the address of the public check page (`voucher_check`), where a hotel's
front desk sees whether the voucher is valid — the hotel, room type, meals, nights, numbers of
adults and children, who pays — and never a name or a reference code.

Every voucher handed out is audited (`stay_voucher`).
"""

from __future__ import annotations

import base64
import hmac
import io
import re
from dataclasses import dataclass
from typing import Any

import segno
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from aman.core.audit import audit_read
from aman.core.errors import ApplicationError, Conflict
from aman.core.models import User
from aman.registry.latin import passport_latin
from aman.registry.models import Document, Language, Person
from aman.shelter.models import HOLDS_ROOM, Payer, Stay, StayStatus
from aman.transport.manifests import _document
from aman.transport.pdf import html_to_pdf

PREFIX = "AMANV1"
_SALT = "aman.shelter.voucher"
_SHAPE = re.compile(r"^AMANV1:([0-9]{1,12}):([A-Z2-7]{16})$")

FORMATS: dict[str, str] = {"png": "image/png", "pdf": "application/pdf"}


class BadVoucher(ValueError):
    """Not a voucher code of this system (malformed, unknown or with a wrong signature)."""


def _signature(stay_id: int, block_id: int, room: int, first_night: Any) -> str:
    message = f"{stay_id}:{block_id}:{room}:{first_night.isoformat()}"
    digest = salted_hmac(_SALT, message, algorithm="sha256").digest()
    return base64.b32encode(digest[:10]).decode()  # 16 characters, 80 bits


def voucher_code(stay: Stay) -> str:
    return f"{PREFIX}:{stay.pk}:{_signature(stay.pk, stay.block_id, stay.room, stay.first_night)}"


def voucher_number(stay: Stay) -> str:
    """The number printed on the voucher and shown by the check page."""
    return f"V-{stay.pk:06d}"


def parse_voucher(text: str) -> tuple[int, str]:
    """The stay a code names and its signature (checked by `stay_for_code`)."""
    match = _SHAPE.match(text.strip().upper())
    if match is None:
        raise BadVoucher(text[:40])
    return int(match[1]), match[2]


def stay_for_code(text: str) -> Stay:
    """The stay of a genuine code. An unknown stay and a wrong signature are refused alike,
    so that the answer never tells whether a stay of that number exists."""
    stay_id, signature = parse_voucher(text)
    stay = (
        Stay.objects.select_related("block", "block__hotel", "block__hotel__place", "tour_operator")
        .filter(pk=stay_id)
        .first()
    )
    if stay is None:
        # Spend the same work on an unknown number as on a known one.
        _signature(stay_id, 0, 0, timezone.localdate())
        raise BadVoucher(text[:40])
    expected = _signature(stay.pk, stay.block_id, stay.room, stay.first_night)
    if not hmac.compare_digest(expected, signature):
        raise BadVoucher(text[:40])
    return stay


def qr(url: str) -> segno.QRCode:
    # Level M survives a crumpled print or a cracked phone screen.
    return segno.make(url, error="m", micro=False)


def qr_png(url: str, *, scale: int = 8) -> bytes:
    out = io.BytesIO()
    qr(url).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


@dataclass(frozen=True)
class VoucherGuest:
    surname: str  # as in the passport (Latin)
    given_names: str
    reference_code: str


@dataclass(frozen=True)
class Voucher:
    stay: Stay
    code: str
    number: str
    url: str
    guests: list[VoucherGuest]
    language: str

    @property
    def used(self) -> bool:
        return self.stay.status == StayStatus.CHECKED_OUT

    @property
    def payer_label(self) -> str:
        return payer_label(self.stay)


def payer_label(stay: Stay) -> str:
    label = str(Payer(stay.payer).label) if stay.payer in Payer.values else stay.payer
    if stay.tour_operator is not None:
        return f"{label} · {stay.tour_operator.name}"
    return label


def _guest(person: Person) -> VoucherGuest:
    doc = _document(person)
    surname = (doc.surname_latin if doc else "") or person.surname_latin
    given = (doc.given_names_latin if doc else "") or person.given_names_latin
    if not surname and not given:
        surname, given = passport_latin(person.surname), passport_latin(person.given_names)
    return VoucherGuest(
        surname=surname, given_names=given, reference_code=person.reference_code_display
    )


def _language(stay: Stay, guests: list[Person]) -> str:
    contact = stay.household.contact if stay.household is not None else None
    person = contact or (guests[0] if guests else None)
    language = person.language if person is not None else ""
    return language if language in Language.values else Language.KK


def stay_voucher(stay: Stay, *, url_for: Any) -> Voucher:
    """The voucher of a stay that holds (or held, checked out) its room. `url_for(code)` is
    the absolute address of the check page for a code."""
    if stay.status not in (*HOLDS_ROOM, StayStatus.CHECKED_OUT):
        raise Conflict(
            _("This stay holds no room (%(status)s): it has no voucher.")
            % {"status": stay.get_status_display().lower()},
            {"status": stay.status},
        )
    people = list(
        stay.guests.select_related("household")
        .prefetch_related(Prefetch("documents", queryset=Document.objects.order_by("id")))
        .order_by("birth_date", "id")
    )
    code = voucher_code(stay)
    return Voucher(
        stay=stay,
        code=code,
        number=voucher_number(stay),
        url=url_for(code),
        guests=[_guest(p) for p in people],
        language=_language(stay, people),
    )


def render_voucher_html(voucher: Voucher) -> str:
    stay = voucher.stay
    block = stay.block
    with translation.override(voucher.language):
        return render_to_string(
            "shelter/voucher_pdf.html",
            {
                "v": voucher,
                "stay": stay,
                "contract": block,
                "hotel": block.hotel,
                "home_country": stay.crisis.home_country,
                "qr": qr(voucher.url).png_data_uri(scale=4, border=4),
                "lang": voucher.language,
                "printed": timezone.localdate(),
            },
        )


@dataclass(frozen=True)
class VoucherFile:
    content: bytes
    content_type: str
    filename: str


def voucher_export(*, actor: User | None, stay: Stay, fmt: str, url_for: Any) -> VoucherFile:
    """A stay's voucher as `png` (the QR code alone) or `pdf` (the printable voucher)."""
    if fmt not in FORMATS:
        raise ApplicationError(
            _("Unknown voucher format %(format)s: use png or pdf.") % {"format": fmt[:10]},
            {"format": ["png, pdf"]},
        )
    voucher = stay_voucher(stay, url_for=url_for)
    content = qr_png(voucher.url) if fmt == "png" else html_to_pdf(render_voucher_html(voucher))
    audit_read(
        actor=actor,
        verb="stay_voucher",
        obj=stay,
        crisis=stay.crisis,
        export=True,
        details={"format": fmt, "guests": len(voucher.guests)},
    )
    return VoucherFile(
        content=content,
        content_type=FORMATS[fmt],
        filename=f"voucher-{voucher.number}.{fmt}",
    )
