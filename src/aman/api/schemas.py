from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from ninja import Schema
from pydantic import Field, model_validator

from aman.core.text import PlainText


class ErrorOut(Schema):
    message: str
    extra: dict[str, Any]


class CountryOut(Schema):
    code: str
    code3: str
    name: str
    name_ru: str
    name_kk: str


class UserOut(Schema):
    id: int
    username: str
    role: str
    mission_id: int | None
    current_crisis_id: int | None
    capabilities: list[str]


class CrisisOut(Schema):
    id: int
    name: str
    code: str
    description: str
    status: str
    home_country: str = Field(validation_alias="home_country.code")
    affected_countries: list[str]
    missions: list[int]
    retention_days: int
    public_registration: bool
    hotline_phone: str = Field(
        description="the Ministry's hotline for the crisis, E.164 (empty: none); the public "
        "pages give it while the crisis is open"
    )
    hotline_note: str = Field(description="shown with the number, e.g. 24/7")
    created_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None

    @staticmethod
    def resolve_affected_countries(obj: Any) -> list[str]:
        return sorted(c.code for c in obj.affected_countries.all())

    @staticmethod
    def resolve_missions(obj: Any) -> list[int]:
        return sorted(m.pk for m in obj.missions.all())


class CrisisIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    code: str = Field("", max_length=40, pattern=r"^[-a-zA-Z0-9_]*$")
    description: str = Field("", max_length=5000)
    home_country: str = Field(
        "",
        max_length=2,
        description="ISO 3166-1 alpha-2; default: the ministry's (AMAN_HOME_COUNTRY)",
    )
    affected_countries: list[str] = Field(min_length=1, description="ISO 3166-1 alpha-2 codes")
    missions: list[int] = []
    retention_days: int = Field(180, ge=1, le=3650)
    public_registration: bool = False
    hotline_phone: str = Field(
        "",
        max_length=40,
        description="with its country code; stored in E.164 (a number without one is read as "
        "one of the home country); an invalid number is refused",
    )
    hotline_note: str = Field("", max_length=200, description="e.g. 24/7")


class NoNulls(Schema):
    """A partial update: a field may be left out, not set to null."""

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(k for k, v in data.items() if v is None)
            if nulls:
                raise ValueError(f"leave a field out instead of sending null: {', '.join(nulls)}")
        return data


class CrisisPatch(NoNulls):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    home_country: str | None = Field(None, min_length=2, max_length=2)
    affected_countries: list[str] | None = Field(None, min_length=1)
    missions: list[int] | None = None
    retention_days: int | None = Field(None, ge=1, le=3650)
    public_registration: bool | None = None
    hotline_phone: str | None = Field(None, max_length=40, description="empty clears it")
    hotline_note: str | None = Field(None, max_length=200)


class MissionOut(Schema):
    id: int
    name: str
    kind: str
    country: str = Field(validation_alias="country.code")
    city: str
    area: list[str]
    email: str
    phone: str
    active: bool

    @staticmethod
    def resolve_area(obj: Any) -> list[str]:
        return sorted(c.code for c in obj.area.all())


class MissionIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    kind: str = "embassy"
    country: str = Field(min_length=2, max_length=2)
    city: str = Field("", max_length=200)
    area: list[str] = []
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)


class MissionPatch(NoNulls):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: str | None = None
    city: str | None = Field(None, max_length=200)
    area: list[str] | None = Field(None, min_length=1)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    active: bool | None = None


class PlaceOut(Schema):
    id: int
    kind: str
    code: str
    name: str
    name_ru: str
    name_kk: str
    country: str = Field(validation_alias="country.code")
    latitude: float | None
    longitude: float | None
    iata: str
    icao: str
    timezone: str
    population: int | None
    status: str | None
    status_changed_at: datetime | None
    entry_country: str | None
    entry_name: str
    hours: str
    opens_at: time | None
    closes_at: time | None
    daily_capacity: int | None
    transit_permit: str

    @staticmethod
    def resolve_entry_country(obj: Any) -> str | None:
        return obj.entry_country.code if obj.entry_country_id else None

    @staticmethod
    def resolve_status(obj: Any) -> str | None:
        return obj.status if obj.has_status else None


