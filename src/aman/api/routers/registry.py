from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Body, Field, Query, Router, Schema
from ninja import Status as Respond
from ninja.pagination import paginate

from aman.api.idempotency import HEADER, idempotent, registration_key, require_same_payload
from aman.api.pagination import CappedLimitOffsetPagination
from aman.api.schemas import (
    ErrorItem,
    ErrorOut,
    HouseholdOut,
    PersonCorrectedOut,
    PersonDetailOut,
    PersonOut,
    PolicyIn,
    PolicyOut,
    RegistrationOut,
    RegistrationStatusOut,
    StatusIn,
)
from aman.core import access
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError, NotFound
from aman.core.models import Crisis, User
from aman.core.paging import capped_count
from aman.core.roles import Cap
from aman.core.text import PlainText
from aman.registry import selectors, services
from aman.registry.models import (
    Channel,
    Eligibility,
    Household,
    IntakeRecord,
    Intent,
    Person,
    PriorityPolicy,
)
from aman.registry.schemas import HouseholdPatchIn, PersonPatchIn, RegistrationIn
from aman.registry.statuses import Status

router = Router(tags=["registry"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def _crisis(user: User, crisis_id: int | None, *, hot: bool = False) -> Crisis:
    if crisis_id is not None and hot:
        return access.crisis_for_user_hot(user, crisis_id)
    if crisis_id is None:
        crisis = access.current_crisis(user)
        if crisis is None:
            raise ApplicationError(
                _("Say which crisis: ?crisis=ID (or choose a current crisis in the UI)."),
                {"crisis": [_("This field is required.")]},
            )
        return crisis
    return access.crisis_for_user(user, crisis_id)


def _choice(field: str, value: str, choices: list[str]) -> str:
    """A filter's value, refused with the allowed values (400) when it is not one of them."""
    if value and value not in choices:
        raise ApplicationError(
            _("Unknown %(field)s “%(value)s”: use one of %(allowed)s.")
            % {"field": field, "value": value[:50], "allowed": ", ".join(choices)},
            {"field": field, "allowed": choices},
        )
    return value


def _one_of(choices: list[str]) -> Any:
    return Field("", description="one of: " + ", ".join(choices))


@router.post(
    "/registrations",
    response={201: RegistrationOut, 200: RegistrationOut, 202: RegistrationStatusOut, **ERRORS},
    summary="Register one household with all its members",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RegistrationIn.model_json_schema()}},
        }
    },
    description="The same payload as the public form. Send `Idempotency-Key`: a retried "
    "request returns the first result (200) and creates nothing new. A rejected payload is "
    "kept with its reasons; the 400 answer names the intake record.\n\n"
    "In a surge send `Prefer: respond-async`: the registration is taken into a queue and "
    "answered at once (202) with the intake record and a reference code reserved for each "
    "member; it is registered within seconds, with the same checks. "
    "`GET /api/registrations/{id}` says what became of it (`pending`, `accepted` with the "
    "people, or `rejected` with the errors). A retry with the same key answers 202 with the "
    "current state.\n\n"
    "`?corrects=` names the rejected registration (`GET /api/registrations?outcome=rejected`) "
    "that this one corrects: the rejected record then lists it, and `to_correct=true` no "
    "longer lists the rejected one once its correction is accepted.",
)
def registration_create(
    request: HttpRequest,
    payload: Body[dict[str, Any]],
    crisis: int | None = None,
    corrects: int | None = None,
) -> Any:
    user = _user(request)
    access.require(user, Cap.REGISTER)
    queued = "respond-async" in request.headers.get("Prefer", "")
    the_crisis = _crisis(user, crisis, hot=queued)
    key = registration_key(request, user)
    corrected = (
        selectors.corrected_record(user=user, crisis=the_crisis, pk=corrects)
        if corrects is not None
        else None
    )
    if queued:
        taken = services.registration_accept(
            crisis=the_crisis,
            submission=services.Submission(
                payload=payload,
                channel=Channel.API,
                actor=user,
                idempotency_key=key,
                source=f"api:{user.username}",
                corrects=corrected,
            ),
        )
        if taken.repeated:
            require_same_payload(taken.record.payload, payload, request.headers.get(HEADER, ""))
        if taken.problems:
            raise services.RegistrationRejected(taken.record, taken.problems)
        return Respond(202, _registration_status(user, taken.record))
    outcome = services.registrations_submit(
        crisis=the_crisis,
        submissions=[
            services.Submission(
                payload=payload,
                channel=Channel.API,
                actor=user,
                idempotency_key=key,
                source=f"api:{user.username}",
                corrects=corrected,
            )
        ],
    )[0]
    record = outcome.record
    if outcome.repeated:
        require_same_payload(record.payload, payload, request.headers.get(HEADER, ""))
    if outcome.problems:
        raise services.RegistrationRejected(record, outcome.problems)
    if outcome.repeated:
        if record.outcome == record.Outcome.PENDING:
            # Taken into the queue by the first request (`Prefer: respond-async`), retried
            # without it before the background run: answered as the queue answers.
            return Respond(202, _registration_status(user, record))
        if record.outcome != record.Outcome.ACCEPTED:
            raise services.RegistrationRejected(
                record, [services.Problem(f, m) for f, m in record.rejection_reasons.items()]
            )
        # The key is the user's own (`registration_key`): this is the user's registration,
        # answered as the first time — through the user's present access when it reads
        # personal data.
        seen = (
            selectors.people_for_user(user=user, crisis=record.crisis)
            if user.has_cap(Cap.PERSONAL_DATA)
            else record.people.all()
        )
        people = list(seen.filter(intake_records=record).select_related("country").order_by("id"))
    else:
        people = outcome.people
    return Respond(
        200 if outcome.repeated else 201,
        {
            "intake_record": record.pk,
            "household": record.household_id,
            "people": people,
            "possible_duplicates": _duplicates_of(user, record, [p.pk for p in people]),
        },
    )


