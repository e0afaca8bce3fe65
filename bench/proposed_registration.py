"""A prototype of the batched registration write proposed in bench/RESULTS.md, used by
bench/intake.py only to measure what the proposal would save. It is not the application's
code: `aman.registry.services.registration_submit` stays the one writer.

The same rows as `registration_submit` (household, people, documents, phones, name keys,
first status event, intake record with its people, audit entry) in a fixed number of
statements whatever the household's size: one INSERT per table (bulk_create), no
savepoint per person (a reference-code collision, about one in 10^6 at a million people,
retries the whole transaction instead), no DELETE of the name keys of a person who has
none yet, no second idempotency look-up, countries and the priority policy read from a
per-process cache, and the created people returned to the caller instead of read back.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

_COUNTRIES: dict[str, Any] = {}
_POLICY: dict[int, tuple[float, Any]] = {}


def _countries() -> dict[str, Any]:
    from aman.geo.models import Country

    if not _COUNTRIES:
        for c in Country.objects.all():
            _COUNTRIES[c.code] = c
            if c.code3:
                _COUNTRIES[c.code3] = c
    return _COUNTRIES


def _policy(crisis: Any) -> tuple[list[dict[str, Any]], str]:
    from aman.registry import services

    hit = _POLICY.get(crisis.pk)
    if hit and time.monotonic() - hit[0] < 10:
        return hit[1]
    value = services._policy(crisis)
    _POLICY[crisis.pk] = (time.monotonic(), value)
    return value


def register_batched(
    *, crisis: Any, channel: str, payload: Any, actor: Any = None, idempotency_key: str = ""
) -> tuple[Any, list[Any]]:
    from aman.core.audit import audit_write
    from aman.core.models import AuditEntry
    from aman.registry import services as s
    from aman.registry import triage
    from aman.registry.identity import name_keys, to_passport_latin
    from aman.registry.models import (
        Document,
        Household,
        IntakeRecord,
        NameKey,
        Person,
        Phone,
        StatusEvent,
    )
    from aman.registry.schemas import RegistrationIn
    from aman.registry.statuses import Status

    if idempotency_key:
        earlier = IntakeRecord.objects.filter(
            crisis=crisis, channel=channel, idempotency_key=idempotency_key
        ).first()
        if earlier is not None:
            return earlier, []
    data = RegistrationIn.model_validate(payload)
    countries = _countries()
    for member in data.members:
        for doc in member.documents:
            assert not doc.issuing_state or doc.issuing_state in countries
    country = countries[data.location.country.upper()]
    rules, mode = _policy(crisis)
    now, today = timezone.now(), timezone.localdate()
    home = crisis.home_country.code  # select_related by the caller's crisis query
    for _attempt in range(5):
        try:
            with transaction.atomic():
                household = Household.objects.create(crisis=crisis)
                people, docs, phones, keys, events = [], [], [], [], []
                for member in data.members:
                    doc = next((d for d in member.documents if d.surname_latin), None)
                    person = Person(
                        crisis=crisis,
                        reference_code=s.new_reference_code(),
                        household=household,
                        surname=member.surname,
                        given_names=member.given_names,
                        patronymic=member.patronymic,
                        surname_latin=(doc.surname_latin if doc else member.surname_latin.upper())
                        or to_passport_latin(member.surname),
                        given_names_latin=(
                            doc.given_names_latin if doc else member.given_names_latin.upper()
                        )
                        or to_passport_latin(member.given_names),
                        latin_from_document=doc is not None,
                        birth_date=member.birth_date,
                        sex=member.sex,
                        nationalities=member.nationalities
                        or ([home] if member.eligibility == "citizen" else []),
                        iin=member.iin,
                        iin_hash=s.iin_hash(member.iin) if member.iin else "",
                        email=member.email,
                        messengers=" ".join(f"{k}:{v}" for k, v in member.messengers.items()),
                        language=member.language or data.language,
                        pregnant=member.pregnant,
                        medical_need=member.medical_need,
                        reduced_mobility=member.reduced_mobility,
                        disability=member.disability,
                        unaccompanied_minor=member.unaccompanied_minor,
                        needs_note=member.needs_note,
                        consent_at=now,
                        country=country,
                        city=None,
                        address=data.location.address or data.location.city,
                        latitude=data.location.latitude,
                        longitude=data.location.longitude,
                        location_updated_at=now,
                        intent=data.intent,
                        eligibility=member.eligibility,
                        channel=channel,
                    )
                    person.priority, person.priority_reasons = triage.assess(
                        s._facts(person), rules, mode, today
                    )
                    people.append(person)
                Person.objects.bulk_create(people)
                for member, person in zip(data.members, people, strict=True):
                    for d in member.documents:
                        docs.append(
                            Document(
                                person=person,
                                kind=d.kind,
                                number=d.number,
                                number_hash=s.document_hash(d.number),
                                issuing_state=d.issuing_state,
                                expiry_date=d.expiry_date,
                                surname_latin=d.surname_latin,
                                given_names_latin=d.given_names_latin,
                            )
                        )
                    for raw in member.phones:
                        result = s._phone(raw, [*person.nationalities, home, country.code])
                        value = result.e164 or raw
                        phones.append(
                            Phone(
                                person=person,
                                number=value,
                                number_hash=s.phone_hash(value),
                                valid=result.valid,
                            )
                        )
                    text = " ".join(
                        [
                            person.surname,
                            person.given_names,
                            person.patronymic,
                            person.surname_latin,
                            person.given_names_latin,
                        ]
                    )
                    keys += [
                        NameKey(person=person, crisis_id=crisis.pk, key=k[:60])
                        for k in sorted(set(name_keys(text)))
                        if k
                    ]
                    events.append(
                        StatusEvent(
                            person=person,
                            status=Status.REGISTERED,
                            actor=actor,
                            note=f"registered via {channel}",
                        )
                    )
                Document.objects.bulk_create(docs)
                Phone.objects.bulk_create(phones)
                NameKey.objects.bulk_create(keys)
                StatusEvent.objects.bulk_create(events)
                household.contact = people[data.contact_index]
                household.priority = max(p.priority for p in people)
                household.save(update_fields=["contact", "priority"])
                record = IntakeRecord.objects.create(
                    crisis=crisis,
                    channel=channel,
                    kind="registration",
                    payload=payload,
                    actor=actor,
                    idempotency_key=idempotency_key,
                    household=household,
                )
                IntakeRecord.people.through.objects.bulk_create(
                    [
                        IntakeRecord.people.through(intakerecord_id=record.pk, person_id=p.pk)
                        for p in people
                    ]
                )
                audit_write(
                    actor=actor,
                    verb="registration_submit",
                    action=AuditEntry.Action.CREATE,
                    obj=record,
                    crisis=crisis,
                    changes={
                        "household": [None, household.pk],
                        "people": [None, [p.pk for p in people]],
                        "channel": [None, channel],
                    },
                )
                return record, people
        except IntegrityError:
            continue  # a reference code collided: new codes, whole transaction again
    raise RuntimeError("could not allocate reference codes")
