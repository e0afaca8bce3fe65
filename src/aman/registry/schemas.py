"""What a registration must look like, whatever channel it comes from (the public form,
the hotline form, an import row, the API). Structural checks here; identity checks (IIN,
phones, documents) in services."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from django.utils.translation import gettext as _
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from aman.core.text import check_text

NAME = Field(min_length=1, max_length=100)

# A name as a passport prints it: Latin letters, words joined by a space or a hyphen.
_PASSPORT_LATIN = re.compile(r"[A-Z]+(?:[ \-][A-Z]+)*")


def passport_latin(value: str) -> str:
    """A Latin name as typed → as stored (capitals, single spaces); empty stays empty.
    Raises ValueError for anything but Latin letters, spaces and hyphens."""
    value = " ".join(value.upper().split())
    if value and not _PASSPORT_LATIN.fullmatch(value):
        raise ValueError(_("only Latin letters A-Z, spaces and hyphens, as in the passport"))
    return value


def plausible_birth_date(value: date | None) -> date | None:
    if value is not None and not (date(1900, 1, 1) <= value <= date.today()):  # noqa: DTZ011
        raise ValueError(_("birth date must be between 1900-01-01 and today"))
    return value


def country_codes(value: list[str]) -> list[str]:
    codes = [v.strip().upper() for v in value if v.strip()]
    if any(len(c) != 2 or not c.isalpha() for c in codes):
        raise ValueError(_("nationalities are ISO 3166-1 alpha-2 codes, e.g. KZ"))
    return list(dict.fromkeys(codes))


def _texts(value: Any, multiline: bool) -> None:
    """Check every text of a field's value — a list's items, a dict's keys and values."""
    if isinstance(value, str):
        check_text(value, multiline=multiline)
    elif isinstance(value, dict):
        for key, item in value.items():
            _texts(key, False)
            _texts(item, multiline)
    elif isinstance(value, list | tuple):
        for item in value:
            _texts(item, multiline)


class Checked(BaseModel):
    """A schema whose every text is checked for control characters (`core.text`): NUL, which
    PostgreSQL cannot store, and the others, which no name or code holds. The fields named
    in MULTILINE may hold line breaks and tabs."""

    MULTILINE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        _texts(value, info.field_name in cls.MULTILINE)
        return value


# A handle that is a phone number (WhatsApp, Signal, Viber): digits, optionally a leading +,
# written with spaces, dashes, dots or brackets as people write numbers.
_PHONE_HANDLE = re.compile(r"\+?[\d\s().\-]+")


def messenger_handles(value: dict[str, str]) -> dict[str, str]:
    """Messenger handles as stored: {messenger: handle}, the messenger one word in small
    letters, the handle one word (they are kept as `telegram:@x whatsapp:+7701…`,
    `Person.messenger_handles`). A handle that is a phone number is written without its
    spaces and punctuation (`+7 701 123 45 67` → `+77011234567`); any other handle with a
    space is refused. Empty handles are left out."""
    clean: dict[str, str] = {}
    for key, raw in value.items():
        name, handle = key.strip().lower(), raw.strip()
        if not handle:
            continue
        if not name or not name.isalnum() or len(name) > 20:
            raise ValueError(_("a messenger is named by one word, e.g. telegram"))
        if _PHONE_HANDLE.fullmatch(handle) and sum(ch.isdigit() for ch in handle) >= 6:
            handle = ("+" if handle.startswith("+") else "") + "".join(
                ch for ch in handle if ch.isdigit()
            )
        if len(handle) > 100 or any(ch.isspace() for ch in handle):
            raise ValueError(_("a messenger handle is one word of at most 100 characters"))
        clean[name] = handle
    return clean


class DocumentIn(Checked):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["passport", "id_card", "return_certificate", "other"] = "passport"
    number: str = Field(min_length=3, max_length=30)
    issuing_state: str = Field("", max_length=3)
    expiry_date: date | None = None
    surname_latin: str = Field("", max_length=100)
    given_names_latin: str = Field("", max_length=150)

    @field_validator("number", "issuing_state")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("surname_latin", "given_names_latin")
    @classmethod
    def _latin(cls, value: str) -> str:
        return passport_latin(value)


