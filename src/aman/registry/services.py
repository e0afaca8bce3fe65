"""Writes to the registry. Every submission becomes an IntakeRecord first, accepted or
rejected with its reasons, so nothing a citizen or an operator sent is ever lost."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from pydantic import ValidationError

from aman.core import dates
from aman.core.audit import audit_write, audit_write_many
from aman.core.bulk import insert_rows, placeholder, prepared, update_rows
from aman.core.crypto import keyed_hash
from aman.core.errors import ApplicationError, Conflict
from aman.core.models import AuditEntry, Crisis, Mission, User
from aman.core.text import storable
from aman.core.validation import pydantic_message
from aman.geo.models import Country, Place
from aman.registry import triage
from aman.registry.identity import (
    IinError,
    name_key_pairs,
    name_keys,
    normalize_phone,
    parse_iin,
)
from aman.registry.latin import passport_latin
from aman.registry.models import (
    Document,
    Eligibility,
    Household,
    IntakeRecord,
    Intent,
    NameKey,
    NamePair,
    Person,
    Phone,
    PriorityPolicy,
    ReservedCode,
    StatusEvent,
    messengers_text,
)
from aman.registry.schemas import MemberIn, RegistrationIn
from aman.registry.statuses import TRANSITIONS, Status

# Short, unambiguous, not guessable: 8 characters from 30 (no 0/O, 1/I/L, U) ≈ 6.6 × 10^11.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8


def new_reference_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_reference_code(value: str) -> str:
    """What a person types (`k7m2-qx9p`, with spaces or dashes) → the stored code."""
    return "".join(ch for ch in value.upper() if ch.isalnum())


def document_hash(number: str) -> str:
    return keyed_hash("document", "".join(ch for ch in number.upper() if ch.isalnum()))


def phone_hash(e164_or_raw: str) -> str:
    return keyed_hash("phone", "".join(ch for ch in e164_or_raw if ch.isdigit() or ch == "+"))


def iin_hash(iin: str) -> str:
    return keyed_hash("iin", "".join(ch for ch in iin if ch.isdigit()))


@dataclass
class Problem:
    field: str
    message: str


def _pydantic_problems(exc: ValidationError) -> list[Problem]:
    return [Problem(".".join(str(p) for p in e["loc"]), pydantic_message(e)) for e in exc.errors()]


def problem_reasons(problems: list[Problem]) -> dict[str, str]:
    """The reasons kept with a refused submission, `{field: text}`: the messages of one field
    joined with "; " in their order (an IIN can disagree with the birth date and the sex)."""
    reasons: dict[str, str] = {}
    for p in problems:
        key = p.field or "__all__"
        if key not in reasons:
            reasons[key] = p.message
        elif p.message not in reasons[key].split("; "):
            reasons[key] = f"{reasons[key]}; {p.message}"
    return reasons


def email_problem(value: str) -> str | None:
    """What is wrong with an e-mail address, in the user's language (the validating
    library's reasons are English and technical: only their gist is said), or None."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        reason = str(exc)
        if value.count("@") != 1:
            return _("Not a valid email address: it has one @ sign, as in name@example.com.")
        if "after the @-sign" in reason:
            return _("Not a valid email address: check the part after the @ sign.")
        if "before the @-sign" in reason:
            return _("Not a valid email address: check the part before the @ sign.")
        return _("Not a valid email address.")
    return None


def crisis_country_ids(crisis: Crisis) -> QuerySet[Country, Any]:
    """The countries a person of the crisis may be recorded in (`country_allowed`), as a
    query of their ids (a subquery where it is used): its affected countries, the countries
    its border crossings lead into (where people who fled over land wait), and the
    countries its missions are in and cover — never the home country unless it is
    affected."""
    near = (
        models.Q(
            pk__in=Place.objects.filter(kind=Place.Kind.CROSSING, country__crises=crisis).values(
                "entry_country"
            )
        )
        | models.Q(covering_missions__crises=crisis)
        | models.Q(pk__in=Mission.objects.filter(crises=crisis).values("country"))
    )
    return (
        Country.objects.filter(
            models.Q(crises=crisis) | (near & ~models.Q(pk=crisis.home_country_id))
        )
        .values("pk")
        .distinct()
    )


def crisis_countries(crisis: Crisis) -> set[int]:
    """`crisis_country_ids`, read."""
    return set(crisis_country_ids(crisis).values_list("pk", flat=True))


def country_allowed(crisis: Crisis, country: Country, allowed: set[int] | None = None) -> bool:
    """Whether a person of the crisis may be registered or corrected into `country` — on
    every channel an officer or a registration uses: one of `crisis_countries` (a transit
    state where people who crossed out wait is one). Anywhere else the person would fall
    outside every consul's view of the crisis. The status page is the exception: a person
    who flew further may say so (any country but the home country; kept as said, seen in
    the crisis-wide lists). `allowed`: `crisis_countries(crisis)`, when already read."""
    return country.pk in (crisis_countries(crisis) if allowed is None else allowed)


def country_refused(crisis: Crisis, country: Country) -> str:
    """Why a country is refused (`country_allowed`), naming the crisis's countries."""
    codes = sorted(crisis.affected_countries.values_list("code", flat=True))
    return _(
        "%(country)s is outside this crisis: its people are in one of its affected countries "
        "(%(countries)s), in a country its border crossings lead into, or in a country one "
        "of its missions covers."
    ) % {"country": country.code, "countries": ", ".join(codes)}


def iin_problem_text(exc: IinError, value: str) -> str:
    """What is wrong with an IIN, in the user's language, without repeating the number
    (the message is kept with the rejected input)."""
    digits = "".join(value.split()).replace("-", "")
    texts = {
        "digits": _("An IIN has only digits."),
        "length": _("An IIN has 12 digits; this one has %(n)d.") % {"n": len(digits)},
        "century": _("The 7th digit of an IIN (century and sex) is 1 to 6."),
        "date": _("The first six digits of the IIN are not a birth date (YYMMDD)."),
        "checksum": _("The IIN's check digit does not match: a digit is wrong."),
    }
    return str(texts.get(exc.problem, _("Not a valid IIN.")))


def citizenship_problem(
    eligibility: str, nationalities: list[str], homes: list[Country]
) -> str | None:
    """What is wrong with a person's citizenship for their eligibility, or None — one rule
    for every channel (the forms' `check_citizenship`, a registration's members, an
    officer's correction): a citizen holds the home country's citizenship (one of `homes`:
    the crisis's home country; the public form's, those of the crises it offers); a family
    member of a citizen or a partner-state national holds another one — only the home
    country's alone is refused, a second citizenship besides it is not (a citizen may hold
    another one too). Only what was sent is checked: no nationalities (the registry's
    default: a citizen's is the home country's, anyone else's none) is never refused.
    `nationalities`: ISO alpha-2 codes in capitals, as the schemas clean them."""
    if not nationalities or not homes:
        return None
    home = {c.code for c in homes}
    name = homes[0].local_name
    if eligibility == Eligibility.CITIZEN:
        if home.isdisjoint(nationalities):
            return _(
                "A citizen's citizenship is %(country)s. For someone of another "
                "citizenship, choose “Family member of a citizen” or “Partner-state "
                "national” above."
            ) % {"country": name}
    elif home.issuperset(nationalities):
        return _(
            "Choose this person's citizenship: not %(country)s, since they are not a "
            "citizen (or choose “Citizen” above)."
        ) % {"country": name}
    return None


def _member_problems(
    index: int, member: MemberIn, home: Country, countries: dict[str, Country] | None = None
) -> list[Problem]:
    """`_member_problems_of_its_own`, then the codes that must name countries (a look-up):
    an unknown nationality is said instead of the citizenship rule, as on the forms."""
    problems = _member_problems_of_its_own(index, member, home)
    where = f"members.{index}"
    if countries is None:
        countries = _countries_for(
            [d.issuing_state for d in member.documents] + member.nationalities
        )
    unknown = [c for c in member.nationalities if c not in countries]
    if unknown:
        problems = [p for p in problems if p.field != f"{where}.nationalities"]
        problems.append(
            Problem(
                f"{where}.nationalities", _("Unknown country %(c)s.") % {"c": ", ".join(unknown)}
            )
        )
    for d, doc in enumerate(member.documents):
        if doc.issuing_state and doc.issuing_state.upper() not in countries:
            problems.append(
                Problem(
                    f"{where}.documents.{d}.issuing_state",
                    _("Unknown issuing state %(s)s.") % {"s": doc.issuing_state},
                )
            )
    return problems


def _member_problems_of_its_own(index: int, member: MemberIn, home: Country) -> list[Problem]:
    """What is wrong with a member that needs no look-up: the IIN (checksum, the birth
    date and sex it encodes), the e-mail address and the citizenship against the
    eligibility (`citizenship_problem`; `home`: the crisis's home country). Checked when a
    queued registration is taken too, so that the person is told at once rather than
    refused unseen later."""
    problems = []
    where = f"members.{index}"
    if problem := citizenship_problem(member.eligibility, member.nationalities, [home]):
        problems.append(Problem(f"{where}.nationalities", problem))
    if member.iin:
        try:
            parsed = parse_iin(member.iin)
        except IinError as exc:
            problems.append(Problem(f"{where}.iin", iin_problem_text(exc, member.iin)))
        else:
            if member.birth_date and parsed.birth_date != member.birth_date:
                problems.append(
                    Problem(
                        f"{where}.iin",
                        _("The IIN encodes a different birth date (%(d)s).")
                        % {"d": parsed.birth_date.isoformat()},
                    )
                )
            if member.sex in ("F", "M") and parsed.sex != member.sex:
                problems.append(Problem(f"{where}.iin", _("The IIN encodes a different sex.")))
    if member.email and (problem := email_problem(member.email)):
        problems.append(Problem(f"{where}.email", problem))
    return problems


def _payload_location(payload: Any) -> dict[str, Any]:
    """Where a submission says its people are: a registration's `location`, else its own
    fields (a form's as posted, a status-page update's)."""
    if not isinstance(payload, dict):
        return {}
    location = payload.get("location")
    return location if isinstance(location, dict) else payload


def payload_country_code(payload: Any) -> str:
    """The country code a submission names: a registration's `location.country`, a form's
    `country` (the public and hotline forms keep what was posted)."""
    code = str(_payload_location(payload).get("country") or "").strip().upper()[:3]
    return code if code.isascii() and code.isalpha() else ""


def payload_place(payload: Any) -> str:
    """The place a submission names, as sent (country code, typed city, address), for the
    person page's list of intake records: the person's location history. Empty when it
    names none (an update of a phone number)."""
    location = _payload_location(payload)
    sent = (location.get(k) for k in ("country", "city", "address"))
    return ", ".join(v.strip() for v in sent if isinstance(v, str) and v.strip())


def _country_of(payload: Any, batch: Any = None) -> Country | None:
    """The country a refused submission is about: its import's, else the one it names."""
    if batch is not None:
        return batch.country
    code = payload_country_code(payload)
    return _countries_for([code]).get(code) if code else None


