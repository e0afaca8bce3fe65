"""Reads of the registry, through the one door: `people_for_user`."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, Lookup, OuterRef, Q, QuerySet
from django.db.models.lookups import In
from django.http import Http404
from django.utils.translation import gettext as _
from pydantic import TypeAdapter, ValidationError

from aman.core.access import country_scope, require
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError, NotFound
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.geo.models import Country
from aman.registry.identity import PAIR_SEPARATOR, name_matching_key
from aman.registry.models import (
    Document,
    Household,
    IntakeRecord,
    NameKey,
    NamePair,
    Person,
    Phone,
    ReservedCode,
)
from aman.registry.services import document_hash, iin_hash, normalize_reference_code, phone_hash


def people_for_user(*, user: User, crisis: Crisis) -> QuerySet[Person]:
    """People of a crisis the user may see: none for roles without personal data; for a
    consul only those in their mission's countries."""
    require(user, Cap.PERSONAL_DATA)
    # Not the household: joining it before a page is cut reads every household.
    qs = Person.objects.filter(crisis=crisis).select_related("country", "city")
    scope = country_scope(user)
    if scope is not None:
        qs = qs.filter(country__in=scope)
    return qs


def person_for_user(*, user: User, crisis: Crisis, pk: int) -> Person:
    try:
        return people_for_user(user=user, crisis=crisis).select_related("household").get(pk=pk)
    except Person.DoesNotExist:
        raise Http404 from None


def cities_named(crisis: Crisis, name: str) -> list[int]:
    """The reference-data cities called `name` (any of their names) in the crisis's
    affected countries and its home country, as a registration reads a typed city."""
    from aman.registry.services import city_named

    countries = [*crisis.affected_countries.values_list("pk", flat=True), crisis.home_country_id]
    found = (city_named(country_id=c, name=name) for c in dict.fromkeys(countries))
    return [city.pk for city in found if city is not None]


def countries_to_be_in(*, person: Person, every: bool = False) -> list[Country]:
    """The countries a person of a crisis may say they are in (the status page's choice),
    in the reader's language: the crisis's affected countries, the countries its border
    crossings lead into (where people flee over land), the countries its missions are in
    and cover, and the person's own. Not the home country: being home is a step of the
    journey that an officer records, not a place to plan from. With `every`, every country
    but the home country (someone who flew further)."""
    from aman.registry.services import crisis_country_ids

    crisis = person.crisis
    near = ~Q(pk=crisis.home_country_id) if every else Q(pk__in=crisis_country_ids(crisis))
    return list(Country.objects.filter(near | Q(pk=person.country_id)).in_local_order())


def people_filtered(*, user: User, crisis: Crisis, filters: dict[str, Any]) -> QuerySet[Person]:
    qs = people_for_user(user=user, crisis=crisis)
    for field in ("status", "intent", "channel", "eligibility"):
        if filters.get(field):
            qs = qs.filter(**{field: filters[field]})
    if filters.get("min_priority") is not None:
        qs = qs.filter(priority__gte=filters["min_priority"])
    if filters.get("country"):
        qs = qs.filter(country__code=str(filters["country"]).upper())
    if filters.get("city_id"):
        qs = qs.filter(city_id=filters["city_id"])
    if "city_ids" in filters:  # a typed city's places (none: nobody)
        qs = qs.filter(city_id__in=filters["city_ids"])
    if filters.get("mission"):
        qs = qs.filter(country__covering_missions=filters["mission"])
    few = False
    if filters.get("q"):
        qs, few = people_search(qs, crisis=crisis, query=str(filters["q"]))
    if few:
        # Matches fetched by id are few (see `_few`): sorting them is cheap,
        # while walking the list-order index until 50 of them turn up may read most of it
        # — which PostgreSQL's planner prefers when it is wrong about where they lie. The
        # same order, written so that the index cannot serve it.
        return qs.order_by((F("priority") + 0).desc(), "surname", "id")
    return qs.order_by("-priority", "surname", "id")


