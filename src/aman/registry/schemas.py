"""What a registration must look like, whatever channel it comes from (the public form,
the hotline form, an import row, the API). Structural checks here; identity checks (IIN,
phones, documents) in services."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME = Field(min_length=1, max_length=100)


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["passport", "id_card", "return_certificate", "other"] = "passport"
    number: str = Field(min_length=3, max_length=30)
    issuing_state: str = Field("", max_length=3)
    expiry_date: date | None = None
    surname_latin: str = Field("", max_length=100)
    given_names_latin: str = Field("", max_length=150)

    @field_validator("number", "issuing_state", "surname_latin", "given_names_latin")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    surname: str = NAME
    given_names: str = Field(min_length=1, max_length=150)
    patronymic: str = Field("", max_length=100)
    surname_latin: str = Field("", max_length=100)
    given_names_latin: str = Field("", max_length=150)
    birth_date: date | None = None
    sex: Literal["F", "M", "X", ""] = ""
    nationalities: list[str] = Field(default_factory=list, max_length=5)
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
        if value is not None and not (date(1900, 1, 1) <= value <= date.today()):  # noqa: DTZ011
            raise ValueError("birth date must be between 1900-01-01 and today")
        return value

    @field_validator("nationalities")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        codes = [v.strip().upper() for v in value if v.strip()]
        if any(len(c) != 2 or not c.isalpha() for c in codes):
            raise ValueError("nationalities are ISO 3166-1 alpha-2 codes, e.g. KZ")
        return list(dict.fromkeys(codes))


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    city_id: int | None = Field(None, description="a place of kind city (GET /api/geo/places)")
    city: str = Field("", max_length=100, description="city name when city_id is not known")
    address: str = Field("", max_length=300)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class RegistrationIn(BaseModel):
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
            raise ValueError("consent is required to register")
        return value


class SelfUpdateIn(BaseModel):
    """What a registered person may change from the status page (each change is kept as an
    intake record): where they are, how to reach them, what they want, what they need."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    city: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=300)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    intent: Literal["leave", "stay", "undecided"] | None = None
    pregnant: bool | None = None
    medical_need: bool | None = None
    reduced_mobility: bool | None = None
    disability: bool | None = None
    needs_note: str | None = Field(None, max_length=2000)
    household: bool | None = Field(
        None, description="the place sent (city, address) is the whole household's"
    )


class PersonPatchIn(BaseModel):
    """An officer's correction of a person's record; only the fields sent change."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    surname: str | None = Field(None, min_length=1, max_length=100)
    given_names: str | None = Field(None, min_length=1, max_length=150)
    patronymic: str | None = Field(None, max_length=100)
    surname_latin: str | None = Field(None, max_length=100)
    given_names_latin: str | None = Field(None, max_length=150)
    birth_date: date | None = None
    sex: Literal["F", "M", "X", ""] | None = None
    nationalities: list[str] | None = Field(None, max_length=5)
    iin: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=254)
    language: Literal["kk", "ru", "en"] | None = None
    pregnant: bool | None = None
    medical_need: bool | None = None
    reduced_mobility: bool | None = None
    disability: bool | None = None
    unaccompanied_minor: bool | None = None
    needs_note: str | None = Field(None, max_length=2000)
    intent: Literal["leave", "stay", "undecided"] | None = None
    eligibility: Literal["citizen", "family_member", "partner_national"] | None = None
    address: str | None = Field(None, max_length=300)