def _reject(
    *,
    crisis: Crisis,
    channel: str,
    payload: Any,
    actor: User | None,
    problems: list[Problem],
    source: str,
    source_ref: str,
    idempotency_key: str,
    kind: str,
    batch: Any = None,
    row_number: int | None = None,
    country: Country | None = None,
    corrects: IntakeRecord | None = None,
) -> IntakeRecord:
    """Keep a rejected submission with its reasons.

    Its idempotency key is not kept as it came: the corrected submission that follows may
    carry the same key and must be accepted. It is kept as `rejected_key` (the key together
    with what was sent), so that a retry of the same refused submission with the same key
    — a double click, a client retrying after a lost answer — returns this record and
    creates nothing new. An import's row is its batch's own and is always kept.

    The payload is kept exactly as received (encrypted: a NUL in it is stored too). The
    reasons and the references are plain columns, which PostgreSQL refuses a NUL in (a
    reason may quote the value refused): NUL is written there as U+FFFD (`storable`)."""
    reasons = storable(problem_reasons(problems))
    key = rejected_key(idempotency_key, payload) if batch is None else ""
    values: dict[str, Any] = dict(
        crisis=crisis,
        country=country or _country_of(payload, batch),
        channel=channel,
        kind=kind,
        payload=payload,
        actor=actor,
        source=storable(source),
        source_ref=storable(source_ref),
        idempotency_key=key,
        outcome=IntakeRecord.Outcome.REJECTED,
        rejection_reasons=reasons,
        batch=batch,
        row_number=row_number,
        corrects=corrects,
    )
    if key:
        earlier = IntakeRecord.objects.filter(
            crisis=crisis, channel=channel, idempotency_key=key
        ).first()
        if earlier is not None:
            return earlier
        try:
            with transaction.atomic():
                record = IntakeRecord.objects.create(**values)
        except IntegrityError:
            # A concurrent retry of the same refused submission kept it first.
            return IntakeRecord.objects.get(crisis=crisis, channel=channel, idempotency_key=key)
    else:
        record = IntakeRecord.objects.create(**values)
    audit_write(
        actor=actor,
        verb="intake_reject",
        action=AuditEntry.Action.CREATE,
        obj=record,
        crisis=crisis,
        changes={"channel": [None, channel], "fields": [None, sorted(reasons)]},
    )
    return record


def rejected_key(idempotency_key: str, payload: Any) -> str:
    """The key a refused submission is kept under: its idempotency key (already scoped to
    the client where the channel scopes keys) together with what was sent, so that only
    the same refused submission sent again finds it ("" without a key)."""
    if not idempotency_key:
        return ""
    canonical = canonical_payload(payload)
    digest = hashlib.sha256(f"{idempotency_key}\n{canonical}".encode()).hexdigest()
    return f"rejected:{digest}"


def canonical_payload(payload: Any) -> str:
    """A submission as one text, the same for the same content whatever the order of its
    keys: what tells a retry from a changed submission."""
    return json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)


def intake_reject(
    *,
    crisis: Crisis,
    channel: str,
    payload: Any,
    problems: dict[str, str],
    actor: User | None = None,
    source: str = "",
    source_ref: str = "",
    kind: str = "registration",
    batch: Any = None,
    row_number: int | None = None,
    corrects: IntakeRecord | None = None,
    idempotency_key: str = "",
    country: Country | None = None,
) -> IntakeRecord:
    """Keep a submission that an interface refused before it reached a service (a form
    with errors, an unreadable import row), so that nothing sent is lost. With an
    `idempotency_key` (a form's token), the same refused submission sent again returns the
    record kept the first time (`_reject`)."""
    return _reject(
        crisis=crisis,
        channel=channel,
        payload=payload,
        actor=actor,
        problems=[Problem(f, m) for f, m in problems.items()],
        source=source,
        source_ref=source_ref,
        idempotency_key=idempotency_key,
        kind=kind,
        batch=batch,
        row_number=row_number,
        corrects=corrects,
        country=country,
    )


class _Rejected(ApplicationError):
    """A submission refused with a reason per field, kept as a rejected intake record."""

    @staticmethod
    def headline() -> str:
        raise NotImplementedError

    def __init__(self, record: IntakeRecord, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(
            self.headline() % {"field": first.field, "message": first.message},
            {
                "errors": [{"field": p.field, "message": p.message} for p in problems],
                "intake_record": record.pk,
            },
        )
        self.record = record
        self.problems = problems


class RegistrationRejected(_Rejected):
    @staticmethod
    def headline() -> str:
        return _("The registration was not accepted: %(field)s: %(message)s")


@dataclass
class Submission:
    """One household's registration as a channel received it."""

    payload: Any
    channel: str
    actor: User | None = None
    idempotency_key: str = ""
    source: str = ""
    source_ref: str = ""
    batch: Any = None
    row_number: int | None = None
    member_refs: list[list[Any]] = field(default_factory=list)
    # A submission taken into the queue earlier (`registration_accept`): its record is
    # completed instead of a new one created, and its reserved codes are used.
    pending: IntakeRecord | None = None
    # The rejected submission this one corrects (`IntakeRecord.corrects`).
    corrects: IntakeRecord | None = None

    @classmethod
    def queued(cls, record: IntakeRecord) -> Submission:
        """A pending intake record, to be registered."""
        return cls(
            payload=record.payload,
            channel=record.channel,
            actor=record.actor,
            idempotency_key=record.idempotency_key,
            source=record.source,
            source_ref=record.source_ref,
            batch=record.batch,
            row_number=record.row_number,
            member_refs=record.member_refs,
            pending=record,
            corrects=record.corrects,
        )

    def intake_record(self, crisis: Crisis, **fields: Any) -> IntakeRecord:
        """The (unsaved) intake record that keeps this submission; `fields` add or override."""
        values: dict[str, Any] = dict(
            crisis=crisis,
            channel=self.channel,
            kind="registration",
            payload=self.payload,
            actor=self.actor,
            source=self.source,
            source_ref=self.source_ref,
            idempotency_key=self.idempotency_key,
            batch=self.batch,
            row_number=self.row_number,
            member_refs=self.member_refs,
            corrects=self.corrects,
        )
        return IntakeRecord(**{**values, **fields})


@dataclass
class Outcome:
    """What became of a submission: accepted (with the people it created), repeated (an
    earlier record with the same idempotency key; nothing new), or rejected with reasons."""

    record: IntakeRecord
    people: list[Person] = field(default_factory=list)
    repeated: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.problems


def registration_submit(
    *,
    crisis: Crisis,
    channel: str,
    payload: Any,
    actor: User | None = None,
    idempotency_key: str = "",
    source: str = "",
    source_ref: str = "",
    batch: Any = None,
    row_number: int | None = None,
    corrects: IntakeRecord | None = None,
) -> IntakeRecord:
    """Register one household exactly as submitted (see `registrations_submit`); a
    rejected payload is kept and `RegistrationRejected` is raised. `corrects`: the rejected
    submission this one corrects (`selectors.corrected_record`)."""
    outcome = registrations_submit(
        crisis=crisis,
        submissions=[
            Submission(
                payload=payload,
                channel=channel,
                actor=actor,
                idempotency_key=idempotency_key,
                source=source,
                source_ref=source_ref,
                batch=batch,
                row_number=row_number,
                corrects=corrects,
            )
        ],
    )[0]
    if outcome.problems:
        raise RegistrationRejected(outcome.record, outcome.problems)
    return outcome.record


def registrations_submit(*, crisis: Crisis, submissions: list[Submission]) -> list[Outcome]:
    """Register households exactly as submitted, one outcome per submission, in order.

    Steps: a retried submission (same crisis, channel and idempotency key) returns the
    first record; each payload is validated (structure, then identity: IIN checksum and the
    birth date and sex it encodes, e-mail, issuing states, location); a rejected payload
    is kept as a rejected IntakeRecord with its reasons; the accepted ones create their
    households, people with documents, phones, name keys, first status event and priority,
    and accepted IntakeRecords linking them — all of them together, one INSERT per table,
    so a list of 200 households costs about what one costs.
    """
    # A crisis closed: what is sent is kept, refused with the reason (submissions queued
    # while it was open are still registered).
    closed = crisis.status != Crisis.Status.OPEN
    outcomes: list[Outcome | None] = [None] * len(submissions)
    earlier = _earlier_records(crisis, submissions)
    parsed: list[tuple[int, RegistrationIn]] = []
    first_with_key: dict[tuple[str, str], int] = {}
    repeats: dict[int, int] = {}  # a submission repeated within this call → the first
    for i, sub in enumerate(submissions):
        key = (sub.channel, sub.idempotency_key)
        if sub.pending is not None:
            pass  # its own record holds the key
        elif sub.idempotency_key and key in earlier:
            outcomes[i] = Outcome(earlier[key], repeated=True)
            continue
        elif sub.idempotency_key:
            if key in first_with_key:
                repeats[i] = first_with_key[key]
                continue
            first_with_key[key] = i
        if closed and sub.pending is None:
            outcomes[i] = _rejected(crisis, sub, [_crisis_closed(crisis)], sub.source_ref)
            continue
        try:
            parsed.append((i, RegistrationIn.model_validate(sub.payload)))
        except ValidationError as exc:
            outcomes[i] = _rejected(crisis, sub, _pydantic_problems(exc), sub.source_ref)
    countries = _countries_for(
        [d.location.country for _i, d in parsed]
        + [doc.issuing_state for _i, d in parsed for m in d.members for doc in m.documents]
        + [code for _i, d in parsed for m in d.members for code in m.nationalities]
    )
    allowed = crisis_countries(crisis) if parsed else set()
    city_ids = {d.location.city_id for _i, d in parsed if d.location.city_id is not None}
    typed = _typed_cities(
        {
            (country.pk, d.location.city)
            for _i, d in parsed
            if d.location.city_id is None
            and d.location.city
            and (country := countries.get(d.location.country.upper())) is not None
        }
    )
    cities = {c.pk: c for c in Place.objects.filter(pk__in=city_ids, kind=Place.Kind.CITY)}
    accepted: list[_Accepted] = []
    for i, data in parsed:
        sub = submissions[i]
        source_ref = sub.source_ref or data.source_ref
        problems, country, city = _registration_problems(
            crisis, data, countries, allowed, cities, typed
        )
        if problems:
            outcomes[i] = _rejected(crisis, sub, problems, source_ref)
        else:
            assert country is not None
            accepted.append(_Accepted(i, sub, data, country, city, source_ref))
    for attempt in range(5):
        if not accepted:
            break
        try:
            with transaction.atomic():
                for acc, (record, people) in zip(
                    accepted, _register_many(crisis, accepted), strict=True
                ):
                    outcomes[acc.index] = Outcome(record, people)
            break
        except IntegrityError:
            # A reference code collided (about once in 10^6 at a million people) or a
            # concurrent retry with the same idempotency key won: answer those with the
            # first record and write the rest again with new codes.
            earlier = _earlier_records(crisis, [a.submission for a in accepted])
            _redraw_taken_codes([a.submission.pending for a in accepted])
            still = []
            for acc in accepted:
                key = (acc.submission.channel, acc.submission.idempotency_key)
                if acc.submission.idempotency_key and key in earlier:
                    outcomes[acc.index] = Outcome(earlier[key], repeated=True)
                else:
                    still.append(acc)
            if len(still) == len(accepted) and attempt == 4:
                raise Conflict(_("Could not allocate a reference code; try again.")) from None
            accepted = still
    for i, first in repeats.items():
        done = outcomes[first]
        assert done is not None
        outcomes[i] = Outcome(done.record, repeated=not done.problems, problems=done.problems)
    result = [o for o in outcomes if o is not None]
    assert len(result) == len(submissions)
    return result


def _crisis_closed(crisis: Crisis) -> Problem:
    return Problem("crisis", _("The crisis is not open for registrations."))


def _registration_problems(
    crisis: Crisis,
    data: RegistrationIn,
    countries: dict[str, Country],
    allowed: set[int],
    cities: dict[int, Place],
    typed: dict[tuple[int, str], Place | None],
) -> tuple[list[Problem], Country | None, Place | None]:
    """What is wrong with a registration shaped right (identity, location, contact), given
    the reference data looked up for a whole list at once; and its country and city."""
    problems = [
        p
        for n, m in enumerate(data.members)
        for p in _member_problems(n, m, crisis.home_country, countries)
    ]
    country = countries.get(data.location.country.upper())
    if country is None:
        problems.append(
            Problem("location.country", _("Unknown country %(c)s.") % {"c": data.location.country})
        )
    elif not country_allowed(crisis, country, allowed):
        problems.append(Problem("location.country", country_refused(crisis, country)))
    city = None
    if data.location.city_id is not None:
        city = cities.get(data.location.city_id)
        if city is None:
            problems.append(Problem("location.city_id", _("No such city.")))
    elif data.location.city and country is not None:
        # A typed city that names a city of the reference data is that city.
        city = typed.get((country.pk, data.location.city))
    return problems + _contact_problems(data), country, city


def _contact_problems(data: RegistrationIn) -> list[Problem]:
    if data.contact_index >= len(data.members):
        return [Problem("contact_index", _("The contact must be one of the members."))]
    return []


def registration_problems(
    *, crisis: Crisis, payload: Any
) -> tuple[RegistrationIn | None, list[Problem]]:
    """Check one household's registration as `registrations_submit` would, writing nothing
    (the check for possible duplicates before saving): the payload parsed, and what is
    wrong with it — empty when it would be registered. Refused as the registration would
    be when the crisis is not open."""
    if crisis.status != Crisis.Status.OPEN:
        raise ApplicationError(_crisis_closed(crisis).message, {"crisis": crisis.code})
    try:
        data = RegistrationIn.model_validate(payload)
    except ValidationError as exc:
        return None, _pydantic_problems(exc)
    countries = _countries_for(
        [data.location.country]
        + [doc.issuing_state for m in data.members for doc in m.documents]
        + [code for m in data.members for code in m.nationalities]
    )
    cities = (
        {}
        if data.location.city_id is None
        else {c.pk: c for c in Place.objects.filter(pk=data.location.city_id, kind=Place.Kind.CITY)}
    )
    country = countries.get(data.location.country.upper())
    typed = (
        _typed_cities({(country.pk, data.location.city)})
        if data.location.city_id is None and data.location.city and country is not None
        else {}
    )
    problems, _country, _city = _registration_problems(
        crisis, data, countries, crisis_countries(crisis), cities, typed
    )
    return (None if problems else data), problems


def registration_accept(*, crisis: Crisis, submission: Submission) -> Outcome:
    """Take a registration into the queue and answer at once (for a surge): the payload is
    kept as a pending IntakeRecord with a reference code reserved for each member, and a
    background run (`registrations_process_pending`) registers it shortly after, with
    every check of `registrations_submit`; a payload that fails them is then marked
    rejected with its reasons. What needs no look-up is checked here, and a payload that
    fails it is rejected at once (the shape, each member's IIN and e-mail, the contact):
    the person is told now. A retry with the same idempotency key returns the first
    record."""
    sub = submission
    # A retry is found by the unique key when the record is written (a surge is almost
    # all first submissions: no look-up before), but a retry of a rejected payload must
    # not be kept twice, so the look-up is made for those.
    problems: list[Problem] = []
    source_ref = sub.source_ref
    try:
        data = RegistrationIn.model_validate(sub.payload)
    except ValidationError as exc:
        problems = _pydantic_problems(exc)
    if crisis.status != Crisis.Status.OPEN:
        problems = [_crisis_closed(crisis)]
    elif not problems:
        problems = [
            p
            for n, m in enumerate(data.members)
            for p in _member_problems_of_its_own(n, m, crisis.home_country)
        ] + _contact_problems(data)
        source_ref = sub.source_ref or data.source_ref
    if problems:
        if sub.idempotency_key:
            earlier = _earlier_records(crisis, [sub]).get((sub.channel, sub.idempotency_key))
            if earlier is not None:
                return Outcome(earlier, repeated=True)
        return _rejected(crisis, sub, problems, source_ref)
    record = sub.intake_record(crisis, source_ref=source_ref, outcome=IntakeRecord.Outcome.PENDING)
    try:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():
                _insert_with_free_codes(record, len(data.members))
        else:
            _insert_with_free_codes(record, len(data.members))  # no transaction needed
    except IntegrityError:
        earlier = _earlier_records(crisis, [sub]).get((sub.channel, sub.idempotency_key))
        if earlier is not None:
            return Outcome(earlier, repeated=True)
        # The key's record was a rejected one that let go of it for this correction.
        try:
            with transaction.atomic():
                _insert_with_free_codes(record, len(data.members))
        except IntegrityError:
            earlier = _earlier_records(crisis, [sub]).get((sub.channel, sub.idempotency_key))
            if earlier is None:
                raise
            return Outcome(earlier, repeated=True)
    from aman.registry.tasks import intake_process

    transaction.on_commit(intake_process.dispatch)
    return Outcome(record)


def registrations_process_pending(*, limit: int = 200) -> int:
    """Register queued submissions, up to `limit` at a time (one transaction each, rows
    locked so that two runs never take the same ones); returns how many were done."""
    done = 0
    while True:
        with transaction.atomic():
            records = list(
                IntakeRecord.objects.filter(outcome=IntakeRecord.Outcome.PENDING)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("crisis__home_country", "actor", "batch")
                .order_by("id")[:limit]
            )
            if not records:
                return done
            # Together per crisis and language: what is found wrong is kept in the words
            # of the person who sent it (the codes page and the status API show it).
            groups: dict[tuple[int, str], list[IntakeRecord]] = {}
            for record in records:
                groups.setdefault((record.crisis_id, _language_of(record)), []).append(record)
            for (_crisis, language), group in groups.items():
                with translation.override(language):
                    registrations_submit(
                        crisis=group[0].crisis,
                        submissions=[Submission.queued(r) for r in group],
                    )
            done += len(records)


def _language_of(record: IntakeRecord) -> str:
    """The language a queued submission was sent in (the public form's page, an API
    client's `language`), else the site's."""
    payload: dict[str, Any] = record.payload if isinstance(record.payload, dict) else {}
    language = str(payload.get("language") or "")[:2]
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _insert_with_free_codes(record: IntakeRecord, n: int) -> None:
    """Save a new intake record reserving `n` reference codes that no person has, in one
    statement (INSERT … SELECT … WHERE NOT EXISTS a person with one of them; drawn again
    in the rare case one is taken), with a `ReservedCode` row for each code (the status
    page finds the record by them): on PostgreSQL in the same statement, on SQLite in a
    second one within the same transaction. Plain SQL: this is the whole of a queued
    registration's work in the request, and the ORM's INSERT cost more than the database
    did. The values are prepared as `save()` prepares them."""
    from django.db import connection

    fields, sql, reserve = _insert_sql(connection.vendor, n)
    while True:
        codes = sorted({new_reference_code() for _i in range(n)})
        if len(codes) < n:
            continue
        record.reference_codes = codes
        values = prepared(record, fields, connection, add=True)
        if reserve:  # SQLite: the record, then its codes
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [*values, *codes])
                row = cursor.fetchone()
                if row is not None:
                    cursor.execute(reserve, [x for code in codes for x in (code, row[0])])
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql, [*values, *codes, *codes])
                row = cursor.fetchone()
        if row is not None:
            record.pk = row[0]
            record._state.adding = False
            record._state.db = connection.alias
            return


