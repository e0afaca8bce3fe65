"""The gate: check-in and boarding by scan, on a duty officer's phone or laptop, online or
offline.

- `gate_manifest(leg)`: what the page keeps on the device to answer without the network —
  per booking only what a gate needs (no phones, no document numbers in clear). A boarding
  pass is recognised offline by the SHA-256 of its exact code, a passport by the SHA-256 of
  a per-leg salt and its normalised number (the salt is derived from the server's secret
  and the leg, so it is unpredictable, the same at every download, and different per leg).
- `gate_answer(leg, text)`: one scan (a pass code, the lines of a passport or ID-card zone,
  or a typed reference code) answered from the database: who, which booking, what to do.
- `gate_sync(actor, leg, scans)`: scans recorded on a device applied in order through the
  booking services, each once (the device's scan id is unique in `GateScan`), each with its
  result: applied, already done, conflict, refused or unknown.

Consular cases arrive with the cases app: until it exists the manifest and the answers carry
an empty list of open cases, so the page already has a place for them.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aman.core.audit import audit_read
from aman.core.errors import ApplicationError, Conflict
from aman.core.models import User
from aman.registry.identity import mrz
from aman.registry.models import Document, Person, reference_code_display
from aman.registry.mrz_text import mrz_field_label
from aman.registry.services import document_hash, normalize_reference_code
from aman.registry.triage import GROUPS, explain
from aman.transport import passes, services
from aman.transport.models import (
    HOLDS_SEAT,
    Booking,
    BookingStatus,
    GateScan,
    Leg,
    LegStatus,
    Undertaking,
)

logger = logging.getLogger(__name__)

MANIFEST_VERSION = 1
# At most this many scans in one sync request (a device sends its queue in batches).
SYNC_BATCH = 500
VULNERABILITIES = (
    "unaccompanied_minor",
    "pregnant",
    "medical_need",
    "disability",
    "reduced_mobility",
)
_PERSON_FIELDS = (
    "person__reference_code",
    "person__surname_latin",
    "person__given_names_latin",
    "person__birth_date",
    "person__sex",
    "person__priority",
    "person__priority_reasons",
    *(f"person__{flag}" for flag in VULNERABILITIES),
)
_REF_CODE = re.compile(r"[23456789ABCDEFGHJKMNPQRSTVWXYZ]{8}")
R = GateScan.Result
A = GateScan.Action

# verdict → (level for the page's colour, message). Levels: ok (green), warn (yellow: may
# go, but look), info (blue: nothing to do), stop (red: must not go).
VERDICTS: dict[str, tuple[str, Any]] = {
    "ok": ("ok", gettext_lazy("Booked on this leg.")),
    "checked_in": ("ok", gettext_lazy("Checked in.")),
    "boarded": ("info", gettext_lazy("Already boarded.")),
    "document_expired": ("warn", gettext_lazy("The document expires before departure.")),
    "document_missing": ("warn", gettext_lazy("No travel document on record.")),
    "permit_refused": ("stop", gettext_lazy("Transit permit refused: do not board.")),
    "closed": ("stop", gettext_lazy("Booking %(status)s: not on this leg any more.")),
    "leg_closed": ("stop", gettext_lazy("The leg is %(status)s.")),
    "not_on_leg": ("stop", gettext_lazy("Not on this leg.")),
    "other_leg": ("stop", gettext_lazy("This pass is for another leg: %(leg)s")),
    "invalid_pass": ("stop", gettext_lazy("Not a valid pass.")),
    "unreadable": ("stop", gettext_lazy("The passport zone could not be read: %(problem)s")),
    "unknown": ("stop", gettext_lazy("Nobody on this leg matches the scan.")),
    "ambiguous": (
        "stop",
        gettext_lazy(
            "This document is not on record and several people on this leg have its name and "
            "birth date: find the person by boarding pass or reference code."
        ),
    ),
}


def leg_salt(leg: Leg) -> str:
    """The salt of the leg's document fingerprints."""
    return salted_hmac("aman.transport.gate-salt", f"leg:{leg.pk}", algorithm="sha256").hexdigest()[
        :32
    ]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def document_fingerprint(salt: str, number: str) -> str:
    """SHA-256 of `salt:NUMBER` (letters and digits only, upper case): what the page computes
    from a scanned zone to find the passport offline."""
    normalised = "".join(ch for ch in number.upper() if ch.isalnum())
    return _sha256(f"{salt}:{normalised}")