class CheckedDuplicateOut(Schema):
    """Someone already registered who may be a member of a registration checked before
    saving (nothing is kept: no pair yet)."""

    member: int = Field(description="the member of the registration checked (index in members)")
    duplicate_of: int = Field(description="the person already registered")
    reference_code: str = Field(description="the reference code of the person already registered")
    score: int
    evidence: list[str] = Field(description="iin, document, phone, name_birth_date, …")
    evidence_text: str


class RegistrationCheckOut(Schema):
    possible_duplicates: list[CheckedDuplicateOut] = Field(
        description="people already registered who may be members of this registration, "
        "strongest first (only those you may see are named)"
    )


@router.post(
    "/registrations/check",
    response={200: RegistrationCheckOut, **ERRORS},
    summary="Check one household's registration for possible duplicates before saving it",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RegistrationIn.model_json_schema()}},
        }
    },
    description="The same payload as `POST /api/registrations`, checked as it would be "
    "(400 with the reasons in `extra.errors` when it would be refused; nothing is kept), "
    "then looked up among the people already registered, as the hotline form does before "
    "saving: each possible duplicate with the member it may be, the person's id and "
    "reference code (no names), score and evidence. Nothing is registered and no pair is "
    "kept; the read is audited (`registration_check`). Register with `POST "
    "/api/registrations` afterwards: the pairs are then kept for review.",
)
def registration_check(
    request: HttpRequest, payload: Body[dict[str, Any]], crisis: int | None = None
) -> Any:
    from aman.dedup.selectors import registration_check as check

    user = _user(request)
    access.require(user, Cap.REGISTER)
    the_crisis = _crisis(user, crisis)
    return {"possible_duplicates": check(user=user, crisis=the_crisis, payload=payload)}


