"""Boarding passes: the signed code of `passes.pass_code` as a QR code (PNG, for a phone's
screen or a messenger) and as a printable pass (PDF) in the passenger's language, with the
leg, the name as in the passport, the reference code, the seat and the household members
travelling on the same leg. A leg's passes print at once as one PDF, a pass per page: laid
out `CHUNK` passes at a time, so that a long print reports its progress (`pass_prints`
runs it in the background, `aman passes` on the command line).

Every pass handed out is audited (`boarding_pass`).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import segno
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from aman.core.audit import audit_read
from aman.core.errors import ApplicationError, Conflict
from aman.core.models import User
from aman.registry.models import Language
from aman.transport.manifests import ManifestRow, local_time, manifest_rows, place_code
from aman.transport.models import Booking, Leg
from aman.transport.passes import pass_code
from aman.transport.pdf import html_to_pdf, htmls_to_pdf

# Passes laid out per WeasyPrint document: as fast as one document for the whole leg (~50 ms
# a page either way; one pass per document costs 10 % more) and the same file, progress after
# each part, and only the laid-out pages are held until the PDF is written (0.2 MB a page
# instead of 0.5 MB with every page's HTML tree and styles).
CHUNK = 10

PASS_FORMATS: dict[str, tuple[str, str]] = {
    "png": ("image/png", "png"),
    "pdf": ("application/pdf", "pdf"),
}


@dataclass(frozen=True)
class BoardingPass:
    leg: Leg
    row: ManifestRow
    code: str
    members: list[ManifestRow]

    @property
    def language(self) -> str:
        return self.row.language if self.row.language in Language.values else Language.KK


@dataclass(frozen=True)
class PassFile:
    content: bytes
    content_type: str
    filename: str
    count: int


def qr(code: str) -> segno.QRCode:
    # Upper case and digits only: the compact alphanumeric mode; level M survives a
    # crumpled print or a cracked phone screen.
    return segno.make(code, error="m", micro=False)


def qr_png(code: str, *, scale: int = 8) -> bytes:
    out = io.BytesIO()
    qr(code).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def leg_passes(leg: Leg, bookings: QuerySet[Booking] | None = None) -> list[BoardingPass]:
    """The passes of everyone holding a seat on the leg, ordered as the manifest."""
    return _passes(leg, bookings if bookings is not None else Booking.objects.all())


def _passes(leg: Leg, bookings: QuerySet[Booking]) -> list[BoardingPass]:
    rows = manifest_rows(bookings.filter(leg=leg))
    households: dict[int, list[ManifestRow]] = defaultdict(list)
    for row in rows:
        if row.household is not None:
            households[row.household].append(row)
    return [
        BoardingPass(
            leg=leg,
            row=row,
            code=pass_code(booking_id=row.booking_id, leg_id=leg.pk, person_id=row.person_id),
            members=[m for m in households.get(row.household or 0, []) if m is not row],
        )
        for row in rows
    ]


def booking_pass(booking: Booking) -> BoardingPass:
    """The pass of a booking that holds a seat (with its household members on the leg)."""
    if not booking.holds_seat:
        raise Conflict(
            _("This booking no longer holds a seat (%(status)s): it has no boarding pass.")
            % {"status": booking.get_status_display().lower()},
            {"status": booking.status},
        )
    leg = booking.leg
    if booking.household_id is None:
        scope = Booking.objects.filter(pk=booking.pk)
    else:
        scope = Booking.objects.filter(household_id=booking.household_id)
    found = [p for p in _passes(leg, scope) if p.row.booking_id == booking.pk]
    if not found:  # pragma: no cover - holds_seat was checked above
        raise Conflict(_("This booking no longer holds a seat: it has no boarding pass."))
    return found[0]


def render_passes_html(passes: list[BoardingPass]) -> str:
    """One page per pass, each in its passenger's language."""
    pages = []
    for bp in passes:
        leg = bp.leg
        with translation.override(bp.language):
            pages.append(
                render_to_string(
                    "transport/pass_page.html",
                    {
                        "bp": bp,
                        "leg": leg,
                        "origin_code": place_code(leg.origin),
                        "destination_code": place_code(leg.destination),
                        "departure": local_time(leg.departure_planned, leg.origin),
                        # PNG: WeasyPrint draws it faster than the SVG's hundreds of
                        # rectangles.
                        "qr": qr(bp.code).png_data_uri(scale=4, border=4),
                        "lang": bp.language,
                    },
                )
            )
    title = passes[0].leg.number if passes else ""
    return render_to_string("transport/pass_pdf.html", {"pages": pages, "title": title})


def render_passes_pdf(
    passes: list[BoardingPass], progress: Callable[[int], None] | None = None
) -> bytes:
    """The passes as one PDF, a page each; `progress` is told the pages laid out so far."""
    parts = (render_passes_html(passes[i : i + CHUNK]) for i in range(0, len(passes), CHUNK))
    return htmls_to_pdf(parts, progress)


def audit_passes(
    actor: User | None,
    obj: Booking | Leg,
    leg: Leg,
    fmt: str,
    count: int,
    **details: object,
) -> None:
    """A boarding pass, or a leg's passes, handed out (the page, the API, the command)."""
    audit_read(
        actor=actor,
        verb="boarding_pass",
        obj=obj,
        crisis=leg.crisis,
        export=True,
        details={"format": fmt, "count": count, **details},
    )


def booking_pass_export(*, actor: User | None, booking: Booking, fmt: str) -> PassFile:
    """A booking's boarding pass as `png` (the QR code) or `pdf` (the printable pass)."""
    if fmt not in PASS_FORMATS:
        raise ApplicationError(
            _("Unknown boarding-pass format %(format)s: use png or pdf.") % {"format": fmt},
            {"format": ["png, pdf"]},
        )
    bp = booking_pass(booking)
    content = qr_png(bp.code) if fmt == "png" else html_to_pdf(render_passes_html([bp]))
    audit_passes(actor, booking, booking.leg, fmt, 1)
    return PassFile(
        content=content,
        content_type=PASS_FORMATS[fmt][0],
        filename=f"boarding-pass-{bp.row.reference_code}.{PASS_FORMATS[fmt][1]}",
        count=1,
    )


def nobody_holds_a_seat() -> Conflict:
    return Conflict(_("Nobody holds a seat on this leg: there is no boarding pass to print."))


def leg_passes_export(
    *,
    actor: User | None,
    leg: Leg,
    bookings: QuerySet[Booking] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PassFile:
    """Every boarding pass of a leg in one PDF, a pass per page, ordered as the manifest,
    made here and now (the command line; the pages print them in the background:
    `pass_prints`). `progress` is told the pages laid out and the passes to print."""
    passes = leg_passes(leg, bookings)
    if not passes:
        raise nobody_holds_a_seat()
    total = len(passes)
    content = render_passes_pdf(
        passes, (lambda done: progress(done, total)) if progress is not None else None
    )
    audit_passes(actor, leg, leg, "pdf", total)
    return PassFile(
        content=content,
        content_type="application/pdf",
        filename=f"boarding-passes-leg{leg.pk}.pdf",
        count=len(passes),
    )