def pass_fingerprint(code: str) -> str:
    return _sha256(code.strip().upper())


def _departure_day(leg: Leg) -> date:
    return leg.departure_local.date()


def _bookings(leg: Leg) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(leg=leg)
        .select_related("person")
        .only(
            "leg", "status", "seat", "household", "checked_in_at", "boarded_at", "person",
            *_PERSON_FIELDS,
        )
    )  # fmt: skip


def _document_states(
    leg: Leg, person_ids: list[int], salt: str | None
) -> dict[int, dict[str, Any]]:
    """Per person: the document state (missing, expired before departure, ok) with the
    best document's kind and expiry, and the fingerprints of every document (with `salt`)."""
    departure = _departure_day(leg)
    states: dict[int, dict[str, Any]] = {
        pk: {"state": "missing", "kind": "", "expiry": None, "fingerprints": []}
        for pk in person_ids
    }
    fields = ["person_id", "kind", "expiry_date"] + (["number"] if salt else [])
    ranks: dict[int, tuple[int, date]] = {}
    for row in Document.objects.filter(person_id__in=person_ids).values(*fields):
        pk, expiry = row["person_id"], row["expiry_date"]
        state = states[pk]
        if salt:
            state["fingerprints"].append(document_fingerprint(salt, row["number"]))
        # The best document: valid at departure with the latest expiry; then one without an
        # expiry on record (nothing says it is invalid); then the latest expired one.
        rank = (1, date.min) if expiry is None else (2 if expiry >= departure else 0, expiry)
        if pk not in ranks or rank > ranks[pk]:
            ranks[pk] = rank
            state["kind"] = row["kind"]
            state["expiry"] = expiry.isoformat() if expiry else None
            state["state"] = "expired" if rank[0] == 0 else "ok"
    return states


def _undertaking_terms(leg: Leg) -> tuple[str, str] | None:
    # The terms depend on the leg and the crisis only: asked once per leg object (a request).
    if "_gate_terms" not in leg.__dict__:
        needed = services.undertaking_needed(Booking(leg=leg))
        leg.__dict__["_gate_terms"] = (str(needed[0]), needed[1]) if needed else None
    terms: tuple[str, str] | None = leg.__dict__["_gate_terms"]
    return terms


def _entries(leg: Leg, bookings: list[Booking], *, salt: str | None = None) -> list[dict[str, Any]]:
    """The gate's view of bookings, in a fixed number of queries whatever their number."""
    person_ids = [b.person_id for b in bookings]
    documents = _document_states(leg, person_ids, salt)
    # Every answer recorded for the crossing, a refusal above all, even where the crossing
    # is no longer marked as asking for permits: the services refuse the same people.
    permits: dict[int, str | None] = dict(services.permit_state(leg, person_ids))
    terms = _undertaking_terms(leg)
    signed = (
        set(
            Undertaking.objects.filter(booking__in=[b.pk for b in bookings]).values_list(
                "booking_id", flat=True
            )
        )
        if terms
        else set()
    )
    by_household: dict[int, list[int]] = {}
    for b in bookings:
        if b.household_id and b.status in HOLDS_SEAT:
            by_household.setdefault(b.household_id, []).append(b.pk)
    out = []
    for b in bookings:
        p: Person = b.person
        doc = documents[b.person_id]
        entry: dict[str, Any] = {
            "id": b.pk,
            "status": b.status,
            "ref": reference_code_display(p.reference_code),
            "surname": p.surname_latin,
            "given_names": p.given_names_latin,
            "birth_date": p.birth_date.isoformat() if p.birth_date else None,
            "sex": p.sex,
            "priority": p.priority,
            "priority_text": explain(p.priority, p.priority_reasons or []),
            "vulnerable": [flag for flag in VULNERABILITIES if getattr(p, flag)],
            "household": b.household_id,
            "members": [pk for pk in by_household.get(b.household_id or 0, []) if pk != b.pk],
            "seat": b.seat,
            "document": {"state": doc["state"], "kind": doc["kind"], "expiry": doc["expiry"]},
            "permit": permits.get(b.person_id),
            "undertaking": (
                {"amount": terms[0], "currency": terms[1], "signed": b.pk in signed}
                if terms
                else None
            ),
            "checked_in_at": b.checked_in_at.isoformat() if b.checked_in_at else None,
            "boarded_at": b.boarded_at.isoformat() if b.boarded_at else None,
            # Consular cases arrive with the cases app; until then there are none to show.
            "cases": [],
        }
        if salt is not None:
            entry["pass"] = pass_fingerprint(
                passes.pass_code(booking_id=b.pk, leg_id=leg.pk, person_id=b.person_id)
            )
            entry["docs"] = doc["fingerprints"]
        out.append(entry)
    return out