def _duplicates_of(user: User, record: IntakeRecord, people: list[int]) -> list[dict[str, Any]]:
    """The possible duplicates the duplicate check kept for a registration."""
    from aman.dedup.models import CandidatePair
    from aman.dedup.selectors import possible_duplicates_out

    if not people:
        return []
    return possible_duplicates_out(
        user=user, pairs=CandidatePair.objects.filter(intake_record=record), people=people
    )


def _registration_status(user: User, record: IntakeRecord) -> dict[str, Any]:
    people: list[Person] = []
    if record.outcome == IntakeRecord.Outcome.ACCEPTED and user.has_cap(Cap.PERSONAL_DATA):
        people = list(
            selectors.people_for_user(user=user, crisis=record.crisis)
            .filter(intake_records=record)
            .order_by("id")
        )
    codes = record.reference_codes or [p.reference_code for p in people]
    return {
        "intake_record": record.pk,
        "status": record.outcome,
        "reference_codes": codes,
        "household": record.household_id,
        "people": people,
        "errors": [{"field": f, "message": m} for f, m in record.rejection_reasons.items()],
        "possible_duplicates": _duplicates_of(user, record, [p.pk for p in people]),
    }


KINDS = ["registration", "update"]


class IntakeFilter(Schema):
    crisis: int | None = None
    outcome: str = _one_of(IntakeRecord.Outcome.values)
    channel: str = _one_of(Channel.values)
    kind: str = _one_of(KINDS)
    since: datetime | None = Field(None, description="received at this time or later")
    person: int | None = Field(None, description="only the submissions about this person")
    to_correct: bool = Field(
        False,
        description="only rejected registrations no accepted correction names (`?corrects=`)",
    )
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class IntakePersonOut(Schema):
    id: int
    reference_code: str
    surname: str
    given_names: str


class IntakeRecordOut(Schema):
    id: int
    crisis_id: int
    channel: str
    kind: str
    received_at: datetime
    outcome: str
    source: str
    source_ref: str
    country: str | None = Field(description="the country the submission is about")
    actor: str | None = Field(description="the staff user or API client who sent it")
    import_batch: int | None
    row_number: int | None
    household: int | None
    corrects: int | None = Field(description="the rejected registration this one corrects")
    errors: list[ErrorItem] = Field(description="the reasons of a rejected submission")
    people: list[IntakePersonOut] = Field(description="the people it matched (that you see)")
    payload: Any = Field(
        None, description="a rejected submission exactly as received; null for the others"
    )


class IntakePageOut(Schema):
    items: list[IntakeRecordOut]
    count: int
    count_exact: bool


def intake_out(record: IntakeRecord, people: list[Person]) -> dict[str, Any]:
    return {
        "id": record.pk,
        "crisis_id": record.crisis_id,
        "channel": record.channel,
        "kind": record.kind,
        "received_at": record.received_at,
        "outcome": record.outcome,
        "source": record.source,
        "source_ref": record.source_ref,
        "country": record.country.code if record.country else None,
        "actor": record.actor.username if record.actor else None,
        "import_batch": record.batch_id,
        "row_number": record.row_number,
        "household": record.household_id,
        "corrects": record.corrects_id,
        "errors": [{"field": f, "message": m} for f, m in record.rejection_reasons.items()],
        "people": people,
        "payload": record.payload if record.outcome == IntakeRecord.Outcome.REJECTED else None,
    }


