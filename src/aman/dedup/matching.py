"""Who might already be registered: the online check that runs at intake (issue 4's
"at intake"). Exact identifiers are strong evidence; names only count together with the
same birth date, because Kazakh names are concentrated (tens of thousands of `Нұрлан`).

Each kind of evidence is one indexed query for a whole list of people being registered,
so an import chunk of 200 households costs what one registration costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection

from aman.registry.identity import name_keys
from aman.registry.models import Document, NameKey, Person, Phone

SCORES = {"iin": 100, "document": 95, "name_birth_date": 70, "phone": 60}


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
    person = connection.ops.quote_name(Person._meta.db_table)
    document = connection.ops.quote_name(Document._meta.db_table)
    phone = connection.ops.quote_name(Phone._meta.db_table)
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
    for kind, pk, household, value in rows:
        for i in index[kind].get(str(value)[:10] if kind == "name_birth_date" else value, []):
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