def _current(bookings: list[Booking]) -> list[Booking]:
    """One booking per person: the one holding a seat, else the latest."""
    chosen: dict[int, Booking] = {}
    for b in sorted(bookings, key=lambda b: b.pk):
        held = chosen.get(b.person_id)
        if held is None or not (held.status in HOLDS_SEAT and b.status not in HOLDS_SEAT):
            chosen[b.person_id] = b
    return sorted(chosen.values(), key=lambda b: b.pk)


def leg_summary(leg: Leg) -> dict[str, Any]:
    return {
        "id": leg.pk,
        "label": str(leg),
        "status": leg.status,
        "status_label": leg.get_status_display(),
        "closed": leg.closed,
        "departure": leg.departure_planned.isoformat(),
        "departure_day": _departure_day(leg).isoformat(),
    }


def gate_manifest(leg: Leg) -> dict[str, Any]:
    """Everything the page needs to answer scans of this leg without the network."""
    salt = leg_salt(leg)
    bookings = _current(list(_bookings(leg)))
    return {
        "version": MANIFEST_VERSION,
        "generated_at": timezone.now().isoformat(),
        "leg": leg_summary(leg),
        "salt": salt,
        "bookings": _entries(leg, bookings, salt=salt),
    }


# Resolving a scan ----------------------------------------------------------------------------


@dataclass
class Resolution:
    kind: str  # GateScan.Kind
    verdict: str
    booking: Booking | None = None
    params: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    scanned_expiry: date | None = None
    # The booking first, then the members of its household holding seats on the leg.
    group: list[Booking] = field(default_factory=list)
    # The leg as a check-in or boarding left it (None: the request's leg).
    leg: Leg | None = None


def _looks_like_mrz(text: str) -> bool:
    return "<" in text and len(re.sub(r"\s", "", text)) >= 60


def scan_kind(text: str) -> str:
    if passes.looks_like_pass(text):
        return GateScan.Kind.QR
    if _looks_like_mrz(text):
        return GateScan.Kind.MRZ
    return GateScan.Kind.MANUAL


def _group(leg: Leg, res: Resolution, match: Q) -> Resolution:
    """The booking on the leg that `match` finds (one holding a seat first), then the members
    of its household holding seats on the leg. Two queries, each driven by an index (the
    booking's key, a person's, a document's hash, the household), whatever the size of the
    leg or of the registry."""
    hits = _current(list(_bookings(leg).filter(match).order_by()))
    held = [b for b in hits if b.status in HOLDS_SEAT] or hits
    if not held:
        res.verdict = res.verdict or "not_on_leg"
        return res
    res.booking = booking = held[0]
    res.verdict = ""
    members: list[Booking] = []
    if booking.household_id:
        members = list(
            _bookings(leg)
            .filter(household=booking.household_id, status__in=HOLDS_SEAT)
            .exclude(pk=booking.pk)
            .order_by("pk")
        )
    res.group = [booking, *members]
    return res


def _resolve_pass(leg: Leg, text: str) -> Resolution:
    res = Resolution(GateScan.Kind.QR, "invalid_pass")
    try:
        code, signature = passes.parse_pass(text)
    except passes.BadPass:
        return res
    if code.leg_id == leg.pk:
        _group(leg, res, Q(pk=code.booking_id))
        if res.booking is not None and not passes.verify(code, signature, res.booking.person_id):
            res.booking, res.group, res.verdict = None, [], "invalid_pass"
        return res
    other = (
        Booking.objects.select_related("leg", "leg__origin", "leg__destination")
        .filter(pk=code.booking_id, leg=code.leg_id)
        .first()
    )
    if other is not None and passes.verify(code, signature, other.person_id):
        label = str(other.leg) if other.crisis_id == leg.crisis_id else f"#{code.leg_id}"
        res.verdict, res.params = "other_leg", {"leg": label}
    return res