# Up to this many people matching a name are fetched by id; above it the list's own order
# (highest priority first, an index) is walked until a page is full.
NAME_IDS_INLINE = 20_000


def _few(crisis: Crisis) -> int:
    """Up to this many matches are fetched by id and sorted; more are found by walking the
    list-order index. Walking until a page of 50 is full reads about 50 × people / matches
    rows; sorting reads the matches: they cost the same near √(50 × people). Measured at a
    million people, the walk's rows cost about 3× a fetch by id, so √(16 × people)."""
    people = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE relname = %s", [Person._meta.db_table]
            )
            row = cursor.fetchone()
            people = int(row[0]) if row else 0
    return max(1_000, int(math.sqrt(16 * max(people, 0))))


def people_search(
    qs: QuerySet[Person], *, crisis: Crisis, query: str
) -> tuple[QuerySet[Person], bool]:
    """By reference code, passport number, phone, IIN (exact, through keyed hashes), or by
    name in any script (every word must match the start of one of the person's name keys).

    Each identifier is looked up on its own index first (a few rows, no joins); only a
    query that matches no identifier and has no digits is a name. One word is one index
    range of the name keys; several meet in one range of the name pairs (`_pair_matches`),
    or else in an `INTERSECT` of one range of name keys per word, so the people table is
    read only for the people who match every word. Returns the filtered people and whether
    they are few (selected by id, few enough to sort: `_few`)."""
    query = query.strip()
    if not query:
        return qs, False
    ids = _identifier_matches(crisis, query)
    if ids or any(ch.isdigit() for ch in query):
        return _among(qs, ids), True
    words = [w for w in query.replace(",", " ").split() if w]
    keys = list(dict.fromkeys(k for k in map(name_matching_key, words) if k))
    if not keys or any(len(k) < 2 for k in keys):
        return qs.none(), True
    # A word that begins another word adds nothing (`Ахмет Ахметов`: whoever has a name
    # beginning `ahmetov` has one beginning `ahmet`); without such words, two words are
    # always matched by two different keys of the person — what the name pairs hold.
    keys = [k for k in keys if not any(o != k and o.startswith(k) for o in keys)]
    few = _few(crisis)
    # The ids are taken first when they are not too many, and the people are read by
    # primary key or found walking the lists' order (`_among`). One word: the page of a
    # search matching 12,000 people walked the lists' order probing the name keys person
    # by person, in parallel workers slow to start on a busy machine (55-120 ms p50 where
    # the ids first take 51-55). Whether there are too many is asked of the index first,
    # so that a common name's ids are not fetched for nothing.
    if len(keys) == 1:
        one = _key_range(crisis, keys[0])
        if list(one[NAME_IDS_INLINE : NAME_IDS_INLINE + 1]):
            # Very many: the database estimates a key range well and picks the right plan.
            return qs.filter(pk__in=one), False
        name_ids = [row["person_id"] for row in one]
        return _among(qs, name_ids), len(name_ids) <= few
    # Several words: the database cannot estimate how many people match every word (it
    # guessed 62,000 where 5,800 did, and then read the whole people table), so the ids
    # are taken first when they are not too many and the people are read by primary key
    # or found walking the lists' order.
    paired = _pair_matches(crisis, keys)
    if paired is not None and len(paired) <= NAME_IDS_INLINE:
        return _among(qs, paired), len(paired) <= few
    ranges = [_key_range(crisis, k) for k in keys]
    matches = ranges[0].intersection(*ranges[1:])
    name_ids = [row["person_id"] for row in matches[: NAME_IDS_INLINE + 1]]
    if len(name_ids) <= NAME_IDS_INLINE:
        return _among(qs, name_ids), len(name_ids) <= few
    return qs.filter(pk__in=matches), False


