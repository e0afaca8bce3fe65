"""The undertaking to repay as a printable PDF, in the person's language: the signed one as
recorded at check-in, or — before check-in — a form with the person's name, the leg and the
amount filled in, to sign. For the leg's page, the gate and the API; every print is audited
(`undertaking_print`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string
from django.templatetags.tz import do_timezone
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aman.core.audit import audit_read
from aman.core.errors import Conflict
from aman.core.models import Crisis, User
from aman.transport import services
from aman.transport.models import Booking, Undertaking
from aman.transport.pdf import html_to_pdf


class NothingToPrint(Conflict):
    """The policy asks no undertaking for the seat and none was signed."""


@dataclass(frozen=True)
class UndertakingFile:
    content: bytes
    content_type: str
    filename: str
    signed: bool


def undertaking_export(*, actor: User | None, booking: Booking, crisis: Crisis) -> UndertakingFile:
    person = booking.person
    signed = Undertaking.objects.filter(booking=booking).select_related("recorded_by").first()
    if signed is not None:
        amount, currency, language = signed.amount, signed.currency, signed.language
    else:
        # A leg without the fare the policy asks for has no amount to print (409).
        needed = services.undertaking_needed(booking, strict=True)
        if needed is None:
            raise NothingToPrint(
                _(
                    "The crisis's policy asks no undertaking to repay for this seat (%(code)s), "
                    "and none was recorded."
                )
                % {"code": person.reference_code_display},
                {"undertaking": None},
            )
        amount, currency = needed
        language = person.language
    audit_read(
        actor=actor,
        verb="undertaking_print",
        obj=signed or booking,
        crisis=crisis,
        export=True,
        details={"booking": booking.pk, "signed": signed is not None},
    )
    with translation.override(language or "kk"):
        html = render_to_string(
            "transport/undertaking_pdf.html",
            {
                "booking": booking,
                "leg": booking.leg,
                "person": person,
                "undertaking": signed,
                # Signed at the gate: on the clock of the place of departure.
                "signed_at": do_timezone(signed.signed_at, booking.leg.origin.zone)
                if signed is not None
                else None,
                "amount": amount,
                "currency": currency,
                "home_country": crisis.home_country,
                "today": timezone.localdate(),
                "language": language,
            },
        )
    kind = "signed" if signed else "form"
    return UndertakingFile(
        content=html_to_pdf(html),
        content_type="application/pdf",
        filename=f"undertaking-{person.reference_code}-{booking.pk}-{kind}.pdf",
        signed=signed is not None,
    )