def _resolve_zone(leg: Leg, text: str) -> Resolution:
    res = Resolution(GateScan.Kind.MRZ, "")
    try:
        zone = mrz.parse_mrz(text)
    except mrz.MrzError as exc:
        # The field that failed, not the message: it may quote the document number.
        res.verdict, res.params = "unreadable", {"problem": mrz_field_label(exc.field)}
        return res
    res.scanned_expiry = zone.expiry_date
    digest = document_hash(zone.document_number)
    holders = Document.objects.filter(number_hash=digest).values("person_id")
    _group(leg, res, Q(person__in=holders))
    if res.booking is None and zone.birth_date:
        # A document not on record (renewed, or a certificate of return): the same passport
        # name and birth date on this leg, and said so.
        # Given names too (a zone may cut them short): twins share the rest. Two people
        # found: the officer is asked to find the person otherwise, never one picked.
        match = Q(person__birth_date=zone.birth_date, person__surname_latin=zone.surname)
        if zone.given_names:
            match &= Q(person__given_names_latin__startswith=zone.given_names)
        people = set(
            _bookings(leg)
            .filter(match)
            .order_by()
            .values_list("person_id", flat=True)
            .distinct()[:2]
        )
        if len(people) > 1:
            res.verdict = "ambiguous"
            return res
        if people:
            _group(leg, res, match)
        if res.booking is not None:
            res.warnings.append(
                _("This document is not on record: matched by passport name and birth date.")
            )
    if res.booking is None:
        known = Document.objects.filter(number_hash=digest).exists()
        res.verdict = "not_on_leg" if known else "unknown"
    return res


def _resolve(leg: Leg, text: str) -> Resolution:
    text = (text or "").strip()
    kind = scan_kind(text)
    if kind == GateScan.Kind.QR:
        return _resolve_pass(leg, text)
    if kind == GateScan.Kind.MRZ:
        return _resolve_zone(leg, text)
    res = Resolution(kind, "unknown")
    ref = normalize_reference_code(text)
    if not _REF_CODE.fullmatch(ref):
        return res
    _group(leg, res, Q(person__in=Person.objects.filter(reference_code=ref).values("pk")))
    if res.booking is None:
        known = Person.objects.filter(reference_code=ref).exists()
        res.verdict = "not_on_leg" if known else "unknown"
    return res


def _by_booking(leg: Leg, booking_id: Any, kind: str) -> Resolution:
    res = Resolution(kind, "unknown")
    try:
        pk = int(booking_id)
    except (TypeError, ValueError):
        return res
    if not 0 < pk < 2**63:
        return res
    _group(leg, res, Q(pk=pk))
    if res.booking is None:
        res.verdict = "unknown"
    return res


def _verdict(leg: Leg, res: Resolution, entry: dict[str, Any], acted: bool) -> str:
    """The one word for the page's colour, the most serious first. After a check-in or a
    boarding (`acted`) the new status is not news: only what still needs a look is said."""
    booking = res.booking
    assert booking is not None
    if acted:
        pass
    elif booking.status not in HOLDS_SEAT:
        res.params["status"] = BookingStatus(booking.status).label.lower()
        return "closed"
    elif booking.status == BookingStatus.BOARDED:
        return "boarded"
    elif leg.closed:
        res.params["status"] = leg.get_status_display().lower()
        return "leg_closed"
    if entry["permit"] == "refused":
        return "permit_refused"
    departure = _departure_day(leg)
    if res.scanned_expiry is not None and res.scanned_expiry < departure:
        return "document_expired"
    if entry["document"]["state"] == "expired":
        return "document_expired"
    if entry["document"]["state"] == "missing" and res.kind != GateScan.Kind.MRZ:
        return "document_missing"
    return "checked_in" if booking.status == BookingStatus.CHECKED_IN and not acted else "ok"