class _AnyOf(Lookup):
    """`id = ANY(%s::bigint[])`: a list of ids as one array parameter on PostgreSQL, where
    `IN (…)` of 12,000 ids cost more to plan (each id a constant) than the query took to
    run; `IN (…)` elsewhere."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        return In(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_postgresql(self, compiler: Any, connection: Any) -> Any:
        lhs, params = self.process_lhs(compiler, connection)
        # One text parameter (`{1,2,3}`, a third of the time of a list adapted item by
        # item), cast to the column's own type: `bigint = ANY(integer[])` is not checked
        # by hashing.
        array = f"%s::{self.lhs.output_field.db_type(connection)}[]"
        text = "{" + ",".join(str(int(i)) for i in self.rhs) + "}"
        return f"{lhs} = ANY({array})", [*params, text]


def _among(qs: QuerySet[Person], ids: Collection[int]) -> QuerySet[Person]:
    """The people of `qs` whose ids are `ids` (a list fetched first)."""
    if not ids:
        return qs.none()
    return qs.filter(_AnyOf(F("pk"), list(ids)))


# A word is looked up in the name pairs through its whole keys when no more than this
# many keys begin with it; more, and the words' key ranges are intersected instead.
PAIR_COMPLETIONS = 32


def _key_range(crisis: Crisis, key: str) -> QuerySet[NameKey, Any]:
    """The ids of the people with a name key that begins with `key` (one index range)."""
    return NameKey.objects.filter(crisis=crisis, key__gte=key, key__lt=_after_prefix(key)).values(
        "person_id"
    )


def _pair_matches(crisis: Crisis, keys: list[str]) -> list[int] | None:
    """The ids of the people matching every word (at most `NAME_IDS_INLINE` + 1 of them),
    through the name pairs; None when every word is begun by too many keys for that.

    Two words meet in one index range of the pairs (`NamePair`) once one of them is a whole
    key: the word begun by the fewest keys (`Ахметов`: `ahmetov`, `ahmetova`) is replaced
    by those keys, and each is followed by the other word as a prefix (`ahmetov0erlan` up
    to `ahmetov0erlao`). `Ахметов Ерлан` then reads the 5,800 people who match rather than
    intersecting 90,000 keys with 67,000. More words than two: the people so found are
    checked for the others' keys, by person."""
    completions = {k: _completions(crisis, k, PAIR_COMPLETIONS) for k in keys}
    usable = [k for k in keys if len(completions[k]) <= PAIR_COMPLETIONS]
    if not usable:
        return None
    whole = min(usable, key=lambda k: (len(completions[k]), -len(k)))
    if not completions[whole]:
        return []
    rest = sorted((k for k in keys if k != whole), key=len, reverse=True)
    other = rest[0]
    ranges = [
        NamePair.objects.filter(
            crisis=crisis,
            key__gte=f"{c}{PAIR_SEPARATOR}{other}",
            key__lt=f"{c}{PAIR_SEPARATOR}{_after_prefix(other)}",
        ).values_list("person_id", flat=True)
        for c in completions[whole]
    ]
    # UNION: each range is read from the index alone, and a person is listed once.
    pairs = ranges[0].union(*ranges[1:]) if len(ranges) > 1 else ranges[0].distinct()
    ids = list(pairs[: NAME_IDS_INLINE + 1])
    for key in rest[1:]:
        if not ids or len(ids) > NAME_IDS_INLINE:
            break
        ids = list(
            NameKey.objects.filter(
                _AnyOf(F("person_id"), ids), key__gte=key, key__lt=_after_prefix(key)
            )
            .values_list("person_id", flat=True)
            .distinct()
        )
    return ids