class MemberIn(Checked):
    MULTILINE = frozenset({"needs_note"})

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    surname: str = NAME
    given_names: str = Field(min_length=1, max_length=150)
    patronymic: str = Field("", max_length=100)
    surname_latin: str = Field("", max_length=100)
    given_names_latin: str = Field("", max_length=150)
    birth_date: date | None = None
    sex: Literal["F", "M", "X", ""] = ""
    nationalities: list[str] = Field(
        default_factory=list,
        max_length=5,
        description="ISO 3166-1 alpha-2 codes; they must agree with `eligibility`: a citizen's "
        "include the crisis's home country, a family member's or a partner-state national's are "
        "not the home country's alone (checked with the crisis: `services.citizenship_problem`); "
        "empty: a citizen's is the home country's, anyone else's none known",
    )
    iin: str = Field("", max_length=20)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=5)
    phones: list[str] = Field(default_factory=list, max_length=5)
    email: str = Field("", max_length=254)
    messengers: dict[str, str] = Field(default_factory=dict, max_length=5)
    language: Literal["kk", "ru", "en"] | None = None
    pregnant: bool = False
    medical_need: bool = False
    reduced_mobility: bool = False
    disability: bool = False
    unaccompanied_minor: bool = False
    needs_note: str = Field("", max_length=2000)
    eligibility: Literal["citizen", "family_member", "partner_national"] = "citizen"

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth_date(cls, value: date | None) -> date | None:
        return plausible_birth_date(value)

    @field_validator("nationalities")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        return country_codes(value)

    @field_validator("surname_latin", "given_names_latin")
    @classmethod
    def _latin(cls, value: str) -> str:
        return passport_latin(value)

    @field_validator("messengers")
    @classmethod
    def _handles(cls, value: dict[str, str]) -> dict[str, str]:
        return messenger_handles(value)


class LocationIn(Checked):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    city_id: int | None = Field(None, description="a place of kind city (GET /api/geo/places)")
    city: str = Field("", max_length=100, description="city name when city_id is not known")
    address: str = Field("", max_length=300)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class RegistrationIn(Checked):
    """One household: its members, where they are, what they want."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    members: list[MemberIn] = Field(min_length=1, max_length=20)
    contact_index: int = Field(0, ge=0, description="which member is the household's contact")
    location: LocationIn
    intent: Literal["leave", "stay", "undecided"] = "leave"
    language: Literal["kk", "ru", "en"] = "kk"
    consent: bool = Field(description="consent to the processing of personal data")
    source_ref: str = Field("", max_length=200)

    @field_validator("consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if not value:
            raise ValueError(_("consent is required to register"))
        return value


class SelfUpdateIn(Checked):
    """What a registered person may change from the status page (each change is kept as an
    intake record): where they are, how to reach them, what they want, what they need."""

    MULTILINE = frozenset({"needs_note"})

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    country: str | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="ISO 3166-1 alpha-2: the country the person is in now (another one than "
        "before: the city is read in it, and no city of the old country stays)",
    )
    city: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=300)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    intent: Literal["leave", "stay", "undecided"] | None = None
    pregnant: bool | None = None
    medical_need: bool | None = None
    reduced_mobility: bool | None = None
    disability: bool | None = None
    unaccompanied_minor: bool | None = None
    needs_note: str | None = Field(None, max_length=2000)
    messengers: dict[str, str] | None = Field(
        None,
        max_length=5,
        description='e.g. {"telegram": "@handle"}: each handle sent replaces that '
        "messenger's; the others are kept",
    )
    household: bool | None = Field(
        None, description="the place sent (country, city, address) is the whole household's"
    )

    @field_validator("messengers")
    @classmethod
    def _handles(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else messenger_handles(value)


class DocumentPatchIn(DocumentIn):
    """A document in an officer's correction: with `id`, that document of the person
    corrected; without, a new one."""

    id: int | None = Field(None, description="the document to correct (GET /api/people/{id})")

    @field_validator("number")
    @classmethod
    def _compact(cls, value: str) -> str:
        value = "".join(value.split())
        if len(value) < 3:
            raise ValueError(_("a document number has at least 3 characters"))
        return value


class PhonePatchIn(Checked):
    """A phone in an officer's correction: with `id`, that phone of the person corrected;
    without, a new one (a number the person has already is kept as it is)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: int | None = Field(None, description="the phone to correct (GET /api/people/{id})")
    number: str = Field(min_length=3, max_length=40)