@functools.cache
def _insert_sql(vendor: str, n: int) -> tuple[list[models.Field[Any, Any]], str, str]:
    """The INSERT of a record reserving `n` codes, and the INSERT of its codes' rows when it
    is a statement of its own (SQLite cannot write two tables in one statement; PostgreSQL
    does, with a data-modifying WITH)."""
    from django.db import connection

    fields = [f for f in IntakeRecord._meta.local_concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    params = [placeholder(f, connection) for f in fields]
    record = (
        f"INSERT INTO {quote(IntakeRecord._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(str(f.column)) for f in fields)}) "
        f"SELECT {', '.join(params)} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {quote(Person._meta.db_table)} "
        f"WHERE {quote('reference_code')} IN ({', '.join(['%s'] * n)})) "
        f"RETURNING {quote(str(IntakeRecord._meta.pk.column))}"
    )
    table = quote(ReservedCode._meta.db_table)
    record_id = quote(str(ReservedCode._meta.get_field("record").column))
    columns = f"({quote('code')}, {record_id})"
    if vendor != "postgresql":
        rows = ", ".join(["(%s, %s)"] * n)
        return fields, record, f"INSERT INTO {table} {columns} VALUES {rows}"  # noqa: S608
    codes = ", ".join(["(%s::varchar)"] * n)
    pk = quote(str(IntakeRecord._meta.pk.column))
    both = (
        f"WITH r AS ({record}) INSERT INTO {table} {columns} "  # noqa: S608
        f"SELECT c.code, r.{pk} FROM r CROSS JOIN (VALUES {codes}) AS c(code) "
        f"RETURNING {record_id}"
    )
    return fields, both, ""


def _redraw_taken_codes(pending: list[IntakeRecord | None]) -> None:
    """After a collision: a queued submission's reserved code that a person took meanwhile
    (two submissions reserved the same code, about once in 10^12) is drawn again."""
    reserved = {c for r in pending if r is not None for c in r.reference_codes}
    if not reserved:
        return
    taken = set(
        Person.objects.filter(reference_code__in=reserved).values_list("reference_code", flat=True)
    )
    seen: set[str] = set()
    for record in pending:
        if record is None:
            continue
        taken |= seen & set(record.reference_codes)  # reserved twice in this list
        seen |= set(record.reference_codes)
        if taken & set(record.reference_codes):
            record.reference_codes = [
                new_reference_code() if c in taken else c for c in record.reference_codes
            ]


@dataclass
class _Accepted:
    index: int
    submission: Submission
    data: RegistrationIn
    country: Country
    city: Place | None
    source_ref: str


def _earlier_records(
    crisis: Crisis, submissions: list[Submission]
) -> dict[tuple[str, str], IntakeRecord]:
    keys: dict[str, set[str]] = {}
    for sub in submissions:
        if sub.idempotency_key and sub.pending is None:
            keys.setdefault(sub.channel, set()).add(sub.idempotency_key)
    found: dict[tuple[str, str], IntakeRecord] = {}
    for channel, values in keys.items():
        for record in IntakeRecord.objects.filter(
            crisis=crisis, channel=channel, idempotency_key__in=values
        ):
            found[channel, record.idempotency_key] = record
    for sub in submissions:
        held = found.get((sub.channel, sub.idempotency_key))
        if held is not None and sub.pending is None and _let_go_for_correction(held, sub):
            del found[sub.channel, sub.idempotency_key]
    return found


def _let_go_for_correction(record: IntakeRecord, sub: Submission) -> bool:
    """A queued registration the background run found wrong keeps its idempotency key, so
    that a retry of the same payload returns it and creates nothing new. A *different*
    payload under that key is the corrected registration: the rejected record then lets go
    of the key (kept under `rejected_key`, as a registration refused at once is) and the
    correction is taken as new."""
    key = sub.idempotency_key
    if record.outcome != IntakeRecord.Outcome.REJECTED or record.idempotency_key != key:
        return False
    kept_as = rejected_key(key, record.payload)
    if kept_as == rejected_key(key, sub.payload):
        return False  # the same refused payload again: its record is the answer
    try:
        with transaction.atomic():
            IntakeRecord.objects.filter(pk=record.pk, idempotency_key=key).update(
                idempotency_key=kept_as
            )
    except IntegrityError:
        # The same payload was refused at once under this key before: that record holds
        # it already.
        IntakeRecord.objects.filter(pk=record.pk, idempotency_key=key).update(idempotency_key="")
    return True


def _countries_for(codes: list[str]) -> dict[str, Country]:
    """Countries by ISO alpha-2 and alpha-3 code, for the codes given (one query)."""
    wanted = {c.upper() for c in codes if c}
    found: dict[str, Country] = {}
    if wanted:
        for country in Country.objects.filter(
            models.Q(code__in=wanted) | models.Q(code3__in=wanted)
        ):
            found[country.code] = country
            if country.code3:
                found[country.code3] = country
    return found


def _rejected(crisis: Crisis, sub: Submission, problems: list[Problem], source_ref: str) -> Outcome:
    if sub.pending is not None:
        # A queued submission found wrong: its record says so, and keeps its key — a
        # retry of the same payload is answered with it; a corrected payload under the
        # same key makes it let go (`_let_go_for_correction`).
        record = sub.pending
        record.outcome = IntakeRecord.Outcome.REJECTED
        record.rejection_reasons = storable(problem_reasons(problems))
        record.source_ref = storable(source_ref)
        record.country = _country_of(record.payload, record.batch)
        record.save(update_fields=["outcome", "rejection_reasons", "source_ref", "country"])
        audit_write(
            actor=sub.actor,
            verb="intake_reject",
            action=AuditEntry.Action.UPDATE,
            obj=record,
            crisis=crisis,
            changes={
                "outcome": [IntakeRecord.Outcome.PENDING, IntakeRecord.Outcome.REJECTED],
                "fields": [None, sorted(record.rejection_reasons)],
            },
        )
        return Outcome(record, problems=problems)
    record = _reject(
        crisis=crisis,
        channel=sub.channel,
        payload=sub.payload,
        actor=sub.actor,
        problems=problems,
        source=sub.source,
        source_ref=source_ref,
        idempotency_key=sub.idempotency_key,
        kind="registration",
        batch=sub.batch,
        row_number=sub.row_number,
        corrects=sub.corrects,
    )
    return Outcome(record, problems=problems)


def priority_policy(crisis: Crisis) -> PriorityPolicy:
    """The crisis's priority policy (the ministry's default, unsaved, until one is set)."""
    return PriorityPolicy.objects.filter(crisis=crisis).first() or PriorityPolicy(
        crisis=crisis, mode=PriorityPolicy.Mode.WEIGHTS, rules=triage.DEFAULT_RULES
    )


def _policy(crisis: Crisis) -> tuple[list[dict[str, Any]], str]:
    policy = priority_policy(crisis)
    return policy.rules, policy.mode


def _facts(person: Person) -> triage.Facts:
    return triage.Facts(
        birth_date=person.birth_date,
        sex=person.sex,
        pregnant=person.pregnant,
        medical_need=person.medical_need,
        disability=person.disability,
        reduced_mobility=person.reduced_mobility,
        unaccompanied_minor=person.unaccompanied_minor,
    )


def _new_person(
    crisis: Crisis, acc: _Accepted, member: MemberIn, household: Household, now: Any, code: str
) -> Person:
    data = acc.data
    doc = next((d for d in member.documents if d.surname_latin), None)
    return Person(
        crisis=crisis,
        reference_code=code,
        household=household,
        surname=member.surname,
        given_names=member.given_names,
        patronymic=member.patronymic,
        surname_latin=(doc.surname_latin if doc else member.surname_latin.upper())
        or passport_latin(member.surname),
        given_names_latin=(doc.given_names_latin if doc else member.given_names_latin.upper())
        or passport_latin(member.given_names),
        # Given (a document's, or as the person writes it), not transliterated: kept.
        latin_from_document=doc is not None
        or bool(member.surname_latin or member.given_names_latin),
        birth_date=member.birth_date,
        sex=member.sex,
        nationalities=member.nationalities
        or ([crisis.home_country.code] if member.eligibility == "citizen" else []),
        iin=member.iin,
        iin_hash=iin_hash(member.iin) if member.iin else "",
        email=member.email,
        messengers=messengers_text(member.messengers),
        language=member.language or data.language,
        pregnant=member.pregnant,
        medical_need=member.medical_need,
        reduced_mobility=member.reduced_mobility,
        disability=member.disability,
        unaccompanied_minor=member.unaccompanied_minor,
        needs_note=member.needs_note,
        consent_at=now,
        country=acc.country,
        city=acc.city,
        # A typed city (none chosen) is kept in front of the address: the planner reads it.
        address=data.location.address
        if acc.city is not None
        else ", ".join(x for x in (data.location.city, data.location.address) if x)[:300],
        latitude=data.location.latitude,
        longitude=data.location.longitude,
        location_updated_at=now,
        intent=data.intent,
        eligibility=member.eligibility,
        channel=acc.submission.channel,
    )


def _register_many(
    crisis: Crisis, accepted: list[_Accepted]
) -> list[tuple[IntakeRecord, list[Person]]]:
    """Write validated registrations: one INSERT per table for all of them."""
    now = timezone.now()
    rules, mode = _policy(crisis)
    today = timezone.localdate()
    households = [Household(crisis=crisis) for _acc in accepted]
    groups: list[list[Person]] = []
    for acc, household in zip(accepted, households, strict=True):
        pending = acc.submission.pending
        codes = list(pending.reference_codes) if pending is not None else []
        codes += [new_reference_code() for _m in acc.data.members[len(codes) :]]
        people = [
            _new_person(crisis, acc, m, household, now, code)
            for m, code in zip(acc.data.members, codes, strict=False)
        ]
        for person in people:
            person.priority, person.priority_reasons = triage.assess(
                _facts(person), rules, mode, today
            )
        household.priority = max(p.priority for p in people)
        groups.append(people)
    Household.objects.bulk_create(households)
    for household, people in zip(households, groups, strict=True):
        for person in people:
            person.household = household
    Person.objects.bulk_create([p for people in groups for p in people])
    documents, phones, keys, pairs, events = [], [], [], [], []
    for acc, people in zip(accepted, groups, strict=True):
        channel = acc.submission.channel
        note = _("registered via %(channel)s") % {"channel": channel}
        for member, person in zip(acc.data.members, people, strict=True):
            documents += [
                Document(
                    person=person,
                    kind=d.kind,
                    number=d.number,
                    number_hash=document_hash(d.number),
                    issuing_state=d.issuing_state,
                    expiry_date=d.expiry_date,
                    surname_latin=d.surname_latin,
                    given_names_latin=d.given_names_latin,
                )
                for d in member.documents
            ]
            regions = [*person.nationalities, crisis.home_country.code, acc.country.code]
            for raw in member.phones:
                result = _phone(raw, regions)
                value = result.e164 or raw
                phones.append(
                    Phone(
                        person=person,
                        number=value,
                        number_hash=phone_hash(value),
                        valid=result.valid,
                    )
                )
            person_keys = _name_keys(person)
            keys += person_keys
            pairs += _name_pairs(person, [k.key for k in person_keys])
            events.append(
                StatusEvent(
                    person=person, status=Status.REGISTERED, actor=acc.submission.actor, note=note
                )
            )
    for rows in (documents, phones, keys, pairs, events):
        insert_rows(rows)
    for acc, household, people in zip(accepted, households, groups, strict=True):
        household.contact = people[acc.data.contact_index]
    update_rows(households, ["contact"])
    new_records = [
        acc.submission.intake_record(
            crisis, source_ref=acc.source_ref, household=household, country=acc.country
        )
        for acc, household in zip(accepted, households, strict=True)
        if acc.submission.pending is None
    ]
    IntakeRecord.objects.bulk_create(new_records)
    completed = []
    for acc, household in zip(accepted, households, strict=True):
        if acc.submission.pending is not None:
            record = acc.submission.pending
            record.outcome = IntakeRecord.Outcome.ACCEPTED
            record.household = household
            record.source_ref = acc.source_ref
            record.country = acc.country
            completed.append(record)
    if completed:
        update_rows(completed, ["outcome", "household", "source_ref", "reference_codes", "country"])
    fresh = iter(new_records)
    records = [
        acc.submission.pending if acc.submission.pending is not None else next(fresh)
        for acc in accepted
    ]
    through = IntakeRecord.people.through
    insert_rows(
        [
            through(intakerecord_id=record.pk, person_id=person.pk)
            for record, people in zip(records, groups, strict=True)
            for person in people
        ]
    )
    audit_write_many(
        [
            dict(
                actor=acc.submission.actor,
                verb="registration_submit",
                action=AuditEntry.Action.CREATE,
                obj=record,
                crisis=crisis,
                changes={
                    "household": [None, household.pk],
                    "people": [None, [p.pk for p in people]],
                    "channel": [None, acc.submission.channel],
                },
            )
            for acc, record, household, people in zip(
                accepted, records, households, groups, strict=True
            )
        ]
    )
    _record_possible_duplicates(crisis, accepted, groups, records, documents, phones)
    return list(zip(records, groups, strict=True))


def _record_possible_duplicates(
    crisis: Crisis,
    accepted: list[_Accepted],
    groups: list[list[Person]],
    records: list[IntakeRecord],
    documents: list[Document],
    phones: list[Phone],
) -> None:
    """Who among the people already registered may be one of these (the duplicate check
    of every channel; kept for an officer to review)."""
    from aman.dedup.services import candidates_record

    docs: dict[int, set[str]] = {}
    for d in documents:
        docs.setdefault(d.person_id, set()).add(d.number_hash)
    tels: dict[int, set[str]] = {}
    for t in phones:
        tels.setdefault(t.person_id, set()).add(t.number_hash)
    probes, probe_records = [], []
    for people, record in zip(groups, records, strict=True):
        for p in people:
            probes.append(_probe(p, docs.get(p.pk, ()), tels.get(p.pk, ())))
            probe_records.append(record)
    actor = accepted[0].submission.actor if accepted else None
    candidates_record(actor=actor, crisis=crisis, probes=probes, records=probe_records)


# What the duplicate check reads: a change of any of these checks the person again.
IDENTITY_FIELDS = frozenset(
    {"surname", "given_names", "surname_latin", "given_names_latin", "birth_date", "iin"}
    | {"documents", "phones"}
)


def _check_again(actor: User | None, person: Person, record: IntakeRecord) -> int:
    """The duplicate check of a person already registered whose identity changed (an
    officer's correction, a phone from the status page): who else may be them now, kept
    for review with the intake record that changed them. Returns the new pairs."""
    from aman.dedup.services import candidates_record

    probe = _probe(
        person,
        person.documents.values_list("number_hash", flat=True),
        person.phones.values_list("number_hash", flat=True),
    )
    return candidates_record(actor=actor, crisis=person.crisis, probes=[probe], records=[record])


def _probe(person: Person, document_hashes: Any, phone_hashes: Any) -> Any:
    """What the duplicate check reads of a saved person (`dedup.matching.Probe`)."""
    from aman.dedup.matching import Probe, probe_keys

    return Probe(
        surname_keys=probe_keys(person.surname, person.surname_latin),
        given_keys=probe_keys(person.given_names, person.given_names_latin),
        birth_date=person.birth_date,
        iin_hash=person.iin_hash,
        document_hashes=frozenset(document_hashes),
        phone_hashes=frozenset(phone_hashes),
        person_id=person.pk,
        household_id=person.household_id,
    )


def _phone(raw: str, regions: list[str]) -> Any:
    """A number written without a country code is read as a number of the person's own
    country first (a citizen abroad keeps their home SIM), then of where they are."""
    result = None
    for region in dict.fromkeys(regions):
        result = normalize_phone(raw, region)
        if result.valid:
            return result
    return result or normalize_phone(raw, None)


def _priority_refresh(person: Person) -> None:
    rules, mode = _policy(person.crisis)
    person.priority, person.priority_reasons = triage.assess(
        _facts(person), rules, mode, timezone.localdate()
    )


def _household_priority_refresh(household_id: int) -> None:
    """A household's priority is its highest member's."""
    top = Person.objects.filter(household_id=household_id).aggregate(m=models.Max("priority"))["m"]
    Household.objects.filter(pk=household_id).update(priority=top or 0)


def _name_keys(person: Person) -> list[NameKey]:
    text = " ".join(
        [
            person.surname,
            person.given_names,
            person.patronymic,
            person.surname_latin,
            person.given_names_latin,
        ]
    )
    return [
        NameKey(person=person, crisis_id=person.crisis_id, key=k[:60])
        for k in sorted({k[:60] for k in name_keys(text)})
        if k
    ]


def _name_pairs(person: Person, keys: list[str]) -> list[NamePair]:
    return [
        NamePair(person=person, crisis_id=person.crisis_id, key=pair)
        for pair in name_key_pairs(keys)
    ]


def _write_name_pairs(person: Person, keys: list[str] | None = None) -> None:
    """Make the person's name pairs those of their name keys (`keys`, or else the rows
    there now); pairs already there stay as they are."""
    if keys is None:
        keys = list(NameKey.objects.filter(person=person).values_list("key", flat=True))
    wanted = set(name_key_pairs(keys))
    current = dict(NamePair.objects.filter(person=person).values_list("key", "pk"))
    NamePair.objects.filter(
        pk__in=[pk for key, pk in current.items() if key not in wanted]
    ).delete()
    NamePair.objects.bulk_create(
        [
            NamePair(person=person, crisis_id=person.crisis_id, key=key)
            for key in sorted(wanted - set(current))
        ]
    )


def _write_name_keys(person: Person) -> None:
    """Make the person's name keys those of their names and of the names of every record
    merged into them (a spelling only a merged record had still finds the person); keys
    already there stay as they are. Their pairs follow them (`_write_name_pairs`)."""
    wanted = {k.key for k in _name_keys(person)}
    merged = list(Person.all_objects.filter(merged_into=person))
    while merged:
        record = merged.pop()
        wanted |= {k.key for k in _name_keys(record)}
        merged += list(Person.all_objects.filter(merged_into=record))
    current = dict(NameKey.objects.filter(person=person).values_list("key", "pk"))
    NameKey.objects.filter(pk__in=[pk for key, pk in current.items() if key not in wanted]).delete()
    NameKey.objects.bulk_create(
        [
            NameKey(person=person, crisis_id=person.crisis_id, key=key)
            for key in sorted(wanted - set(current))
        ]
    )
    _write_name_pairs(person, sorted(wanted))


@transaction.atomic
def person_set_status(
    *, actor: User | None, person: Person, status: str, note: str = ""
) -> StatusEvent:
    """Append a status event; transitions that make no sense are refused."""
    # The crisis comes with the person for the audit entry (locking only the person).
    person = (
        Person.objects.select_for_update(of=("self",)).select_related("crisis").get(pk=person.pk)
    )
    event, entry = person_status_step(actor=actor, person=person, status=status, note=note)
    audit_write(**entry)
    return event


def person_status_step(
    *, actor: User | None, person: Person, status: str, note: str = ""
) -> tuple[StatusEvent, dict[str, Any]]:
    """`person_set_status` inside a service's own transaction, for a service that has locked
    the person's row itself (a boarding locks it with the booking): the transition checked,
    the event appended, the status saved. Returns the event and the arguments of its audit
    entry, which the caller writes in the same transaction, with its own entries
    (`audit_write_many`: one INSERT)."""
    if status not in Status.values:
        raise ApplicationError(_("Unknown status."), {"status": [status]})
    allowed = TRANSITIONS[person.status]
    if status not in allowed:
        raise Conflict(
            _("%(person)s cannot go from “%(old)s” to “%(new)s”.")
            % {
                "person": person.reference_code,
                "old": Status(person.status).label,
                "new": Status(status).label,
            },
            {"status": [status], "allowed": sorted(allowed)},
        )
    event = StatusEvent.objects.create(
        person=person, status=status, previous=person.status, actor=actor, note=note.strip()[:500]
    )
    old = person.status
    person.status = status
    person.save(update_fields=["status", "updated_at"])
    entry = {
        "actor": actor,
        "verb": "person_set_status",
        "obj": person,
        "crisis": person.crisis,
        "changes": {"status": [old, status]},
    }
    return event, entry


@transaction.atomic
def priority_policy_set(
    *, actor: User | None, crisis: Crisis, mode: str, rules: Any
) -> PriorityPolicy:
    """Change a crisis's policy; everyone's priority is then recomputed in the background
    (`priority_recompute`, batch by batch, its progress on the policy). Registrations from
    the moment this commits use the new policy."""
    if mode not in PriorityPolicy.Mode.values:
        raise ApplicationError(_("Unknown mode."), {"mode": [mode]})
    try:
        clean = triage.validate_rules(rules)
    except triage.PolicyError as exc:
        raise ApplicationError(str(exc), {"rules": [str(exc)]}) from exc
    policy, _created = PriorityPolicy.objects.select_for_update().get_or_create(
        crisis=crisis, defaults={"mode": mode, "rules": clean}
    )
    before = {"mode": policy.mode, "rules": policy.rules} if not _created else {}
    policy.mode, policy.rules = mode, clean
    policy.recompute_run += 1
    policy.recompute_total = Person.objects.filter(crisis=crisis).count()
    policy.recompute_done = policy.recompute_changed = 0
    policy.recomputed_at = None
    policy.save()
    audit_write(
        actor=actor,
        verb="priority_policy_set",
        obj=policy,
        crisis=crisis,
        changes={"mode": [before.get("mode"), mode], "rules": [before.get("rules"), clean]},
    )
    from aman.registry.tasks import priority_recompute

    run, actor_id = policy.recompute_run, actor.pk if actor else None
    transaction.on_commit(lambda: priority_recompute.dispatch(crisis.pk, run, actor_id))
    return policy


def priority_recompute_run(
    *, crisis_id: int, run: int, actor_id: int | None = None, batch: int = 5000
) -> int | None:
    """The background recompute after a policy change: people in id order, each batch in
    its own transaction (nothing is held for long; people registered meanwhile already
    have the new policy's priority), the households of those that changed after them, then
    every household once more; the progress on the policy. Stops, returning None, when a
    newer change started its own run (the batch under way is undone); else the people
    changed, audited in the name of who changed the policy. A failure is recorded on the
    policy, where the page shows it."""
    policy = PriorityPolicy.objects.filter(crisis_id=crisis_id).first()
    if policy is None or policy.recompute_run != run:
        return None
    try:
        changed = _recompute_batches(policy, run, batch)
    except Exception as exc:
        PriorityPolicy.objects.filter(pk=policy.pk, recompute_run=run).update(
            recompute_error=f"{type(exc).__name__}: {exc}"[:500]
        )
        raise
    if changed is None:
        return None
    audit_write(
        actor=User.objects.filter(pk=actor_id).first() if actor_id else None,
        verb="priority_recompute",
        obj=policy,
        crisis=policy.crisis,
        changes={"people_changed": [None, changed]},
    )
    return changed


def _recompute_batches(policy: PriorityPolicy, run: int, batch: int) -> int | None:
    crisis = policy.crisis
    changed = 0
    last = 0
    households_last = 0
    while True:
        with transaction.atomic():
            mine = PriorityPolicy.objects.filter(pk=policy.pk, recompute_run=run)
            last, seen, dirty = people_recompute_priority(
                crisis=crisis, after=last, limit=batch, rules=policy.rules, mode=policy.mode
            )
            if seen:
                # People registered meanwhile are seen too: the total grows with them.
                updated = mine.update(
                    recompute_done=F("recompute_done") + seen,
                    recompute_total=Greatest(F("recompute_total"), F("recompute_done") + seen),
                    recompute_changed=F("recompute_changed") + dirty,
                )
            else:
                # Every household once more, as its members now rank (one whose members
                # were all merged away or moved included), a batch per transaction.
                ids = list(
                    Household.objects.filter(crisis=crisis, pk__gt=households_last)
                    .order_by("pk")
                    .values_list("pk", flat=True)[: batch * 4]
                )
                if ids:
                    households_last = ids[-1]
                    _households_recompute(Household.objects.filter(pk__in=ids))
                    updated = mine.count()
                else:
                    updated = mine.update(
                        recomputed_at=timezone.now(), recompute_done=F("recompute_total")
                    )
            # The policy's row, updated last, orders this batch against a change: a change
            # committed before it finds no row of this run here (the batch is undone, the
            # newer run redoes it); one committed after it waited for this batch.
            if not updated:
                transaction.set_rollback(True)
                return None
            changed += dirty
            if not seen and not ids:
                return changed


def people_recompute_priority(
    *,
    crisis: Crisis,
    after: int = 0,
    limit: int | None = None,
    rules: list[dict[str, Any]] | None = None,
    mode: str | None = None,
) -> tuple[int, int, int]:
    """Recompute the priorities of the crisis's people with ids above `after` (at most
    `limit` of them; all when None) under its policy (or the rules and mode given), and
    of their households where a member's changed. Returns the last id seen (`after` when
    none), how many people were seen and how many changed."""
    if rules is None or mode is None:
        rules, mode = _policy(crisis)
    return _reassess(
        Person.objects.filter(crisis=crisis), rules, mode, timezone.localdate(), after, limit
    )


# The facts `triage.assess` reads, then what it gave last time (`_reassess`).
_ASSESSED = (
    "id",
    "household_id",
    "birth_date",
    "sex",
    "pregnant",
    "medical_need",
    "disability",
    "reduced_mobility",
    "unaccompanied_minor",
    "priority",
    "priority_reasons",
)


def _reassess(
    people: models.QuerySet[Person],
    rules: list[dict[str, Any]],
    mode: str,
    today: date,
    after: int = 0,
    limit: int | None = None,
) -> tuple[int, int, int]:
    """Assess these people again (ids above `after`, at most `limit`) as of `today`, in id
    order, 5,000 at a time; write those whose priority or reasons changed and their
    households' priority. Returns the last id seen, how many were seen, how many changed."""
    qs = people.order_by("id").values_list(*_ASSESSED)
    changed = seen = 0
    last = after
    left = limit
    while left is None or left > 0:
        size = 5000 if left is None else min(5000, left)
        chunk = list(qs.filter(id__gt=last)[:size])
        if not chunk:
            break
        last = chunk[-1][0]
        seen += len(chunk)
        if left is not None:
            left -= len(chunk)
        dirty = []
        households = set()
        for pk, household, *facts, priority, reasons in chunk:
            new_priority, new_reasons = triage.assess(triage.Facts(*facts), rules, mode, today)
            if (new_priority, new_reasons) != (priority, reasons):
                dirty.append(Person(pk=pk, priority=new_priority, priority_reasons=new_reasons))
                if household is not None:
                    households.add(household)
        update_rows(dirty, ["priority", "priority_reasons"])
        changed += len(dirty)
        if households:
            _households_recompute(Household.objects.filter(pk__in=sorted(households)))
    return last, seen, changed


def _years_before(day: date, years: int) -> date:
    """The same day `years` earlier (29 February, in a year without one: the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _birthdays_between(since: date, until: date) -> models.Q:
    """The people whose age on `until` is not their age on `since` (`triage`'s age: one
    born on 29 February is a year older on 1 March in other years): a birthday after
    `since`, up to and including `until`. One range of birth dates per age, on the birth
    date's index."""
    if until <= since:
        return models.Q(pk__in=[])
    if (until - since).days >= 366:
        return models.Q(birth_date__isnull=False)
    ranges = models.Q(pk__in=[])
    for age in range(1, until.year - 1900 + 2):  # birth dates are from 1900 (`schemas`)
        ranges |= models.Q(
            birth_date__gt=_years_before(since, age), birth_date__lte=_years_before(until, age)
        )
    return ranges


def priority_ages_refresh(
    *, crisis: Crisis, since: date, today: date | None = None, actor: User | None = None
) -> int:
    """Assess again the people of the crisis whose age changed after `since`, up to
    `today` (a birthday in between): whoever crossed one of the policy's age limits (60 for
    the elderly, the end of childhood, adulthood for women) moves up or down, and the age
    an elderly person's or a child's priority is explained with is their age now. Other
    priorities change only at registration, a correction or a policy change; age is the
    only fact that changes by itself. Run daily (`tasks.priority_ages_refresh`), looking
    back a few days so that a missed day is made up. Audited like the policy's recompute,
    one entry per run with the number of people changed. Returns that number."""
    today = today or timezone.localdate()
    rules, mode = _policy(crisis)
    with transaction.atomic():
        people = Person.objects.filter(crisis=crisis).filter(_birthdays_between(since, today))
        # The rows are locked: a correction of the same person waits, and assesses after.
        list(people.select_for_update().values_list("pk", flat=True))
        _last, _seen, changed = _reassess(people, rules, mode, today)
        audit_write(
            actor=actor,
            verb="priority_ages_refresh",
            obj=crisis,
            crisis=crisis,
            changes={
                "people_changed": [None, changed],
                "birthdays": [None, [since.isoformat(), today.isoformat()]],
            },
        )
    return changed


def _households_recompute(households: models.QuerySet[Household]) -> None:
    """A household's priority is its highest member's (0 without members)."""
    top = (
        Person.objects.filter(household=OuterRef("pk"))
        .values("household")
        .annotate(m=Max("priority"))
        .values("m")
    )
    households.update(priority=Coalesce(Subquery(top), 0))


def person_lookup_public(*, reference_code: str, birth_date: Any) -> Person | None:
    """The person with this reference code and birth date, or None (the caller does not
    learn which of the two was wrong)."""
    code = normalize_reference_code(reference_code)
    if not code or birth_date is None:
        return None
    # A code of a record merged into another opens the person it was merged into; the
    # birth date may be the one registered under that code or the merged person's.
    found = Person.all_objects.filter(reference_code=code).values_list("pk", "birth_date").first()
    if found is None:
        return None
    from aman.registry.selectors import surviving_person_id

    person = (
        Person.objects.select_related("crisis", "country", "city")
        .filter(pk=surviving_person_id(found[0]))
        .first()
    )
    if person is None or birth_date not in (found[1], person.birth_date):
        return None
    return person


@dataclass(frozen=True)
class _Where:
    """Where a person is: the country, the city chosen from the reference data, or none and
    then the typed city in front of the address (as registration keeps it and the planner
    reads it), and the coordinates."""

    country: Country
    city: Place | None
    address: str
    latitude: float | None = None
    longitude: float | None = None

    def differs_from(self, person: Person) -> bool:
        return (self.country.pk, self.city.pk if self.city else None, self.address) != (
            person.country_id,
            person.city_id,
            person.address,
        )

    def apply_to(self, person: Person, now: Any) -> None:
        person.country = self.country
        person.city = self.city
        person.address = self.address
        person.latitude, person.longitude = self.latitude, self.longitude
        person.location_updated_at = now


def _typed_cities(names: set[tuple[int, str]]) -> dict[tuple[int, str], Place | None]:
    """The reference-data cities that typed city names name (`city_named`), by (country
    id, name as typed) → the city, or None: each name looked up once per call (a list of
    households from one place names it once)."""
    from aman.geo.loaders import fold

    by_key: dict[tuple[int, str], Place | None] = {}
    found: dict[tuple[int, str], Place | None] = {}
    for country_id, name in names:
        key = (country_id, fold(name))
        if key not in by_key:
            by_key[key] = city_named(country_id=country_id, name=name)
        found[country_id, name] = by_key[key]
    return found


def city_named(*, country_id: int, name: str) -> Place | None:
    """The reference-data city of this country that is called `name` in any of its names
    (English, Russian, Kazakh or another listed spelling; case and accents ignored), the most
    populous if several are: the same reading the planner gives a typed city."""
    from aman.geo.loaders import fold

    key = fold(name)
    if not key or "|" in key:
        return None
    found = [
        city
        for city in Place.objects.filter(
            kind=Place.Kind.CITY, country_id=country_id, search_text__contains=key
        ).order_by(F("population").desc(nulls_last=True), "pk")
        if key in city.search_text.split("|")
    ]
    return found[0] if found else None


def _typed_city(person: Person) -> str:
    """The city a person typed (none chosen): the first part of the address."""
    return "" if person.city_id else person.address.split(",")[0].strip()


def _where_after(
    person: Person, city: str, address: str, country: Country | None = None
) -> _Where | None:
    """Where a person is after an update from the status page that sent `city`, `address`
    and/or `country` (None when none of them says anything new). Only an address: the city
    is kept. A city: it replaces the city — the reference-data city of the country when it
    names one (`city_named`) — and an address and coordinates that belonged to the old place
    are not carried over. Another country: nothing of the old place carries over, the city
    is read in the new country, and without one the person is in that country, city not
    known. Any new place clears the coordinates: they were the old place's."""
    from aman.geo.loaders import fold

    if country is not None and country.pk != person.country_id:
        chosen = city_named(country_id=country.pk, name=city) if city else None
        if chosen is not None:
            return _Where(country, chosen, address[:300])
        return _Where(country, None, ", ".join(x for x in (city, address) if x)[:300])
    here = person.country
    if not city and not address:
        return None
    if city:
        chosen = city_named(country_id=person.country_id, name=city)
        same = (
            person.city_id is not None and chosen is not None and chosen.pk == person.city_id
        ) or (person.city_id is None and chosen is None and fold(city) == fold(_typed_city(person)))
        if same and not address:
            return _Where(here, person.city, person.address, person.latitude, person.longitude)
        if not same:
            if chosen is not None:
                return _Where(here, chosen, address[:300])
            return _Where(here, None, ", ".join(x for x in (city, address) if x)[:300])
    # Only a new address (or the same city again with one): the city stays.
    if person.city_id is not None:
        where = _Where(here, person.city, address[:300])
    else:
        where = _Where(here, None, ", ".join(x for x in (_typed_city(person), address) if x)[:300])
    if not where.differs_from(person):
        return _Where(here, person.city, person.address, person.latitude, person.longitude)
    return where


# An intent from the status page moves the status where the journey allows (`TRANSITIONS`):
# wanting to leave again after a decline or after staying is a registration again, which
# the planner takes (`planning.services.leaving_members`); choosing to stay is staying.
BACK_TO_LEAVING = frozenset({Status.DECLINED, Status.STAYING})


def _intent_target(person: Person, intent: str, intent_changed: bool) -> str | None:
    if intent == Intent.LEAVE and person.status in BACK_TO_LEAVING:
        return Status.REGISTERED
    if (
        intent == Intent.STAY
        and intent_changed
        and person.status != Status.STAYING
        and Status.STAYING in TRANSITIONS[person.status]
    ):
        return Status.STAYING
    return None


def _intent_note(target: str, by_officer: bool) -> str:
    """The reason kept on the status event, in the deployment's language (officers read it)."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        if target == Status.REGISTERED:
            if by_officer:
                return _("An officer recorded that the person wants to leave.")
            return _("Said on the status page that they want to leave.")
        if by_officer:
            return _("An officer recorded that the person is staying.")
        return _("Said on the status page that they are staying.")


def _intent_step(
    *, actor: User | None, person: Person, intent: str, intent_changed: bool, by_officer: bool
) -> dict[str, Any] | None:
    """The status step an intent calls for, if any (the person's row is locked by the
    caller); returns its audit entry's arguments."""
    target = _intent_target(person, intent, intent_changed)
    if target is None:
        return None
    _event, entry = person_status_step(
        actor=actor, person=person, status=target, note=_intent_note(target, by_officer)
    )
    return entry


# Household members already out of the country are not moved with the household's place.
NOT_MOVED_WITH_HOUSEHOLD = frozenset({Status.CROSSED_BORDER, Status.ARRIVED_HOME})


def _self_update_record(
    person: Person, payload: Any, channel: str, actor: User | None
) -> dict[str, Any]:
    """The intake record of a person's own update, accepted or refused: about this person
    only (their code, their country), kind *update*."""
    return dict(
        crisis=person.crisis,
        channel=channel,
        payload=payload,
        actor=actor,
        source="",
        source_ref=person.reference_code,
        idempotency_key="",
        kind="update",
        country=person.country,
    )


def person_update_self_refused(
    *,
    person: Person,
    payload: dict[str, Any],
    problems: dict[str, str],
    channel: str = "public_web",
    actor: User | None = None,
) -> IntakeRecord:
    """Keep a person's own update that the interface refused (a form with errors) as a
    rejected intake record of that person's update, with its reasons: as
    `person_update_self` keeps one the service refuses."""
    return _reject(
        **_self_update_record(person, payload, channel, actor),
        problems=[Problem(f, m) for f, m in problems.items()],
    )


def person_update_self(
    *,
    person: Person,
    payload: dict[str, Any],
    channel: str = "public_web",
    actor: User | None = None,
) -> IntakeRecord:
    """Apply a person's own update; kept as an IntakeRecord exactly as sent, rejected ones
    too. Priorities are recomputed when needs change.

    A place (`country`, `city`, `address`) is read by `_where_after`; with `household` true
    it is the place of the whole household too: the members whose place differs (and who
    are not out of the country already) move with it, and the same intake record names
    them. An intent moves the status where the journey allows (`_intent_target`): wanting to
    leave after a decline or after staying registers the person again; choosing to stay is
    staying."""
    from aman.registry.schemas import SelfUpdateIn

    common = _self_update_record(person, payload, channel, actor)
    try:
        data = SelfUpdateIn.model_validate(payload)
    except ValidationError as exc:
        problems = _pydantic_problems(exc)
        record = _reject(**common, problems=problems)
        raise RegistrationRejected(record, problems) from None
    problems = []
    if data.email and (problem := email_problem(data.email)):
        problems.append(Problem("email", problem))
    country = _countries_for([data.country]).get(data.country.upper()) if data.country else None
    if data.country and country is None:
        problems.append(Problem("country", _("Unknown country %(c)s.") % {"c": data.country}))
    if problems:
        record = _reject(**common, problems=problems)
        raise RegistrationRejected(record, problems)
    with transaction.atomic():
        person = (
            Person.objects.select_for_update(of=("self",))
            .select_related("crisis", "country", "city")
            .get(pk=person.pk)
        )
        now = timezone.now()
        changed: list[str] = []
        fields = data.model_dump(exclude_none=True)
        phone = fields.pop("phone", None)
        whole_household = fields.pop("household", False)
        fields.pop("country", None)
        handles = fields.pop("messengers", None)
        if handles:
            # A handle sent replaces that messenger's; the others stay (as a phone sent is
            # added to the person's phones).
            text = messengers_text({**person.messenger_handles, **handles})
            if text != person.messengers:
                person.messengers = text
                changed.append("messengers")
        where = _where_after(person, fields.pop("city", ""), fields.pop("address", ""), country)
        if where is not None and where.differs_from(person):
            if where.country.pk != person.country_id:
                changed.append("country")
            where.apply_to(person, now)
            changed.append("location")
        intent = fields.get("intent")
        intent_changed = intent is not None and intent != person.intent
        for name, value in fields.items():
            if getattr(person, name) != value:
                setattr(person, name, value)
                changed.append(name)
        if PRIORITY_FIELDS & set(changed):
            _priority_refresh(person)
            changed.append("priority")
        person.save()
        entries: list[dict[str, Any]] = []
        if intent is not None:
            step = _intent_step(
                actor=actor,
                person=person,
                intent=intent,
                intent_changed=intent_changed,
                by_officer=False,
            )
            if step is not None:
                entries.append(step)
                changed.append("status")
        if phone:
            result = _phone(
                phone, [*person.nationalities, person.crisis.home_country.code, person.country.code]
            )
            value = result.e164 or phone
            digest = phone_hash(value)
            if not person.phones.filter(number_hash=digest).exists():
                Phone.objects.create(
                    person=person, number=value, number_hash=digest, valid=result.valid
                )
                changed.append("phones")
        if person.household_id and "priority" in changed:
            _household_priority_refresh(person.household_id)
        record = IntakeRecord.objects.create(**common)
        if "phones" in changed:
            _check_again(actor, person, record)
        moved: list[Person] = []
        if where is not None and whole_household and person.household_id:
            for member in (
                Person.objects.select_for_update()
                .filter(household_id=person.household_id)
                .exclude(pk=person.pk)
                .exclude(status__in=NOT_MOVED_WITH_HOUSEHOLD)
                .order_by("pk")
            ):
                if (member.latitude, member.longitude) != (
                    person.latitude,
                    person.longitude,
                ) or where.differs_from(member):
                    where.apply_to(member, person.location_updated_at or now)
                    member.save(
                        update_fields=[
                            "country",
                            "city",
                            "address",
                            "latitude",
                            "longitude",
                            "location_updated_at",
                            "updated_at",
                        ]
                    )
                    moved.append(member)
        record.people.add(person, *moved)
        entries += [
            {
                "actor": actor,
                "verb": "person_update_self",
                "obj": member,
                "crisis": person.crisis,
                "changes": {
                    "fields": [None, ["location"]],
                    "intake_record": [None, record.pk],
                    "with_household_of": [None, person.pk],
                },
            }
            for member in moved
        ]
        entries.append(
            {
                "actor": actor,
                "verb": "person_update_self",
                "obj": person,
                "crisis": person.crisis,
                "changes": {
                    "fields": [None, sorted(set(changed))],
                    "intake_record": [None, record.pk],
                },
            }
        )
        audit_write_many(entries)
    return record


PRIORITY_FIELDS = {
    "birth_date",
    "sex",
    "pregnant",
    "medical_need",
    "reduced_mobility",
    "disability",
    "unaccompanied_minor",
}
NAME_FIELDS = {"surname", "given_names", "patronymic", "surname_latin", "given_names_latin"}
LOCATION_FIELDS = {"country", "city", "address", "latitude", "longitude"}
# A document's fields a correction writes.
DOCUMENT_FIELDS = (
    "kind",
    "number",
    "issuing_state",
    "expiry_date",
    "surname_latin",
    "given_names_latin",
)


class CorrectionRejected(_Rejected):
    """An officer's correction refused, with a reason per field; it is kept as a rejected
    intake record (`record`)."""

    @staticmethod
    def headline() -> str:
        return _("The correction was not accepted: %(field)s: %(message)s")


def person_update(
    *,
    actor: User | None,
    person: Person,
    payload: dict[str, Any],
    channel: str = "officer",
) -> Person:
    """Correct a person's record (an officer, in the UI or through the API). Only the
    fields sent change; `documents` and `phones`, when sent, are the whole list (see
    `PersonPatchIn`). The correction is kept as an intake record (kind `update`, the payload
    as sent), a refused one too, with its reasons (`CorrectionRejected`), so the values
    before it remain in the records before it. The audit log names the fields changed
    (never their values: they include identifiers). Names and their search keys, the
    Latin names (transliterated again when they were not given), the IIN's hash and the
    priority follow the change."""
    from aman.registry.schemas import NULLABLE, PersonPatchIn

    common: dict[str, Any] = dict(
        crisis=person.crisis,
        channel=channel,
        payload=payload,
        actor=actor,
        source=f"{channel}:{actor.username}" if actor is not None else channel,
        source_ref=person.reference_code,
        kind="update",
    )

    def refuse(problems: list[Problem]) -> CorrectionRejected:
        record = _reject(**common, idempotency_key="", problems=problems)
        return CorrectionRejected(record, problems)

    if not isinstance(payload, dict):
        raise refuse([Problem("__all__", _("Send an object of the fields to change."))])
    try:
        data = PersonPatchIn.model_validate(payload)
    except ValidationError as exc:
        raise refuse(_pydantic_problems(exc)) from None
    fields = data.model_dump(exclude_unset=True)
    nulls = sorted(k for k, v in fields.items() if v is None and k not in NULLABLE)
    if nulls:
        raise refuse([Problem(k, _("Leave a field out instead of sending null.")) for k in nulls])
    try:
        with transaction.atomic():
            person = (
                Person.objects.select_for_update(of=("self",))
                .select_related("crisis__home_country", "country", "city")
                .get(pk=person.pk)
            )
            problems, resolved = _correction_problems(actor, person, data, fields)
            if problems:
                raise _Refused(problems)
            changed, counts = _correction_apply(person, fields, resolved)
            if "intent" in changed:
                # The same rule as the status page's (`_intent_target`), on a changed intent.
                step = _intent_step(
                    actor=actor,
                    person=person,
                    intent=person.intent,
                    intent_changed=True,
                    by_officer=True,
                )
                if step is not None:
                    audit_write(**step)
            if changed:
                record = IntakeRecord.objects.create(**common)
                record.people.add(person)
                if IDENTITY_FIELDS & set(changed):
                    _check_again(actor, person, record)
                audit_write(
                    actor=actor,
                    verb="person_update",
                    obj=person,
                    crisis=person.crisis,
                    changes={
                        "fields": [None, changed],
                        "intake_record": [None, record.pk],
                        **({"rows": [None, counts]} if counts else {}),
                    },
                )
    except _Refused as exc:
        # Kept after the transaction is undone: the refusal itself must not be lost.
        raise refuse(exc.problems) from None
    return person


class _Refused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message)
        self.problems = problems