class PlaceStatusEventOut(Schema):
    status: str
    reason: str
    effective_at: datetime
    recorded_at: datetime
    recorded_by: str | None

    @staticmethod
    def resolve_recorded_by(obj: Any) -> str | None:
        return obj.recorded_by.username if obj.recorded_by_id else None


class PlaceDetailOut(PlaceOut):
    status_history: list[PlaceStatusEventOut]

    @staticmethod
    def resolve_status_history(obj: Any) -> list[Any]:
        return list(obj.status_events.select_related("recorded_by")[:100])


class PlaceStatusIn(Schema):
    status: str = Field(description="open, restricted or closed")
    reason: str = Field("", max_length=500)
    effective_at: datetime | None = None


class CrossingPatch(NoNulls):
    hours: str | None = Field(None, description="24h or HH:MM-HH:MM")
    daily_capacity: int | None = Field(None, ge=0, le=100000)
    transit_permit: str | None = None


class AuditEntryOut(Schema):
    id: int
    at: datetime
    actor: str = Field(validation_alias="actor_name")
    action: str
    verb: str
    object_type: str
    object_id: str
    crisis_id: int | None
    changes: dict[str, Any]
    ip: str | None
    via: str


class DocumentOut(Schema):
    id: int
    kind: str
    number: str
    issuing_state: str
    expiry_date: date | None
    surname_latin: str
    given_names_latin: str


class PersonOut(Schema):
    id: int
    crisis_id: int
    reference_code: str
    household_id: int | None
    surname: str
    given_names: str
    patronymic: str
    surname_latin: str
    given_names_latin: str
    birth_date: date | None
    sex: str
    nationalities: list[str]
    language: str
    country: str = Field(validation_alias="country.code")
    city_id: int | None
    address: str
    intent: str
    eligibility: str
    status: str
    priority: int
    priority_explained: str
    pregnant: bool
    medical_need: bool
    reduced_mobility: bool
    disability: bool
    unaccompanied_minor: bool
    channel: str
    created_at: datetime

    @staticmethod
    def resolve_priority_explained(obj: Any) -> str:
        from aman.registry.triage import explain

        return explain(obj.priority, obj.priority_reasons)


class PhoneOut(Schema):
    id: int
    number: str = Field(description="E.164 when valid, else as typed")
    valid: bool = Field(description="false: not a valid number, kept as typed")


class StatusEventOut(Schema):
    """A step of a person's journey, as the person page shows it."""

    status: str
    at: datetime
    by: str | None = Field(description="the user who recorded it; null: the system")
    note: str = Field(description="the reason or note given with the step")

    @staticmethod
    def resolve_by(obj: Any) -> str | None:
        return obj.actor.username if obj.actor_id else None


class PersonIntakeOut(Schema):
    """A submission that registered or updated the person (its content is not repeated
    here: `GET /api/registrations?person=` lists them with what was refused)."""

    id: int
    channel: str
    kind: str = Field(description="registration or update")
    received_at: datetime
    outcome: str
    source: str
    source_ref: str