@router.get(
    "/registrations",
    response={200: IntakePageOut, **ERRORS},
    summary="Intake records: every submission as received, accepted or rejected",
    description="Newest first, for those who see personal data (a consul: the records about "
    "their mission's countries). A rejected record carries its `errors` and its `payload` as "
    "received, to be corrected and sent again; an accepted one the people it matched. "
    "`person` lists the submissions matched to one person (their registration and updates). "
    "`count` stops at 1,000 (`count_exact` is then false). Every read is audited.",
)
def registration_list(request: HttpRequest, filters: Query[IntakeFilter]) -> Any:
    user = _user(request)
    _choice("outcome", filters.outcome, IntakeRecord.Outcome.values)
    _choice("channel", filters.channel, Channel.values)
    _choice("kind", filters.kind, KINDS)
    crisis = _crisis(user, filters.crisis)
    records = selectors.intake_records_filtered(
        user=user, crisis=crisis, filters=filters.model_dump()
    )
    count, exact = capped_count(records)
    page = list(records[filters.offset : filters.offset + filters.limit])
    people = selectors.intake_people(user=user, crisis=crisis, records=page)
    selectors.intake_list_audit(
        user=user, crisis=crisis, records=page, filters=filters.model_dump()
    )
    return {
        "items": [intake_out(r, people[r.pk]) for r in page],
        "count": count,
        "count_exact": exact,
    }


@router.get(
    "/registrations/{intake_record_id}",
    response={200: RegistrationStatusOut, **ERRORS},
    summary="What became of a registration (for one sent with `Prefer: respond-async`)",
)
def registration_get(request: HttpRequest, intake_record_id: int) -> Any:
    user = _user(request)
    access.require(user, Cap.REGISTER)
    record = (
        IntakeRecord.objects.filter(pk=intake_record_id, kind="registration")
        .select_related("crisis")
        .first()
    )
    if record is None:
        raise Http404
    access.crisis_for_user(user, record.crisis_id)
    if record.actor_id != user.pk and not (
        # Not the sender's own: read as the registrations list reads (a consul, the
        # records about the mission's countries).
        user.has_cap(Cap.PERSONAL_DATA)
        and selectors.intake_records_for_user(user=user, crisis=record.crisis)
        .filter(pk=record.pk)
        .exists()
    ):
        raise Http404
    answer = _registration_status(user, record)
    # It names the people registered (names, birth dates): a read of personal data.
    audit_read(actor=user, verb="registration_detail", obj=record, crisis=record.crisis)
    return answer


class PeopleFilter(Schema):
    crisis: int | None = None
    q: PlainText = ""
    status: str = _one_of(Status.values)
    intent: str = _one_of(Intent.values)
    channel: str = _one_of(Channel.values)
    eligibility: str = _one_of(Eligibility.values)
    country: PlainText = ""
    city_id: int | None = None
    min_priority: int | None = None
    mission: int | None = None


@router.get(
    "/people",
    response=list[PersonOut],
    summary="People, filtered; search by name in any script, document, phone or reference code",
    description="Highest priority first. `count` stops at 1,000 (`count_exact` is then "
    "false): refine the search rather than page through more.",
)
@paginate(CappedLimitOffsetPagination)
def people_list(request: HttpRequest, filters: Query[PeopleFilter]) -> Any:
    user = _user(request)
    _choice("status", filters.status, Status.values)
    _choice("intent", filters.intent, Intent.values)
    _choice("channel", filters.channel, Channel.values)
    _choice("eligibility", filters.eligibility, Eligibility.values)
    crisis = _crisis(user, filters.crisis)
    people = selectors.people_filtered(user=user, crisis=crisis, filters=filters.model_dump())
    # Every page of people read is audited; which filters were used, never their values (a
    # search may be a passport or a phone number).
    used = sorted(
        k for k, v in filters.model_dump().items() if v not in (None, "") and k != "crisis"
    )
    audit_read(
        actor=user,
        verb="people_search" if filters.q else "people_list",
        object_type="registry.person",
        crisis=crisis,
        details={"filters": used} if used else None,
    )
    return people


@router.get("/people/{person_id}", response={200: PersonDetailOut, **ERRORS})
def person_get(request: HttpRequest, person_id: int) -> Any:
    user = _user(request)
    person = _person(user, person_id)
    audit_read(actor=user, verb="person_detail", obj=person, crisis=person.crisis)
    return person