@dataclass
class _Resolved:
    country: Country | None = None
    city: Place | None = None
    documents: dict[int, Document] = field(default_factory=dict)
    phones: dict[int, Phone] = field(default_factory=dict)


def _correction_problems(
    actor: User | None, person: Person, data: Any, fields: dict[str, Any]
) -> tuple[list[Problem], _Resolved]:
    """What is wrong with a correction against the record as it is (the IIN with the birth
    date and sex it will have, codes that must exist, rows that must be the person's)."""
    problems: list[Problem] = []
    resolved = _Resolved()
    birth_date = fields.get("birth_date", person.birth_date)
    sex = fields.get("sex", person.sex)
    iin = fields.get("iin", person.iin)
    # The IIN is checked when it, or what it encodes, changes.
    if iin and {"iin", "birth_date", "sex"} & set(fields):
        try:
            parsed = parse_iin(iin)
        except IinError as exc:
            problems.append(Problem("iin", iin_problem_text(exc, iin)))
        else:
            if birth_date and parsed.birth_date != birth_date:
                problems.append(
                    Problem(
                        "iin",
                        _("The IIN encodes a different birth date (%(d)s).")
                        % {"d": parsed.birth_date.isoformat()},
                    )
                )
            if sex in ("F", "M") and parsed.sex != sex:
                problems.append(Problem("iin", _("The IIN encodes a different sex.")))
    if fields.get("email") and (problem := email_problem(fields["email"])):
        problems.append(Problem("email", problem))
    codes = [*fields.get("nationalities", [])]
    codes += [d["issuing_state"] for d in fields.get("documents") or [] if d.get("issuing_state")]
    if fields.get("country"):
        codes.append(fields["country"])
    countries = _countries_for(codes)
    unknown = [c for c in fields.get("nationalities", []) if c not in countries]
    if unknown:
        problems.append(
            Problem("nationalities", _("Unknown country %(c)s.") % {"c": ", ".join(unknown)})
        )
    elif {"eligibility", "nationalities"} & set(fields):
        # The registration's rule (`citizenship_problem`) on what the record becomes, when
        # the correction changes either: a record kept as it came is not refused for it.
        eligibility = fields.get("eligibility", person.eligibility)
        nationalities = fields.get("nationalities", person.nationalities)
        if (eligibility, nationalities) != (person.eligibility, person.nationalities) and (
            problem := citizenship_problem(eligibility, nationalities, [person.crisis.home_country])
        ):
            problems.append(Problem("nationalities", problem))
    if fields.get("country"):
        resolved.country = countries.get(fields["country"].upper())
        if resolved.country is None:
            problems.append(
                Problem("country", _("Unknown country %(c)s.") % {"c": fields["country"]})
            )
        elif resolved.country.pk != person.country_id and not country_allowed(
            person.crisis, resolved.country
        ):
            problems.append(Problem("country", country_refused(person.crisis, resolved.country)))
        else:
            from aman.core.access import country_scope

            scope = country_scope(actor) if actor is not None else None
            if scope is not None and resolved.country.pk not in scope:
                problems.append(
                    Problem("country", _("This country is outside your mission's area."))
                )
    country = resolved.country or person.country
    if fields.get("city_id") is not None:
        resolved.city = Place.objects.filter(pk=fields["city_id"], kind=Place.Kind.CITY).first()
        if resolved.city is None:
            problems.append(Problem("city_id", _("No such city.")))
        elif resolved.city.country_id != country.pk:
            problems.append(
                Problem("city_id", _("The city is not in %(c)s.") % {"c": country.local_name})
            )
    elif (
        "city_id" not in fields and person.city is not None and person.city.country_id != country.pk
    ):
        problems.append(Problem("city_id", _("Choose a city in the new country.")))
    latitude = fields.get("latitude", person.latitude)
    longitude = fields.get("longitude", person.longitude)
    if (latitude is None) != (longitude is None):
        problems.append(
            Problem(
                "latitude" if latitude is None else "longitude",
                _("Give both coordinates, or neither."),
            )
        )
    if data.documents is not None:
        own = {d.pk: d for d in person.documents.all()}
        seen_ids: set[int] = set()
        seen_numbers: dict[str, int] = {}
        for n, doc in enumerate(data.documents):
            where = f"documents.{n}"
            if doc.id is not None:
                if doc.id not in own or doc.id in seen_ids:
                    problems.append(
                        Problem(f"{where}.id", _("Not one of this person's documents."))
                    )
                else:
                    seen_ids.add(doc.id)
                    resolved.documents[n] = own[doc.id]
            if doc.issuing_state and doc.issuing_state.upper() not in countries:
                problems.append(
                    Problem(
                        f"{where}.issuing_state",
                        _("Unknown issuing state %(s)s.") % {"s": doc.issuing_state},
                    )
                )
            digest = document_hash(doc.number)
            if digest in seen_numbers:
                problems.append(Problem(f"{where}.number", _("The same number is listed twice.")))
            seen_numbers[digest] = n
    if data.phones is not None:
        own_phones = {p.pk: p for p in person.phones.all()}
        seen_ids = set()
        for n, item in enumerate(data.phones):
            if item.id is not None:
                if item.id not in own_phones or item.id in seen_ids:
                    problems.append(
                        Problem(f"phones.{n}.id", _("Not one of this person's phones."))
                    )
                else:
                    seen_ids.add(item.id)
                    resolved.phones[n] = own_phones[item.id]
    return problems, resolved