def _warnings(leg: Leg, res: Resolution, entry: dict[str, Any]) -> list[str]:
    out = list(res.warnings)
    doc = entry["document"]
    if res.scanned_expiry is not None and res.scanned_expiry < _departure_day(leg):
        out.append(
            _("The scanned document expires on %(day)s, before departure.")
            % {"day": res.scanned_expiry.isoformat()}
        )
    elif doc["state"] == "expired":
        out.append(
            _("The document on record expired on %(day)s, before departure.")
            % {"day": doc["expiry"]}
        )
    elif doc["state"] == "missing" and res.kind != GateScan.Kind.MRZ:
        out.append(_("No travel document on record: see the person's papers."))
    if entry["permit"] in ("pending", "missing"):
        out.append(_("The transit permit has not been granted yet."))
    elif entry["permit"] == "refused":
        out.append(_("The transit permit was refused: the person must not board."))
    terms = entry["undertaking"]
    if terms and not terms["signed"] and entry["status"] in ("offered", "confirmed"):
        out.append(
            _("An undertaking to repay %(amount)s %(currency)s must be signed at check-in.")
            % {"amount": terms["amount"], "currency": terms["currency"]}
        )
    if entry["vulnerable"]:
        out.append(
            _("Needs: %(needs)s.")
            % {"needs": ", ".join(str(GROUPS[f]) for f in entry["vulnerable"])}
        )
    return out