def _person(user: User, person_id: int) -> Person:
    access.require(user, Cap.PERSONAL_DATA)
    crisis_id = Person.objects.filter(pk=person_id).values_list("crisis_id", flat=True).first()
    if crisis_id is None:
        raise Http404
    return selectors.person_for_user(
        user=user, crisis=access.crisis_for_user(user, crisis_id), pk=person_id
    )


@router.patch(
    "/people/{person_id}",
    response={200: PersonCorrectedOut, **ERRORS},
    summary="Correct a person's record (only the fields sent change)",
    description="Every field of the record but the status (its own endpoint) and the "
    "household (`PATCH /api/households/{id}`). `documents` and `phones`, when sent, are the "
    "person's whole list: an entry with the `id` of one of theirs (from `GET`) corrects it, "
    "one without adds one, theirs not listed are removed. A Latin name sent is kept as "
    "given; sent empty, or never given, it is transliterated from the native name again "
    "when that changes. The correction is kept as an intake record (kind `update`), a "
    "refused one too: the 400 answer lists `errors` per field and names the "
    "`intake_record`. A correction of names, birth date, IIN, documents or phones checks "
    "for duplicates again; the answer lists the person's `possible_duplicates`.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PersonPatchIn.model_json_schema()}},
        }
    },
)
def person_update(request: HttpRequest, person_id: int, payload: Body[dict[str, Any]]) -> Any:
    user = _user(request)
    access.require(user, Cap.REGISTER)
    person = _person(user, person_id)
    from aman.dedup.models import CandidatePair
    from aman.dedup.selectors import possible_duplicates_out

    services.person_update(actor=user, person=person, payload=payload, channel=Channel.API)
    corrected = Person.objects.select_related("country").get(pk=person.pk)
    corrected.possible_duplicates = possible_duplicates_out(  # type: ignore[attr-defined]
        user=user,
        pairs=CandidatePair.objects.filter(Q(person_a=person) | Q(person_b=person)),
        people=[person.pk],
    )
    return corrected


class HouseholdFilter(Schema):
    crisis: int | None = None
    min_priority: int | None = None


@router.get(
    "/households",
    response=list[HouseholdOut],
    summary="Households, highest priority first",
    description="`count` stops at 1,000 (`count_exact` is then false), as for people: a "
    "page never costs a count of every household of a large crisis.",
)
@paginate(CappedLimitOffsetPagination)
def household_list(request: HttpRequest, filters: Query[HouseholdFilter]) -> Any:
    user = _user(request)
    crisis = _crisis(user, filters.crisis)
    audit_read(actor=user, verb="household_list", object_type="registry.household", crisis=crisis)
    return selectors.households_for_user(
        user=user, crisis=crisis, min_priority=filters.min_priority
    )


@router.get("/households/{household_id}", response={200: HouseholdOut, **ERRORS})
def household_get(request: HttpRequest, household_id: int) -> Any:
    user = _user(request)
    household = _household(user, household_id)
    audit_read(actor=user, verb="household_detail", obj=household, crisis=household.crisis)
    return household


def _household(user: User, household_id: int) -> Household:
    access.require(user, Cap.PERSONAL_DATA)
    crisis_id = (
        Household.objects.filter(pk=household_id).values_list("crisis_id", flat=True).first()
    )
    if crisis_id is None:
        raise Http404
    crisis = access.crisis_for_user(user, crisis_id)
    household = (
        selectors.households_for_user(user=user, crisis=crisis).filter(pk=household_id).first()
    )
    if household is None:
        raise Http404
    return household