def _correction_apply(
    person: Person, fields: dict[str, Any], resolved: _Resolved
) -> tuple[list[str], dict[str, int]]:
    """Write a checked correction; returns the fields changed and how many document and
    phone rows were added, corrected and removed."""
    plain = {
        k: v
        for k, v in fields.items()
        if k not in ("documents", "phones", "messengers", "country", "city_id")
    }
    latin_before = {k: getattr(person, k) for k in ("surname_latin", "given_names_latin")}
    flag_before = person.latin_from_document
    changed = {k for k, v in plain.items() if getattr(person, k) != v}
    for key in changed:
        setattr(person, key, plain[key])
    changed -= {"surname_latin", "given_names_latin"}  # compared below, once derived
    if "messengers" in fields:
        handles = messengers_text(fields["messengers"])
        if handles != person.messengers:
            person.messengers = handles
            changed.add("messengers")
    if resolved.country is not None and resolved.country.pk != person.country_id:
        person.country = resolved.country
        changed.add("country")
    if "city_id" in fields and fields["city_id"] != person.city_id:
        person.city = resolved.city
        changed.add("city")
    counts: dict[str, int] = {}
    if fields.get("documents") is not None:
        counts.update(_documents_replace(person, fields["documents"], resolved.documents))
        if any(
            counts.get(k) for k in ("documents_added", "documents_corrected", "documents_removed")
        ):
            changed.add("documents")
    if fields.get("phones") is not None:
        phone_counts = _phones_replace(person, fields["phones"], resolved.phones)
        counts.update(phone_counts)
        if any(phone_counts.values()):
            changed.add("phones")
    # The Latin names: typed ones are kept as given; a document's printed name is the
    # person's; otherwise they follow the native names, transliterated.
    sent = {k: fields[k] for k in ("surname_latin", "given_names_latin") if k in fields}
    printed = next((d for d in person.documents.order_by("id") if d.surname_latin), None)
    if any(sent.values()):
        person.latin_from_document = True
    elif "documents" in changed and printed is not None and not sent:
        person.surname_latin = printed.surname_latin
        person.given_names_latin = printed.given_names_latin or person.given_names_latin
        person.latin_from_document = True
    elif sent:
        person.latin_from_document = False  # cleared: transliterated again
    if not person.latin_from_document:
        # Only what changed is transliterated again (a correction of something else
        # leaves a record's Latin names as they are).
        if "surname" in changed or "surname_latin" in sent:
            person.surname_latin = passport_latin(person.surname)
        if "given_names" in changed or "given_names_latin" in sent:
            person.given_names_latin = passport_latin(person.given_names)
    person.surname_latin = person.surname_latin or passport_latin(person.surname)
    person.given_names_latin = person.given_names_latin or passport_latin(person.given_names)
    changed |= {k for k, v in latin_before.items() if getattr(person, k) != v}
    # (The flag is saved with the names; it is not a field of its own to the officer.)
    flag_flipped = person.latin_from_document != flag_before
    if "iin" in changed:
        person.iin_hash = iin_hash(person.iin) if person.iin else ""
    if LOCATION_FIELDS & changed:
        person.location_updated_at = timezone.now()
    if PRIORITY_FIELDS & changed:
        _priority_refresh(person)
    if not changed and not flag_flipped:
        return [], {}
    person.save()
    if NAME_FIELDS & changed:
        _write_name_keys(person)
    if person.household_id and PRIORITY_FIELDS & changed:
        _household_priority_refresh(person.household_id)
    return sorted(changed), {k: v for k, v in counts.items() if v}