class PersonDetailOut(PersonOut):
    latin_from_document: bool = Field(
        description="the Latin names were given (a document's, or typed), not transliterated"
    )
    iin: str
    email: str
    messengers: dict[str, str] = Field(description='e.g. {"telegram": "@handle"}')
    needs_note: str
    consent_at: datetime | None
    latitude: float | None
    longitude: float | None
    location_updated_at: datetime | None
    documents: list[DocumentOut]
    phones: list[PhoneOut]
    status_events: list[StatusEventOut] = Field(description="the journey, newest first")
    intake_records: list[PersonIntakeOut] = Field(
        description="the submissions about the person, newest first"
    )

    @staticmethod
    def resolve_status_events(obj: Any) -> list[Any]:
        return list(obj.status_events.select_related("actor").order_by("-at", "-id"))

    @staticmethod
    def resolve_intake_records(obj: Any) -> list[Any]:
        return list(obj.intake_records.order_by("-received_at", "-id"))

    @staticmethod
    def resolve_messengers(obj: Any) -> dict[str, str]:
        return dict(obj.messenger_handles)

    @staticmethod
    def resolve_documents(obj: Any) -> list[Any]:
        return list(obj.documents.order_by("id"))

    @staticmethod
    def resolve_phones(obj: Any) -> list[Any]:
        return list(obj.phones.order_by("id"))


class PossibleDuplicateOut(Schema):
    """Someone already registered who may be the same person (the duplicate check):
    kept as a pair for review (`GET /api/duplicates`, `POST /api/duplicates/{pair}/…`)."""

    pair: int = Field(description="the candidate pair, to review")
    person: int = Field(description="the person just registered or corrected")
    duplicate_of: int = Field(description="the person already registered")
    reference_code: str = Field(description="the reference code of the person already registered")
    score: int
    evidence: list[str] = Field(description="iin, document, phone, name_birth_date, …")
    evidence_text: str


DUPLICATES: Any = Field(
    default_factory=list,
    description="people already registered who may be the same as one of these: each kept "
    "as a pair for an officer to review (only those you may see are named)",
)


class PersonCorrectedOut(PersonDetailOut):
    possible_duplicates: list[PossibleDuplicateOut] = Field(
        default_factory=list,
        description="people who may be the same as this person (open or deferred pairs, the "
        "correction checked again when names, birth date, IIN, documents or phones changed)",
    )


class RegistrationOut(Schema):
    intake_record: int
    household: int | None
    people: list[PersonOut]
    possible_duplicates: list[PossibleDuplicateOut] = DUPLICATES


class ErrorItem(Schema):
    field: str
    message: str


class RegistrationStatusOut(Schema):
    """A registration taken into the queue: `pending` until it is registered (`accepted`,
    with its household and people) or found wrong (`rejected`, with `errors`)."""

    intake_record: int
    status: str = Field(description="pending, accepted or rejected")
    reference_codes: list[str] = Field(
        description="one per member, in the order sent; reserved at once"
    )
    household: int | None
    people: list[PersonOut]
    errors: list[ErrorItem]
    possible_duplicates: list[PossibleDuplicateOut] = DUPLICATES


class StatusIn(Schema):
    status: str
    note: PlainText = Field("", max_length=500)


class PolicyRule(Schema):
    group: str
    weight: int
    min_age: int | None = None
    max_age: int | None = None


class PolicyIn(Schema):
    mode: str = Field("weights", description="weights or strict")
    rules: list[dict[str, Any]]


class RecomputeOut(Schema):
    running: bool = Field(description="true until everyone's priority follows the policy")
    people_done: int
    people_total: int
    people_changed: int
    finished_at: datetime | None


class PolicyOut(Schema):
    mode: str
    rules: list[dict[str, Any]]
    recompute: RecomputeOut | None = Field(
        None, description="the recompute after the last change (none for the default policy)"
    )


class MrzIn(Schema):
    lines: list[str] = Field(min_length=1, max_length=3)


class MrzOut(Schema):
    format: str
    document_code: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: date | None
    sex: str
    expiry_date: date | None


class HouseholdOut(Schema):
    id: int
    crisis_id: int
    contact_id: int | None
    priority: int
    available_from: datetime | None = Field(
        description="the earliest moment the household can set out (null: at once)"
    )
    members: list[PersonOut]

    @staticmethod
    def resolve_members(obj: Any) -> list[Any]:
        return list(obj.visible_members)
