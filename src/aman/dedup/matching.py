"""Who might already be registered: the online check that runs at intake (issue 4's
"at intake"). Exact identifiers are strong evidence; names only count together with the
same birth date, because Kazakh names are concentrated (tens of thousands of `Нұрлан`).

Each kind of evidence is one indexed query for a whole list of people being registered,
so an import chunk of 200 households costs what one registration costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

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
    probe itself nor someone of its own household (a family shares a phone and a name)."""
    found: dict[tuple[int, int], Match] = {}

    def add(i: int, person_id: int, kind: str) -> None:
        probe = probes[i]
        if person_id == probe.person_id:
            return
        match = found.setdefault((i, person_id), Match(i, person_id))
        if kind not in match.evidence:
            match.evidence.append(kind)

    people = Person.objects.filter(crisis_id=crisis_id)
    by_iin: dict[str, list[int]] = {}
    for i, p in enumerate(probes):
        if p.iin_hash:
            by_iin.setdefault(p.iin_hash, []).append(i)
    if by_iin:
        for pk, h in people.filter(iin_hash__in=by_iin).values_list("pk", "iin_hash"):
            for i in by_iin[h]:
                add(i, pk, "iin")
    by_document = _index(probes, "document_hashes")
    if by_document:
        rows = Document.objects.filter(
            number_hash__in=by_document, person__crisis_id=crisis_id
        ).values_list("person_id", "number_hash")
        for pk, h in rows:
            for i in by_document[h]:
                add(i, pk, "document")
    # Names with the same birth date; a shared phone with the same given name.
    by_birth: dict[date, list[int]] = {}
    for i, p in enumerate(probes):
        if p.birth_date and p.surname_keys and p.given_keys:
            by_birth.setdefault(p.birth_date, []).append(i)
    same_birth = (
        list(people.filter(birth_date__in=by_birth).values_list("pk", "birth_date"))
        if by_birth
        else []
    )
    by_phone = _index(probes, "phone_hashes")
    phone_rows = (
        list(
            Phone.objects.filter(number_hash__in=by_phone, person__crisis_id=crisis_id).values_list(
                "person_id", "number_hash"
            )
        )
        if by_phone
        else []
    )
    keys = _keys_of({pk for pk, _d in same_birth} | {pk for pk, _h in phone_rows})
    for pk, born in same_birth:
        for i in by_birth.get(born, []) if born else []:
            p = probes[i]
            if p.surname_keys & keys.get(pk, set()) and p.given_keys & keys.get(pk, set()):
                add(i, pk, "name_birth_date")
    for pk, h in phone_rows:
        for i in by_phone[h]:
            if probes[i].given_keys & keys.get(pk, set()):
                add(i, pk, "phone")
    if not found:
        return []
    households = dict(
        people.filter(pk__in={m.person_id for m in found.values()}).values_list(
            "pk", "household_id"
        )
    )
    matches = [
        m
        for m in found.values()
        if probes[m.probe].household_id is None
        or households.get(m.person_id) != probes[m.probe].household_id
    ]
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