def _documents_replace(
    person: Person, documents: list[dict[str, Any]], own: dict[int, Document]
) -> dict[str, int]:
    """The person's documents become those listed: an entry with an id corrects that row
    in place (a merge's undo finds it again), one without adds a row — or corrects the
    row with the same number — and rows not listed are removed."""
    current = {d.pk: d for d in person.documents.all()}
    by_number = {d.number_hash: d for d in current.values()}
    kept: set[int] = set()
    added = corrected = 0
    for n, values in enumerate(documents):
        values = {k: values.get(k) for k in DOCUMENT_FIELDS}
        values["issuing_state"] = values["issuing_state"] or ""
        values["surname_latin"] = values["surname_latin"] or ""
        values["given_names_latin"] = values["given_names_latin"] or ""
        digest = document_hash(values["number"])
        row = own.get(n)
        if row is None:
            same = by_number.get(digest)
            row = same if same is not None and same.pk not in kept else None
        if row is None:
            row = Document.objects.create(person=person, number_hash=digest, **values)
            added += 1
        else:
            if any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                row.number_hash = digest
                row.save()
                corrected += 1
        kept.add(row.pk)
    gone = [pk for pk in current if pk not in kept]
    Document.objects.filter(pk__in=gone).delete()
    return {
        "documents_added": added,
        "documents_corrected": corrected,
        "documents_removed": len(gone),
    }


