"""Transit permits (per crossing and day: the list of people, its submission, the entry
state's answer per person) and the crisis's cost-recovery policy."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from aman.api.idempotency import idempotent
from aman.api.routers.registry import ERRORS, _crisis, _user
from aman.core import access
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError
from aman.core.ids import is_id
from aman.core.models import User
from aman.core.roles import Cap
from aman.geo.models import Place
from aman.registry.services import normalize_reference_code
from aman.transport import selectors, services
from aman.transport import selectors_permits as permits
from aman.transport.models import PermitDecision, PermitList

router = Router(tags=["transit permits"])


class CrossingRef(Schema):
    id: int
    code: str
    name: str
    country: str = Field(validation_alias="country.code")
    entry_country: str | None = None
    transit_permit: str

    @staticmethod
    def resolve_entry_country(obj: Place) -> str | None:
        return obj.entry_country.code if obj.entry_country_id and obj.entry_country else None


class PermitListOut(Schema):
    id: int
    crisis_id: int
    crossing: CrossingRef
    day: date
    status: str
    reference: str
    submitted_at: datetime | None
    submitted_by: str | None
    created_at: datetime
    people: int = Field(validation_alias="n")
    approved: int = Field(validation_alias="n_approved")
    refused: int = Field(validation_alias="n_refused")
    pending: int = Field(validation_alias="n_pending")

    @staticmethod
    def resolve_submitted_by(obj: PermitList) -> str | None:
        return obj.submitted_by.username if obj.submitted_by else None


class PermitDocumentOut(Schema):
    kind: str
    number_masked: str = Field(description="the last three characters only")
    issuing_state: str
    expiry_date: date | None


class PermitBookingOut(Schema):
    id: int
    leg_id: int
    status: str


class PermitEntryOut(Schema):
    id: int
    person_id: int
    reference_code: str
    surname_latin: str
    given_names_latin: str
    birth_date: date | None
    sex: str
    nationalities: list[str]
    document: PermitDocumentOut | None
    decision: str
    decided_at: datetime | None
    note: str
    bookings: list[PermitBookingOut] = Field(
        description="seats held on legs reaching the crossing on the list's day; "
        "a refused person cannot board them"
    )


class PermitListDetailOut(PermitListOut):
    entries: list[PermitEntryOut]

    @staticmethod
    def resolve_entries(obj: Any) -> list[dict[str, Any]]:
        return obj.entry_rows


class PermitBuildIn(Schema):
    crossing: str = Field(description="the crossing's id or its code, e.g. IR-AZ-ASTARA")
    day: date = Field(description="the day of crossing (local time of the crisis centre)")


class PermitSubmitIn(Schema):
    reference: str = Field("", max_length=200, description="the entry state's reference")


class PermitAnswerIn(Schema):
    entry: int | None = Field(None, description="the entry's id on this list")
    person: str | None = Field(None, description="or the person's reference code")
    decision: PermitDecision


class PermitAnswersIn(Schema):
    answers: list[PermitAnswerIn] = Field(min_length=1, max_length=5000)
    note: str = Field("", max_length=300)


class PermitAnswersOut(Schema):
    changed: int
    permit_list: PermitListDetailOut


class TransportPolicyIO(Schema):
    cost_recovery: bool
    amount_rule: Literal["fare", "fixed"] = Field(
        "fare", description="fare: the leg's economy fare; fixed: fixed_amount"
    )
    fixed_amount: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=2)
    currency: str = Field("KZT", min_length=3, max_length=3)
    flights_only: bool = True


# Helpers -----------------------------------------------------------------------------------------


def _entry_out(row: permits.EntryRow) -> dict[str, Any]:
    doc = row.document
    return {
        "id": row.entry.pk,
        "person_id": row.person.pk,
        "reference_code": row.person.reference_code,
        "surname_latin": row.surname_latin,
        "given_names_latin": row.given_names_latin,
        "birth_date": row.person.birth_date,
        "sex": row.person.sex,
        "nationalities": list(row.person.nationalities or []),
        "document": (
            {
                "kind": doc.kind,
                "number_masked": row.document_masked,
                "issuing_state": doc.issuing_state,
                "expiry_date": doc.expiry_date,
            }
            if doc
            else None
        ),
        "decision": row.entry.decision,
        "decided_at": row.entry.decided_at,
        "note": row.entry.note,
        "bookings": [{"id": b.pk, "leg_id": b.leg_id, "status": b.status} for b in row.bookings],
    }


def _detail(user: User, pk: int, *, audit: bool = True) -> PermitList:
    """A list with its people (`entry_rows`), as the API answers it; a read of personal
    data, audited."""
    found = permits.permit_lists_for_user(user=user, crisis=_list_crisis(user, pk)).get(pk=pk)
    rows = permits.permit_entries(found)
    if audit:
        audit_read(
            actor=user,
            verb="permit_detail",
            obj=found,
            crisis=found.crisis,
            details={"people": len(rows)},
        )
    found.entry_rows = [_entry_out(r) for r in rows]  # type: ignore[attr-defined]
    return found


def _list_crisis(user: User, pk: int) -> Any:
    crisis_id = PermitList.objects.filter(pk=pk).values_list("crisis_id", flat=True).first()
    if crisis_id is None:
        raise Http404
    return access.crisis_for_user(user, crisis_id)


def _permit_list(user: User, pk: int) -> PermitList:
    permits.require_permits(user)
    return permits.permit_list_for_user(user=user, crisis=_list_crisis(user, pk), pk=pk)


def _crossing(value: str) -> Place:
    text = value.strip()
    found = None
    if is_id(text):
        found = Place.objects.filter(pk=int(text)).first()
    if found is None:
        found = Place.objects.filter(kind=Place.Kind.CROSSING, code__iexact=text).first()
    if found is None and text:
        # Another kind of place (an airport code, a city): named so, to say it is no crossing.
        found = Place.objects.filter(
            Q(code__iexact=text) | Q(iata__iexact=text) | Q(icao__iexact=text)
        ).first()
    if found is None:
        raise ApplicationError(
            _("No crossing “%(value)s”: give the crossing's id or its code.")
            % {"value": text[:60]},
            {"errors": {"crossing": [_("Unknown crossing.")]}},
        )
    if found.kind != Place.Kind.CROSSING:
        raise ApplicationError(
            _("Transit permits are asked for at border crossings."),
            {"errors": {"crossing": [_("Not a border crossing.")]}},
        )
    return found


# Transit permits ---------------------------------------------------------------------------------


class PermitFilter(Schema):
    crisis: int | None = None
    crossing: str = ""
    day: date | None = None
    status: PermitList.Status | None = None


@router.get(
    "/permits",
    response=list[PermitListOut],
    summary="Transit permit lists of a crisis, latest day first",
)
@paginate(LimitOffsetPagination)
def permit_list_list(request: HttpRequest, filters: Query[PermitFilter]) -> Any:
    user = _user(request)
    permits.require_permits(user)
    crisis = _crisis(user, filters.crisis)
    qs = permits.permit_lists_for_user(user=user, crisis=crisis)
    text = filters.crossing.strip()
    if is_id(text):
        qs = qs.filter(crossing_id=int(text))
    elif text:
        qs = qs.filter(crossing__code__iexact=text)
    if filters.day:
        qs = qs.filter(day=filters.day)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs


@router.post(
    "/permits",
    response={201: PermitListDetailOut, 200: PermitListDetailOut, **ERRORS},
    summary="Build (or bring up to date) the list for a crossing and a day",
    description="Everyone holding a seat on the crisis's legs that reach the crossing that "
    "day is put on the list as pending; answers already recorded are kept. 201 when the "
    "list is new, 200 when it existed. A place that is not a border crossing is refused "
    "(400); a crossing whose entry state is not known to want permits is accepted. Send "
    "`Idempotency-Key`.",
)
def permit_list_build(
    request: HttpRequest, payload: PermitBuildIn, crisis: int | None = None
) -> Any:
    user = _user(request)
    permits.require_permits(user)
    the_crisis = _crisis(user, crisis)

    def create() -> tuple[int, Any]:
        crossing = _crossing(payload.crossing)
        existed = PermitList.objects.filter(
            crisis=the_crisis, crossing=crossing, day=payload.day
        ).exists()
        built = services.permit_list_build(
            actor=user, crisis=the_crisis, crossing=crossing, day=payload.day
        )
        body = PermitListDetailOut.from_orm(_detail(user, built.pk)).model_dump(mode="json")
        return (200 if existed else 201), body

    return idempotent(request, user, payload.model_dump(mode="json"), create)


@router.get(
    "/permits/{permit_list_id}",
    response={200: PermitListDetailOut, **ERRORS},
    summary="A transit permit list with its people (document numbers masked) and answers",
)
def permit_list_get(request: HttpRequest, permit_list_id: int) -> Any:
    user = _user(request)
    _permit_list(user, permit_list_id)
    return _detail(user, permit_list_id)


@router.post(
    "/permits/{permit_list_id}/submit",
    response={200: PermitListDetailOut, **ERRORS},
    summary="Record that the list was sent to the entry state (with the state's reference)",
)
def permit_list_submit(
    request: HttpRequest, permit_list_id: int, payload: PermitSubmitIn | None = None
) -> Any:
    user = _user(request)
    found = _permit_list(user, permit_list_id)
    services.permit_list_submit(
        actor=user, permit_list=found, reference=payload.reference if payload else ""
    )
    return _detail(user, found.pk, audit=False)


@router.post(
    "/permits/{permit_list_id}/answers",
    response={200: PermitAnswersOut, **ERRORS},
    summary="Record the entry state's answer per person (approved, refused or pending)",
    description="Name each person by the entry's id on this list or by their reference "
    "code. A refused person cannot be booked on, checked in to or boarded onto a leg that "
    "reaches the crossing that day.",
)
def permit_list_answers(request: HttpRequest, permit_list_id: int, payload: PermitAnswersIn) -> Any:
    user = _user(request)
    found = _permit_list(user, permit_list_id)
    by_code = {code: pk for pk, code in found.entries.values_list("pk", "person__reference_code")}
    answers: dict[int, str] = {}
    unknown: list[str] = []
    for i, answer in enumerate(payload.answers):
        if (answer.entry is None) == (answer.person is None):
            raise ApplicationError(
                _("Name each person by entry or by reference code (one of the two)."),
                {"errors": {f"answers.{i}": [_("entry or person, not both, not neither")]}},
            )
        if answer.entry is not None:
            answers[answer.entry] = answer.decision.value
            continue
        code = normalize_reference_code(answer.person or "")
        if code not in by_code:
            unknown.append((answer.person or "")[:20])
            continue
        answers[by_code[code]] = answer.decision.value
    if unknown:
        raise ApplicationError(
            _("Not on this list: %(people)s.") % {"people": ", ".join(unknown)},
            {"people": unknown},
        )
    changed = services.permit_answer(
        actor=user, permit_list=found, answers=answers, note=payload.note
    )
    return {"changed": changed, "permit_list": _detail(user, found.pk, audit=False)}


# The crisis's transport policy -------------------------------------------------------------------


def _policy_out(policy: Any) -> dict[str, Any]:
    return {
        "cost_recovery": policy.cost_recovery,
        "amount_rule": policy.amount_rule,
        "fixed_amount": policy.fixed_amount,
        "currency": policy.currency,
        "flights_only": policy.flights_only,
    }


@router.get(
    "/crises/{crisis_id}/transport-policy",
    response={200: TransportPolicyIO, **ERRORS},
    tags=["crises"],
    summary="Cost recovery: whether people sign an undertaking to repay, and how much",
)
def transport_policy_get(request: HttpRequest, crisis_id: int) -> Any:
    user = _user(request)
    selectors.require_transport(user, boarding=True)
    crisis = access.crisis_for_user(user, crisis_id)
    return _policy_out(permits.transport_policy(crisis))


@router.put(
    "/crises/{crisis_id}/transport-policy",
    response={200: TransportPolicyIO, **ERRORS},
    tags=["crises"],
    summary="Set the cost-recovery policy (crisis managers)",
    description="With `amount_rule` fixed and `cost_recovery` on, `fixed_amount` is "
    "required. Undertakings already signed keep their amount.",
)
def transport_policy_put(request: HttpRequest, crisis_id: int, payload: TransportPolicyIO) -> Any:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)
    crisis = access.crisis_for_user(user, crisis_id)
    policy = services.transport_policy_set(
        actor=user,
        crisis=crisis,
        cost_recovery=payload.cost_recovery,
        amount_rule=payload.amount_rule,
        fixed_amount=payload.fixed_amount,
        currency=payload.currency,
        flights_only=payload.flights_only,
    )
    return _policy_out(policy)