def _completions(crisis: Crisis, prefix: str, limit: int) -> list[str]:
    """The distinct name keys that begin with `prefix`, up to `limit` + 1 of them: one index
    probe each (the next key after the last, a recursive query), however many people have
    them."""
    table = NameKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE completion (key, n) AS (
                SELECT MIN(key), 1 FROM {table}
                WHERE crisis_id = %s AND key >= %s AND key < %s
                UNION ALL
                SELECT (
                    SELECT MIN(k.key) FROM {table} k
                    WHERE k.crisis_id = %s AND k.key > completion.key AND k.key < %s
                ), n + 1
                FROM completion WHERE completion.key IS NOT NULL AND n <= %s
            )
            SELECT key FROM completion WHERE key IS NOT NULL
            """,  # noqa: S608 (the table's name is ours)
            [crisis.pk, prefix, _after_prefix(prefix), crisis.pk, _after_prefix(prefix), limit],
        )
        return [row[0] for row in cursor.fetchall()]


def _after_prefix(key: str) -> str:
    """The first string after every string that starts with `key` (keys are a–z), so that
    a prefix is an index range on any database and any collation."""
    return key[:-1] + chr(ord(key[-1]) + 1)


def _identifier_matches(crisis: Crisis, query: str) -> set[int]:
    from aman.registry.identity import normalize_phone

    compact = "".join(ch for ch in query if ch.isalnum() or ch == "+")
    people = Person.objects.filter(crisis=crisis)
    # A reference code of a record merged into another finds the one it was merged into.
    ids = {
        surviving_person_id(pk)
        for pk in Person.all_objects.filter(
            crisis=crisis, reference_code=normalize_reference_code(query)
        ).values_list("pk", flat=True)
    }
    digits = sum(ch.isdigit() for ch in compact)
    if digits >= 3 or len(compact) >= 5:
        ids |= set(
            Document.objects.filter(
                number_hash=document_hash(compact), person__crisis=crisis
            ).values_list("person_id", flat=True)
        )
    if digits >= 3:
        hashes = {phone_hash(compact)}
        # A local number (`0912 345 6789`) is read as the home country's and as each
        # affected country's, where people registered their local SIM cards.
        affected = crisis.affected_countries.order_by("code").values_list("code", flat=True)
        regions = [crisis.home_country.code, *affected]
        for region in dict.fromkeys(regions):
            parsed = normalize_phone(query, region)
            if parsed.e164:
                hashes.add(phone_hash(parsed.e164))
        ids |= set(
            Phone.objects.filter(number_hash__in=hashes, person__crisis=crisis).values_list(
                "person_id", flat=True
            )
        )
        ids |= set(people.filter(iin_hash=iin_hash(compact)).values_list("pk", flat=True))
    return ids


def surviving_person_id(pk: int) -> int:
    """The person a record is now part of: itself, or the person it was merged into (and
    so on, when that one was merged again)."""
    for _hop in range(50):
        merged = Person.all_objects.filter(pk=pk).values_list("merged_into", flat=True).first()
        if merged is None:
            return pk
        pk = merged
    return pk


def households_for_user(
    *, user: User, crisis: Crisis, min_priority: int | None = None
) -> QuerySet[Household]:
    """Households with at least one member the user may see; `visible_members` holds those
    members (a consul sees the members in their mission's countries)."""
    from django.db.models import Prefetch

    people = people_for_user(user=user, crisis=crisis)
    qs = (
        Household.objects.filter(crisis=crisis, members__in=people)
        .distinct()
        .prefetch_related(
            Prefetch("members", queryset=people.order_by("id"), to_attr="visible_members")
        )
        .order_by("-priority", "id")
    )
    if min_priority is not None:
        qs = qs.filter(priority__gte=min_priority)
    return qs


def priority_counts(*, crisis: Crisis) -> list[dict[str, int]]:
    """How many people are at each priority (their own) and how many households (theirs,
    their highest member's), highest first — counts only, no names."""
    counts: dict[int, dict[str, int]] = {}
    for key, qs in (
        ("people", Person.objects.filter(crisis=crisis)),
        ("households", Household.objects.filter(crisis=crisis)),
    ):
        for priority, n in qs.values_list("priority").annotate(n=Count("id")):
            row = counts.setdefault(priority, {"priority": priority, "people": 0, "households": 0})
            row[key] = n
    return [counts[k] for k in sorted(counts, reverse=True)]


def intake_records_for_user(*, user: User, crisis: Crisis) -> QuerySet[IntakeRecord]:
    """A crisis's intake records (submissions as received: personal data) for those who see
    personal data. A consul sees those about their mission's countries: the record's own
    country (where its household is, or the country a refused submission names) or a
    country where one of its people is now. A refused submission that names no known
    country is seen by the roles that see every country, not by consuls."""
    require(user, Cap.PERSONAL_DATA)
    qs = IntakeRecord.objects.filter(crisis=crisis)
    scope = country_scope(user)
    if scope is not None:
        through = IntakeRecord.people.through
        qs = qs.filter(
            Q(country__in=scope)
            | Exists(
                through.objects.filter(intakerecord_id=OuterRef("pk"), person__country__in=scope)
            )
        )
    return qs


def intake_record_for_user(*, user: User, crisis: Crisis, pk: int) -> IntakeRecord:
    try:
        return (
            intake_records_for_user(user=user, crisis=crisis)
            .select_related("actor", "country", "batch")
            .get(pk=pk)
        )
    except IntakeRecord.DoesNotExist:
        raise Http404 from None


def intake_records_filtered(
    *, user: User, crisis: Crisis, filters: dict[str, Any]
) -> QuerySet[IntakeRecord]:
    """Newest first; `outcome`, `channel`, `kind` (registration or update), `since` (a
    time: received then or later) and `person` (the submissions matched to one person)
    narrow the list."""
    qs = intake_records_for_user(user=user, crisis=crisis)
    for field in ("outcome", "channel", "kind"):
        if filters.get(field):
            qs = qs.filter(**{field: filters[field]})
    if filters.get("person") is not None:
        through = IntakeRecord.people.through
        qs = qs.filter(
            Exists(
                through.objects.filter(intakerecord_id=OuterRef("pk"), person_id=filters["person"])
            )
        )
    if filters.get("since"):
        qs = qs.filter(received_at__gte=filters["since"])
    if filters.get("to_correct"):
        # A rejected attempt at a correction is listed with the submission it corrects.
        qs = qs.filter(
            outcome=IntakeRecord.Outcome.REJECTED, kind="registration", corrects__isnull=True
        ).exclude(
            Exists(
                IntakeRecord.objects.filter(corrects=OuterRef("pk")).exclude(
                    outcome=IntakeRecord.Outcome.REJECTED
                )
            )
        )
    return qs.select_related("actor", "country").order_by("-received_at", "-id")


def intake_corrections(
    *, user: User, crisis: Crisis, records: Collection[IntakeRecord]
) -> dict[int, list[IntakeRecord]]:
    """The submissions that correct each of these rejected ones (`IntakeRecord.corrects`),
    oldest first, among those the user may see (one query)."""
    out: dict[int, list[IntakeRecord]] = {r.pk: [] for r in records}
    wanted = [r.pk for r in records if r.outcome == IntakeRecord.Outcome.REJECTED]
    if wanted:
        for c in (
            intake_records_for_user(user=user, crisis=crisis)
            .filter(corrects__in=wanted)
            .order_by("received_at", "id")
        ):
            assert c.corrects_id is not None
            out[c.corrects_id].append(c)
    return out


def intake_people(
    *, user: User, crisis: Crisis, records: Collection[IntakeRecord]
) -> dict[int, list[Person]]:
    """The people each record matched, among those the user may see (one query)."""
    through = IntakeRecord.people.through
    ids = [r.pk for r in records]
    seen = people_for_user(user=user, crisis=crisis)
    links = list(
        through.objects.filter(intakerecord_id__in=ids, person__in=seen).values_list(
            "intakerecord_id", "person_id"
        )
    )
    people = seen.in_bulk({p for _r, p in links})
    out: dict[int, list[Person]] = {pk: [] for pk in ids}
    for record_id, person_id in sorted(links, key=lambda x: (x[0], x[1])):
        out[record_id].append(people[person_id])
    return out


def intake_list_audit(
    *, user: User, crisis: Crisis, records: list[IntakeRecord], filters: dict[str, Any]
) -> None:
    """A page of intake records read (the page and the API): which records, with which
    filters — never their content."""
    audit_read(
        actor=user,
        verb="intake_list",
        object_type="registry.intakerecord",
        crisis=crisis,
        details={
            "records": [r.pk for r in records],
            "filters": {
                k: str(v)
                for k, v in filters.items()
                if v not in ("", None, False) and k not in ("crisis", "limit", "offset")
            },
        },
    )


def corrected_record(*, user: User, crisis: Crisis, pk: Any) -> IntakeRecord:
    """The rejected registration of this crisis, visible to the user, that a submission
    says it corrects — or a clear refusal (it is not there, not the user's to see, not a
    rejected registration)."""
    record = (
        intake_records_for_user(user=user, crisis=crisis).filter(pk=pk).first()
        if str(pk).isdigit()
        else None
    )
    if record is None:
        raise NotFound(
            _("No rejected registration %(id)s to correct.") % {"id": pk}, {"corrects": pk}
        )
    if record.outcome != IntakeRecord.Outcome.REJECTED or record.kind != "registration":
        raise ApplicationError(
            _("Submission %(id)s was not a rejected registration: there is nothing to correct.")
            % {"id": pk},
            {"corrects": pk},
        )
    return record


@dataclass(frozen=True)
class QueuedRegistration:
    """A registration taken into the queue, found by one of its codes (`queued_lookup_public`):
    still `pending`, or refused by the background run — and then perhaps `corrected`, sent
    again corrected by an officer (`IntakeRecord.corrects`) and not refused again, under new
    codes."""

    record: IntakeRecord
    corrected: bool = False

    @property
    def pending(self) -> bool:
        return self.record.outcome == IntakeRecord.Outcome.PENDING


def queued_lookup_public(
    *, reference_code: str, birth_date: date | None
) -> QueuedRegistration | None:
    """The queued registration, still pending or refused, that reserved this reference code
    for a member born on this date (the status page, when no person has the code), or None
    — the caller does not learn which of the two was wrong. Found through the code's
    `ReservedCode` row (an index lookup, not a read of the queue); the birth date is the
    member's in the payload at the code's place in `reference_codes`, read as the
    registration reads it."""
    code = normalize_reference_code(reference_code)
    if not code or birth_date is None:
        return None
    records = (
        IntakeRecord.objects.filter(
            pk__in=ReservedCode.objects.filter(code=code).values("record"),
            outcome__in=[IntakeRecord.Outcome.PENDING, IntakeRecord.Outcome.REJECTED],
        )
        .select_related("crisis")
        .order_by("-id")
    )
    for record in records:
        codes = record.reference_codes if isinstance(record.reference_codes, list) else []
        payload: dict[str, Any] = record.payload if isinstance(record.payload, dict) else {}
        members = payload.get("members")
        if code not in codes or not isinstance(members, list):
            continue
        index = codes.index(code)
        member = members[index] if index < len(members) else None
        if isinstance(member, dict) and _payload_date(member.get("birth_date")) == birth_date:
            corrected = (
                record.outcome == IntakeRecord.Outcome.REJECTED
                and IntakeRecord.objects.filter(corrects=record)
                .exclude(outcome=IntakeRecord.Outcome.REJECTED)
                .exists()
            )
            return QueuedRegistration(record, corrected)
    return None


def _payload_date(value: Any) -> date | None:
    """A date of a payload as the registration reads it (`RegistrationIn`): the public
    form's ISO text, or what an API client sent that it accepted; None if unreadable."""
    if value is None:
        return None
    try:
        return _DATE.validate_python(value)
    except ValidationError:
        return None


_DATE: TypeAdapter[date] = TypeAdapter(date)