def _phones_replace(person: Person, phones: list[Any], own: dict[int, Phone]) -> dict[str, int]:
    """The person's phones become those listed (normalised as at registration); a number
    the person has already keeps its row."""
    regions = [*person.nationalities, person.crisis.home_country.code, person.country.code]
    current = {p.pk: p for p in person.phones.all()}
    by_hash = {p.number_hash: p for p in current.values()}
    kept: set[int] = set()
    added = corrected = 0
    for n, item in enumerate(phones):
        raw = item["number"]
        result = _phone(raw, regions)
        value = result.e164 or raw
        digest = phone_hash(value)
        row = own.get(n)
        if row is None:
            row = by_hash.get(digest)
        if row is not None and row.pk in kept:
            continue  # the same number twice: once is enough
        if row is None:
            row = Phone.objects.create(
                person=person, number=value, number_hash=digest, valid=result.valid
            )
            added += 1
        elif (row.number_hash, row.valid) != (digest, result.valid):
            row.number, row.number_hash, row.valid = value, digest, result.valid
            row.save()
            corrected += 1
        kept.add(row.pk)
    gone = [pk for pk in current if pk not in kept]
    Phone.objects.filter(pk__in=gone).delete()
    return {"phones_added": added, "phones_corrected": corrected, "phones_removed": len(gone)}


