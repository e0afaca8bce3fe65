"""Who might already be registered: the online check that runs at intake (issue 4's
"at intake"). Exact identifiers are strong evidence; names only count together with the
same birth date, because Kazakh names are concentrated (tens of thousands of `Нұрлан`) —
or with a birth date one typing slip away (one digit wrong, two adjacent digits or day and
month swapped, as the batch engine's `one_digit` and `transposed` levels), as long as
that finds only a few people: names so common that a slip finds more say nothing (a
household registered at once; not a long list, see `APPROXIMATE_LIST_MOST`).

Each kind of evidence is one indexed query for a whole list of people being registered,
so an import chunk of 200 households costs what one registration costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection
from django.utils import timezone

from aman.registry.identity import name_keys
from aman.registry.identity.translit import PAIR_SEPARATOR
from aman.registry.models import Document, NameKey, NamePair, Person, Phone

SCORES = {
    "iin": 100,
    "document": 95,
    "name_birth_date": 70,
    "phone": 60,
    "name_approx_birth_date": 50,
}
# More people than this with the same names and a birth date one slip away from a probe's:
# the names are too common for a slip to mean anything (at a million people, `Ахметов
# Ерлан` is thousands of people, a few of them born a digit apart from anyone).
APPROXIMATE_MOST = 3
# A list longer than this (an import chunk, a batch of the queue) is not checked for near
# birth dates: its pairs and dates cross into one scan of the people (measured at a million
# people: 200 probes, 9,304 near dates, a sequential scan of 220 ms where the rest of the
# check takes 150), and the whole-crisis search finds those with approximate dates anyway.
# A household registered at once (the form, the API) is checked.
APPROXIMATE_LIST_MOST = 20


@dataclass
class Probe:
    """What identifies one person being registered (not saved yet, or just saved)."""

    surname_keys: frozenset[str] = frozenset()
    given_keys: frozenset[str] = frozenset()
    birth_date: date | None = None
    iin_hash: str = ""
    document_hashes: frozenset[str] = frozenset()
    phone_hashes: frozenset[str] = frozenset()
    person_id: int | None = None
    household_id: int | None = None


@dataclass
class Match:
    probe: int  # index in the list of probes
    person_id: int
    evidence: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        return max(SCORES[e] for e in self.evidence)


def probe_keys(*names: str) -> frozenset[str]:
    return frozenset(k for n in names if n for k in name_keys(n))


def near_birth_dates(d: date) -> set[date]:
    """The dates one typing slip away from `d`: one digit of `YYYY-MM-DD` different, two
    adjacent digits swapped, or day and month swapped; real dates after 1900 and not after
    today only (a registration cannot give a birth date in the future)."""
    text = d.isoformat()
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    texts = set()
    for i in digits:
        for c in "0123456789":
            if c != text[i]:
                texts.add(text[:i] + c + text[i + 1 :])
        if i + 1 in digits and text[i] != text[i + 1]:
            texts.add(text[:i] + text[i + 1] + text[i] + text[i + 2 :])
    out = set()
    for t in texts:
        try:
            near = date.fromisoformat(t)
        except ValueError:
            continue
        if near.year > 1900:
            out.add(near)
    if d.day <= 12 and d.day != d.month:
        out.add(date(d.year, d.day, d.month))
    out.discard(d)
    today = timezone.localdate()
    return {x for x in out if x <= today}


def _pairs(p: Probe) -> set[str]:
    """The probe's surname and given-name keys joined as `NamePair` keeps them (both orders
    are kept there, so one is enough)."""
    return {
        f"{s[:60]}{PAIR_SEPARATOR}{g[:60]}"
        for s in p.surname_keys
        for g in p.given_keys
        if s and g and s[:60] != g[:60]
    }


def find(crisis_id: int, probes: list[Probe]) -> list[Match]:
    """People of the crisis who may be the same as a probe, strongest first; never the
    probe itself nor someone of its own household (a family shares a phone and a name).

    One statement finds every candidate of every kind (plain SQL, `UNION ALL` of indexed
    look-ups: this runs in every registration, where building four ORM queries would cost
    more than running them); a second reads the name keys of those found by birth date or
    phone."""
    by_iin: dict[str, list[int]] = {}
    by_birth: dict[str, list[int]] = {}
    for i, p in enumerate(probes):
        if p.iin_hash:
            by_iin.setdefault(p.iin_hash, []).append(i)
        if p.birth_date and p.surname_keys and p.given_keys:
            by_birth.setdefault(p.birth_date.isoformat(), []).append(i)
    by_document = _index(probes, "document_hashes")
    by_phone = _index(probes, "phone_hashes")
    by_pair: dict[str, list[int]] = {}
    near: dict[int, set[str]] = {}
    for i, p in enumerate(probes if len(probes) <= APPROXIMATE_LIST_MOST else ()):
        if p.birth_date and p.surname_keys and p.given_keys:
            near[i] = {d.isoformat() for d in near_birth_dates(p.birth_date)}
            for pair in _pairs(p):
                by_pair.setdefault(pair, []).append(i)
    near_dates = sorted(set().union(*near.values())) if near else []
    person = connection.ops.quote_name(Person._meta.db_table)
    document = connection.ops.quote_name(Document._meta.db_table)
    phone = connection.ops.quote_name(Phone._meta.db_table)
    pairs = connection.ops.quote_name(NamePair._meta.db_table)
    parts: list[str] = []
    params: list[Any] = []

    def part(kind: str, sql: str, values: list[str]) -> None:
        if values:
            parts.append(sql.format(kind=kind, values=", ".join(["%s"] * len(values))))
            params.extend([crisis_id, *values])

    # (Only table names are formatted into the SQL; every value is a parameter.)
    part(
        "iin",
        f"SELECT '{{kind}}', id, household_id, iin_hash FROM {person} "  # noqa: S608
        "WHERE crisis_id = %s AND merged_into_id IS NULL AND iin_hash IN ({values})",
        list(by_iin),
    )
    part(
        "document",
        f"SELECT '{{kind}}', p.id, p.household_id, d.number_hash FROM {document} d "  # noqa: S608
        f"JOIN {person} p ON p.id = d.person_id "
        "WHERE p.crisis_id = %s AND p.merged_into_id IS NULL AND d.number_hash IN ({values})",
        list(by_document),
    )
    part(
        "phone",
        f"SELECT '{{kind}}', p.id, p.household_id, t.number_hash FROM {phone} t "  # noqa: S608
        f"JOIN {person} p ON p.id = t.person_id "
        "WHERE p.crisis_id = %s AND p.merged_into_id IS NULL AND t.number_hash IN ({values})",
        list(by_phone),
    )
    part(
        "name_birth_date",
        f"SELECT '{{kind}}', id, household_id, CAST(birth_date AS TEXT) FROM {person} "  # noqa: S608
        "WHERE crisis_id = %s AND merged_into_id IS NULL AND birth_date IN ({values})",
        list(by_birth),
    )
    if by_pair and near_dates:
        # The people whose names meet a probe's (one range of the pairs' index per pair)
        # born on a date one slip away from some probe's; which probe, below.
        parts.append(
            f"SELECT 'name_approx_birth_date', p.id, p.household_id, "  # noqa: S608
            f"CAST(p.birth_date AS TEXT) || ' ' || n.key FROM {pairs} n "
            f"JOIN {person} p ON p.id = n.person_id "
            "WHERE n.crisis_id = %s AND p.merged_into_id IS NULL "
            f"AND n.key IN ({', '.join(['%s'] * len(by_pair))}) "
            f"AND p.birth_date IN ({', '.join(['%s'] * len(near_dates))})"
        )
        params.extend([crisis_id, *by_pair, *near_dates])
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    households: dict[int, int | None] = {}
    keyed = set()
    for kind, pk, household, _value in rows:
        households[pk] = household
        if kind in ("phone", "name_birth_date"):
            keyed.add(pk)
    keys = _keys_of(keyed)
    index = {"iin": by_iin, "document": by_document, "phone": by_phone, "name_birth_date": by_birth}
    found: dict[tuple[int, int], Match] = {}
    approximate: dict[int, set[int]] = {}  # probe: people found by names and a near date
    for kind, pk, household, value in rows:
        if kind == "name_approx_birth_date":
            born, _, pair = str(value).partition(" ")
            born = born[:10]
            candidates = [i for i in by_pair.get(pair, []) if born in near[i]]
        else:
            candidates = index[kind].get(
                str(value)[:10] if kind == "name_birth_date" else value, []
            )
        for i in candidates:
            probe = probes[i]
            if pk == probe.person_id or (
                probe.household_id is not None and household == probe.household_id
            ):
                continue
            theirs = keys.get(pk, set())
            if kind == "name_birth_date" and not (
                probe.surname_keys & theirs and probe.given_keys & theirs
            ):
                continue
            if kind == "phone" and not probe.given_keys & theirs:
                continue
            match = found.setdefault((i, pk), Match(i, pk))
            if kind not in match.evidence:
                match.evidence.append(kind)
            if kind == "name_approx_birth_date":
                approximate.setdefault(i, set()).add(pk)
    for i, people in approximate.items():
        if len(people) > APPROXIMATE_MOST:  # names too common for a slip to say anything
            for pk in people:
                match = found[(i, pk)]
                match.evidence.remove("name_approx_birth_date")
                if not match.evidence:
                    del found[(i, pk)]
    matches = list(found.values())
    for m in matches:
        m.evidence.sort(key=lambda e: -SCORES[e])
    return sorted(matches, key=lambda m: (m.probe, -m.score, m.person_id))


def _index(probes: list[Probe], attribute: str) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for i, p in enumerate(probes):
        for h in getattr(p, attribute):
            index.setdefault(h, []).append(i)
    return index


def _keys_of(person_ids: set[int]) -> dict[int, set[str]]:
    keys: dict[int, set[str]] = {}
    if person_ids:
        for pk, key in NameKey.objects.filter(person_id__in=person_ids).values_list(
            "person_id", "key"
        ):
            keys.setdefault(pk, set()).add(key)
    return keys


def summary(person: Any) -> dict[str, Any]:
    """What an operator sees of a possible duplicate (no identifiers)."""
    return {
        "id": person.pk,
        "name": f"{person.surname} {person.given_names}".strip(),
        "name_latin": f"{person.surname_latin} {person.given_names_latin}".strip(),
        "birth_date": person.birth_date,
        "reference_code": person.reference_code_display,
        "status": person.get_status_display(),
        "country": person.country.code if person.country_id else "",
    }