@router.patch(
    "/households/{household_id}",
    response={200: HouseholdOut, **ERRORS},
    summary="Change a household's contact, move people into it or out of it, or when it "
    "can set out",
    description="`add_members`: people of the same crisis, moved here out of their "
    "households (a person is in one household). `remove_members`: members moved out, each "
    "into a new household of their own. `contact_id`: a member afterwards. A household "
    "left without its contact gets its first remaining member as contact. Only people you "
    "may see can be named (404 with the field otherwise). A person who holds a seat on a "
    "leg or a room in a hotel with the household they would leave is not moved: 409, every "
    "such seat and room named in `extra.conflicts` (release the seat or end the stay, or "
    "split it explicitly, first). `available_from`: the earliest moment the household can "
    "set out, for the planner (null: at once).",
)
def household_update(request: HttpRequest, household_id: int, payload: HouseholdPatchIn) -> Any:
    user = _user(request)
    access.require(user, Cap.REGISTER)
    household = _household(user, household_id)
    visible = selectors.people_for_user(user=user, crisis=household.crisis)

    def people(ids: list[int], name: str) -> list[Person]:
        found = {p.pk: p for p in visible.filter(pk__in=ids)}
        for n, pk in enumerate(ids):
            if pk not in found:
                where = name if name == "contact_id" else f"{name}.{n}"
                raise NotFound(_("No person %(id)s.") % {"id": pk}, {"field": where, "id": pk})
        return [found[pk] for pk in dict.fromkeys(ids)]

    contact = people([payload.contact_id], "contact_id")[0] if payload.contact_id else None
    services.household_update(
        actor=user,
        household=household,
        contact=contact,
        add=people(payload.add_members, "add_members"),
        remove=people(payload.remove_members, "remove_members"),
        available_from=payload.available_from
        if "available_from" in payload.model_fields_set
        else services.UNCHANGED,
    )
    return _household(user, household_id)


@router.post(
    "/people/{person_id}/status",
    response={200: PersonOut, **ERRORS},
    summary="Record a step of a person's journey (send Idempotency-Key)",
    description="A retry with the same `Idempotency-Key` returns the first answer and records "
    "no second step (without a key, the same step twice is refused: “cannot go from Verified "
    "to Verified”).",
)
def person_status(request: HttpRequest, person_id: int, payload: StatusIn) -> Any:
    user = _user(request)
    access.require(user, Cap.REGISTER)
    person = _person(user, person_id)

    def create() -> tuple[int, Any]:
        services.person_set_status(
            actor=user, person=person, status=payload.status, note=payload.note
        )
        person.refresh_from_db()
        return 200, PersonOut.from_orm(person).model_dump(mode="json")

    return idempotent(request, user, payload.model_dump(mode="json"), create)


@router.get(
    "/crises/{crisis_id}/priority-policy", response={200: PolicyOut, **ERRORS}, tags=["crises"]
)
def policy_get(request: HttpRequest, crisis_id: int) -> Any:
    crisis = access.crisis_for_user(_user(request), crisis_id)
    return _policy_out(services.priority_policy(crisis))


def _policy_out(policy: PriorityPolicy) -> dict[str, Any]:
    if policy.pk is None:  # the default, never set: nothing recomputed
        return {"mode": policy.mode, "rules": policy.rules}
    return {
        "mode": policy.mode,
        "rules": policy.rules,
        "recompute": {
            "running": policy.recomputed_at is None,
            "people_done": policy.recompute_done,
            "people_total": policy.recompute_total,
            "people_changed": policy.recompute_changed,
            "finished_at": policy.recomputed_at,
        },
    }


@router.put(
    "/crises/{crisis_id}/priority-policy",
    response={200: PolicyOut, **ERRORS},
    tags=["crises"],
    summary="Change the priority policy; everyone's priority is recomputed",
    description="Registrations from now on get the new policy's priority; everyone already "
    "registered is recomputed in the background: GET shows `recompute` until it is done.",
)
def policy_set(request: HttpRequest, crisis_id: int, payload: PolicyIn) -> Any:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)
    crisis = access.crisis_for_user(user, crisis_id)
    policy = services.priority_policy_set(
        actor=user, crisis=crisis, mode=payload.mode, rules=payload.rules
    )
    return _policy_out(policy)