def _refuse_moves_that_leave_places_behind(
    people: list[Person], household: Household | None
) -> None:
    """Refuse moving people who hold a seat or a room with the household they would leave
    (`signals.household_move_conflicts`), naming every such seat and room."""
    from aman.registry.signals import household_move_conflicts

    if not people:
        return
    texts = [
        text
        for _receiver, found in household_move_conflicts.send(
            sender=Household, people=people, household=household
        )
        for text in found or ()
    ]
    if texts:
        raise Conflict(
            _(
                "Travelling together is booked and housed together: release or split these "
                "first. %(places)s"
            )
            % {"places": "; ".join(texts)},
            {"conflicts": texts},
        )


# `household_update`'s `available_from` when it is not to change.
UNCHANGED: Any = object()


def _available_from(value: Any, problems: list[Problem]) -> datetime | None:
    """An earliest availability: a date and time (without an offset: on the server's
    clock), or None (at once)."""
    if value is None:
        return None
    if not isinstance(value, datetime):  # the API's schema and the form parse it
        problems.append(Problem("available_from", _("A date and time like 2026-03-02T08:00.")))
        return None
    first, last = dates.window()
    if not first <= value.replace(tzinfo=None).date() <= last:
        problems.append(
            Problem(
                "available_from",
                _("Not a plausible date: between %(first)s and %(last)s, please.")
                % {"first": first.isoformat(), "last": last.isoformat()},
            )
        )
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@transaction.atomic
def household_update(
    *,
    actor: User | None,
    household: Household,
    contact: Person | None = None,
    add: list[Person] | tuple[Person, ...] = (),
    remove: list[Person] | tuple[Person, ...] = (),
    available_from: Any = UNCHANGED,
) -> Household:
    """Change who travels together: `add` moves people of the same crisis into this
    household (out of their own; a person is in one household), `remove` moves members
    out, each into a new household of their own; `contact` (a member afterwards) becomes
    the contact. A household left without its contact gets its first remaining member.
    Priorities follow (a household's is its highest member's). `available_from`: the
    earliest moment the household can set out (None: at once), for the planner. Every
    household changed is audited."""
    moving = [*add, *remove]
    people = {
        p.pk: p
        for p in Person.objects.select_for_update(of=("self",))
        .filter(pk__in=[p.pk for p in moving] + ([contact.pk] if contact else []))
        .order_by("pk")
    }
    touched = {household.pk} | {p.household_id for p in people.values() if p.household_id}
    locked = {
        h.pk: h
        for h in Household.objects.select_for_update()
        .select_related("crisis")
        .filter(pk__in=touched)
        .order_by("pk")
    }
    household = locked[household.pk]
    problems: list[Problem] = []
    overlap = {p.pk for p in add} & {p.pk for p in remove}
    if overlap:
        problems.append(Problem("remove_members", _("A person cannot be added and removed.")))
    for n, given in enumerate(add):
        person = people[given.pk]
        if person.crisis_id != household.crisis_id:
            problems.append(
                Problem(f"add_members.{n}", _("%(p)s is in another crisis.") % {"p": person})
            )
    members = set(Person.objects.filter(household=household).values_list("pk", flat=True))
    for n, given in enumerate(remove):
        if given.pk not in members:
            problems.append(
                Problem(
                    f"remove_members.{n}",
                    _("%(p)s is not a member of this household.") % {"p": people[given.pk]},
                )
            )
    after = (members | {p.pk for p in add}) - {p.pk for p in remove}
    if remove and not after:
        problems.append(
            Problem("remove_members", _("A household cannot lose all its members: add one first."))
        )
    if contact is not None and contact.pk not in after:
        problems.append(Problem("contact_id", _("The contact must be one of the members.")))
    available = None
    if available_from is not UNCHANGED:
        available = _available_from(available_from, problems)
    if problems:
        raise ApplicationError(
            problems[0].message,
            {"errors": [{"field": p.field, "message": p.message} for p in problems]},
        )
    _refuse_moves_that_leave_places_behind(
        [people[p.pk] for p in add if people[p.pk].household_id != household.pk], household
    )
    _refuse_moves_that_leave_places_behind([people[p.pk] for p in remove], None)
    entries: dict[int, dict[str, Any]] = {}

    def note(h: Household, key: str, value: Any) -> None:
        entry = entries.setdefault(h.pk, {"household": h, "changes": {}})
        entry["changes"].setdefault(key, [None, []])[1].append(value)

    for given in add:
        person = people[given.pk]
        if person.household_id == household.pk:
            continue
        old = locked.get(person.household_id) if person.household_id else None
        Person.objects.filter(pk=person.pk).update(household=household)
        person.household_id = household.pk
        note(household, "members_added", person.pk)
        if old is not None:
            note(old, "members_removed", person.pk)
    for given in remove:
        person = people[given.pk]
        new = Household.objects.create(crisis=household.crisis, contact=person)
        Person.objects.filter(pk=person.pk).update(household=new)
        locked[new.pk] = new
        note(household, "members_removed", person.pk)
        entries[new.pk] = {
            "household": new,
            "changes": {"members_added": [None, [person.pk]], "contact": [None, person.pk]},
            "action": AuditEntry.Action.CREATE,
        }
    for h in locked.values():
        if h.pk in entries and "contact" in entries[h.pk]["changes"]:
            continue
        wanted = h.contact_id
        if h.pk == household.pk and contact is not None:
            wanted = contact.pk
        left = list(Person.objects.filter(household=h).order_by("pk").values_list("pk", flat=True))
        if wanted not in left:
            wanted = left[0] if left else None
        if wanted != h.contact_id:
            entries.setdefault(h.pk, {"household": h, "changes": {}})["changes"]["contact"] = [
                h.contact_id,
                wanted,
            ]
            Household.objects.filter(pk=h.pk).update(contact_id=wanted)
            h.contact_id = wanted
    if available_from is not UNCHANGED and available != household.available_from:
        entries.setdefault(household.pk, {"household": household, "changes": {}})["changes"][
            "available_from"
        ] = [
            household.available_from.astimezone(UTC).isoformat()
            if household.available_from
            else None,
            available.astimezone(UTC).isoformat() if available else None,
        ]
        Household.objects.filter(pk=household.pk).update(available_from=available)
    for pk in entries:
        _household_priority_refresh(pk)
    # The households people left or went to first, the household changed last.
    if household.pk in entries:
        entries[household.pk] = entries.pop(household.pk)
    audit_write_many(
        [
            dict(
                actor=actor,
                verb="household_update",
                action=e.get("action", AuditEntry.Action.UPDATE),
                obj=e["household"],
                crisis=household.crisis,
                changes=e["changes"],
            )
            for e in entries.values()
        ]
    )
    household.refresh_from_db()
    return household