# A phone in a correction: a number alone, or {"id", "number"} (a number alone is made
# the latter before it is read: `PersonPatchIn._numbers`).
PhoneItem = Annotated[
    PhonePatchIn,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 3, "maxLength": 40},
                {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "number": {"type": "string", "minLength": 3, "maxLength": 40},
                    },
                    "required": ["number"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]


class PersonPatchIn(Checked):
    """An officer's correction of a person's record; only the fields sent change.

    `documents` and `phones`, when sent, are the person's whole list: an entry with the `id`
    of one of theirs corrects it, one without adds a new one, and theirs not listed are
    removed (`[]` removes all). `messengers` too replaces the handles. `null` clears
    `birth_date`, `city_id` and the coordinates; other fields cannot be null."""

    MULTILINE = frozenset({"needs_note"})

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    surname: str | None = Field(None, min_length=1, max_length=100)
    given_names: str | None = Field(None, min_length=1, max_length=150)
    patronymic: str | None = Field(None, max_length=100)
    surname_latin: str | None = Field(
        None,
        max_length=100,
        description="as printed in the passport; empty: transliterated from `surname`",
    )
    given_names_latin: str | None = Field(
        None,
        max_length=150,
        description="as printed in the passport; empty: transliterated from `given_names`",
    )
    birth_date: date | None = None
    sex: Literal["F", "M", "X", ""] | None = None
    nationalities: list[str] | None = Field(None, max_length=5)
    iin: str | None = Field(None, max_length=20)
    documents: list[DocumentPatchIn] | None = Field(None, max_length=5)
    phones: list[PhoneItem] | None = Field(
        None,
        max_length=5,
        description='numbers ("+7 701 …"), or {"id", "number"} to correct one of theirs',
    )
    email: str | None = Field(None, max_length=254)
    messengers: dict[str, str] | None = Field(
        None, max_length=5, description='e.g. {"telegram": "@handle"}; replaces them all'
    )
    language: Literal["kk", "ru", "en"] | None = None
    pregnant: bool | None = None
    medical_need: bool | None = None
    reduced_mobility: bool | None = None
    disability: bool | None = None
    unaccompanied_minor: bool | None = None
    needs_note: str | None = Field(None, max_length=2000)
    intent: Literal["leave", "stay", "undecided"] | None = None
    eligibility: Literal["citizen", "family_member", "partner_national"] | None = None
    country: str | None = Field(
        None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2: where the person is"
    )
    city_id: int | None = Field(None, description="a place of kind city in that country")
    address: str | None = Field(None, max_length=300)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth_date(cls, value: date | None) -> date | None:
        return plausible_birth_date(value)

    @field_validator("phones", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        """A number alone is a new phone (or one of theirs with that number)."""
        if isinstance(value, list):
            return [{"number": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("nationalities")
    @classmethod
    def _codes(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else country_codes(value)

    @field_validator("surname_latin", "given_names_latin")
    @classmethod
    def _latin(cls, value: str | None) -> str | None:
        return None if value is None else passport_latin(value)

    @field_validator("messengers")
    @classmethod
    def _handles(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else messenger_handles(value)


NULLABLE = frozenset({"birth_date", "city_id", "latitude", "longitude"})


class HouseholdPatchIn(BaseModel):
    """Who travels together. `add_members` moves people of the same crisis into this
    household (out of theirs); `remove_members` moves members out, each into a new household
    of their own; `contact_id` must be a member afterwards. `available_from`, when sent:
    the earliest moment the household can set out (null: at once)."""

    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = Field(None, description="a member, the household's contact")
    add_members: list[int] = Field(default_factory=list, max_length=20)
    remove_members: list[int] = Field(default_factory=list, max_length=20)
    available_from: datetime | None = Field(
        None,
        description="the earliest moment the household can set out, for the planner (ISO "
        "date and time; without an offset, on the server's clock); null: at once; left out: "
        "as it is",
    )