def _answer(leg: Leg, res: Resolution, *, acted: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {"kind": res.kind, "leg": leg.pk}
    if res.booking is None:
        level, message = VERDICTS[res.verdict]
        answer.update(
            verdict=res.verdict,
            level=level,
            message=str(message) % res.params if res.params else str(message),
            booking=None,
            household=[],
            warnings=res.warnings,
        )
        return answer
    entries = _entries(leg, res.group or [res.booking])
    entry = entries[0]
    res.verdict = _verdict(leg, res, entry, acted)
    level, message = VERDICTS[res.verdict]
    answer.update(
        verdict=res.verdict,
        level=level,
        message=str(message) % res.params if res.params else str(message),
        booking=entry,
        household=[
            {k: e[k] for k in ("id", "ref", "surname", "given_names", "status", "seat")}
            for e in entries[1:]
        ],
        warnings=_warnings(leg, res, entry),
    )
    return answer


def gate_answer(leg: Leg, text: str) -> dict[str, Any]:
    """The answer to one scan (pass code, zone lines or reference code)."""
    return _answer(leg, _resolve(leg, text))


# Applying scans ------------------------------------------------------------------------------

RESULT_OF_TARGET: dict[str, tuple[str, ...]] = {
    A.CHECK_IN: (BookingStatus.CHECKED_IN, BookingStatus.BOARDED),
    A.BOARD: (BookingStatus.BOARDED,),
}


def _at(value: Any) -> datetime:
    parsed = None
    if isinstance(value, str) and value:
        try:
            parsed = parse_datetime(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
    now = timezone.now()
    if parsed is None:
        return now
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return min(parsed, now)


def _act(
    actor: User | None, leg: Leg, res: Resolution, action: str, signed_by: str, offline: bool,
    at: datetime, seat: str = "",
) -> tuple[str, str]:  # fmt: skip
    """Apply the action to the resolved booking: (result, message)."""
    if res.booking is None:
        return R.UNKNOWN, _answer(leg, res)["message"]
    if action == A.LOOKUP:
        return R.APPLIED, ""
    refused = R.CONFLICT if offline else R.REFUSED
    booking = res.booking
    if booking.status in RESULT_OF_TARGET[action]:
        return R.ALREADY, _already(booking, leg)
    if (
        offline
        and action == A.BOARD
        and booking.status == BookingStatus.NO_SHOW
        and leg.status in (LegStatus.DEPARTED, LegStatus.ARRIVED)
    ):
        # Boarded while the device was offline; the departure, recorded before the scan
        # arrived, made the person a no-show. The person is on board: say so.
        try:
            done = services.booking_board_before_departure(
                actor=actor,
                booking=booking,
                at=at,
                note=_(
                    "boarded at the gate, recorded offline at %(time)s, synchronised after "
                    "departure"
                )
                % {"time": timezone.localtime(at, leg.origin.zone).strftime("%Y-%m-%d %H:%M:%S")},
            )
        except Conflict as exc:
            return refused, exc.message
        booking.status, booking.boarded_at = done.status, done.boarded_at
        return R.APPLIED, _("Boarded before departure: the no-show is corrected.")
    if booking.status not in HOLDS_SEAT:
        label = BookingStatus(booking.status).label.lower()
        if offline:
            return refused, _(
                "The booking was %(status)s on the server meanwhile: the person must not board."
            ) % {"status": label}
        return refused, _("The booking is %(status)s.") % {"status": label}
    note = (
        _("gate scan recorded offline at %(time)s")
        % {"time": timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S")}
        if offline
        else ""
    )
    # The services lock the leg and read it afresh; its places and crisis, which the request
    # has already read, are taken from here.
    booking.leg = leg
    try:
        if action == A.CHECK_IN:
            done = services.booking_check_in(
                actor=actor,
                booking=booking,
                undertaking_signed_by=signed_by,
                note=note,
                seat=seat,
                at=at if offline else None,
            )
            message = _("Checked in.")
        else:
            done = services.booking_board(
                actor=actor,
                booking=booking,
                undertaking_signed_by=signed_by,
                note=note,
                seat=seat,
                at=at if offline else None,
            )
            message = _("Boarded.")
    except Conflict as exc:
        # Another device may have done it a moment ago: then it is done, not a conflict.
        fresh = Booking.objects.filter(pk=booking.pk).only("status", "checked_in_at", "boarded_at")
        current = fresh.first()
        if current is not None and current.status in RESULT_OF_TARGET[action]:
            return R.ALREADY, _already(current, leg)
        return refused, exc.message
    except ApplicationError as exc:
        return refused, exc.message
    booking.status, booking.seat = done.status, done.seat
    booking.checked_in_at, booking.boarded_at = done.checked_in_at, done.boarded_at
    # The answer is given with the leg as the service read it under its lock (and with the
    # crisis's transport policy it may have read already).
    res.leg = done.leg
    return R.APPLIED, message


def _already(booking: Booking, leg: Leg) -> str:
    """Said when a scan finds it done: when, on the clock of the place of departure (the
    gate's own), not the server's."""
    status = booking.status
    when = booking.boarded_at if status == BookingStatus.BOARDED else booking.checked_in_at
    label = BookingStatus(status).label.lower()
    if when is None:
        return _("Already %(status)s.") % {"status": label}
    return _("Already %(status)s at %(time)s.") % {
        "status": label,
        "time": timezone.localtime(when, leg.origin.zone).strftime("%H:%M"),
    }


def _stored(scan: GateScan) -> dict[str, Any]:
    return {
        "id": scan.client_id,
        "result": scan.result,
        "message": scan.message,
        "booking": scan.booking_id,
        "status": scan.booking.status if scan.booking else None,
        "repeated": True,
    }


def gate_scan_apply(
    *, actor: User | None, leg: Leg, scan: dict[str, Any]
) -> tuple[dict[str, Any], Resolution | None]:
    """One scan, once: its result (stored, so a scan sent again gets its first result) and
    the resolution (None when the scan was seen before or is malformed)."""
    client_id = str(scan.get("id") or "").strip()[:64]
    action = scan.get("action") or A.LOOKUP
    if not client_id or action not in A.values:
        return {
            "id": client_id,
            "result": R.UNKNOWN,
            "message": _("A scan needs an id and an action (check_in, board)."),
            "booking": None,
            "status": None,
        }, None
    text = str(scan.get("text") or "")[:300]
    offline = bool(scan.get("offline"))
    kind = scan_kind(text) if text else str(scan.get("kind") or GateScan.Kind.MANUAL)
    if kind not in GateScan.Kind.values:
        kind = GateScan.Kind.MANUAL
    at = _at(scan.get("at"))
    signed_by = str(scan.get("undertaking_signed_by") or "")[:200]
    seat = str(scan.get("seat") or "")[:8]  # given at check-in (or boarding), optional
    try:
        with transaction.atomic():
            res = _resolve(leg, text) if text else _by_booking(leg, scan.get("booking"), kind)
            result, message = _act(actor, leg, res, action, signed_by, offline, at, seat)
            row = GateScan.objects.create(
                leg=leg,
                booking_id=res.booking.pk if res.booking else None,
                client_id=client_id,
                kind=kind,
                action=action,
                result=result,
                message=message[:500],
                scanned_at=at,
                offline=offline,
                officer=actor if actor is not None and actor.pk else None,
            )
    except IntegrityError:
        # A scan sent again (its answer was lost, or two requests crossed): whatever this
        # attempt did is undone, and the first one's result stands.
        seen = GateScan.objects.select_related("booking").filter(client_id=client_id).first()
        if seen is None:
            raise
        if seen.leg_id != leg.pk:
            # A device's id for a scan of another leg: not this leg's business.
            return {
                "id": client_id,
                "result": R.UNKNOWN,
                "message": _("This scan was recorded for another leg."),
                "booking": None,
                "status": None,
            }, None
        return _stored(seen), None
    return {
        "id": client_id,
        "result": row.result,
        "message": row.message,
        "booking": row.booking_id,
        "status": res.booking.status if res.booking else None,
    }, res


def gate_scan_answer(leg: Leg, res: Resolution | None, result: dict[str, Any]) -> dict[str, Any]:
    """The answer shown after a scan was applied (the booking's state after it)."""
    acted = result["result"] == R.APPLIED and bool(result.get("message"))
    if res is None:
        if result.get("booking"):
            res = _by_booking(leg, result["booking"], GateScan.Kind.MANUAL)
        else:
            res = Resolution(GateScan.Kind.MANUAL, "unknown")
    return _answer(res.leg or leg, res, acted=acted)


def gate_manifest_export(*, actor: User | None, leg: Leg) -> dict[str, Any]:
    """The leg's manifest for a device (`gate_manifest`), audited as an export: the gate
    page's download and the API's."""
    manifest = gate_manifest(leg)
    audit_read(
        actor=actor,
        verb="gate_manifest",
        obj=leg,
        crisis=leg.crisis,
        export=True,
        details={"bookings": len(manifest["bookings"])},
    )
    return manifest


def gate_scan_online(*, actor: User | None, leg: Leg, scan: dict[str, Any]) -> dict[str, Any]:
    """One scan sent as it was made (the gate page's and the API's): applied once
    (`gate_scan_apply`) and answered (`gate_scan_answer`); the answer shows a person, so its
    read is audited."""
    scan = {"offline": False, **scan}
    result, res = gate_scan_apply(actor=actor, leg=leg, scan=scan)
    answer = gate_scan_answer(leg, res, result)
    if answer["booking"] is not None:
        audit_read(
            actor=actor,
            verb="gate_scan",
            object_type="transport.booking",
            object_id=answer["booking"]["id"],
            crisis=leg.crisis,
            details={"kind": answer["kind"], "result": result["result"]},
        )
    return {"result": result, "answer": answer}


def gate_sync(*, actor: User | None, leg: Leg, scans: list[Any]) -> list[dict[str, Any]]:
    """Scans recorded on a device, applied in their order; one result per scan."""
    if not isinstance(scans, list):
        raise ApplicationError(_("Send a list of scans."))
    if len(scans) > SYNC_BATCH:
        raise ApplicationError(
            _("At most %(n)d scans at once; send the rest next.") % {"n": SYNC_BATCH}
        )
    results = []
    for scan in scans:
        if not isinstance(scan, dict):
            results.append(
                {"id": "", "result": R.UNKNOWN, "message": _("Not a scan."), "booking": None}
            )
            continue
        try:
            result, _res = gate_scan_apply(actor=actor, leg=leg, scan=scan)
        except (ValueError, TypeError, ArithmeticError, DatabaseError):
            # One scan the server cannot read must not hold back the device's queue: it is
            # answered (and shown as a conflict on the device), the others go through.
            logger.exception("gate scan could not be applied (leg %s)", leg.pk)
            result = {
                "id": str(scan.get("id") or "")[:64],
                "result": R.CONFLICT,
                "message": _("The server could not read this scan; check the person by hand."),
                "booking": None,
                "status": None,
            }
        results.append(result)
    return results
