"""Reads of the duplicate check."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from django.db.models import Q, prefetch_related_objects
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from pydantic import ValidationError

from aman.core.access import country_scope, require
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.dedup.matching import Match, Probe, find, probe_keys, summary
from aman.dedup.models import EVIDENCE, CandidatePair
from aman.registry.models import Person


def _registration_matches(
    user: User, crisis: Crisis, data: Any
) -> tuple[list[Match], dict[int, Person]]:
    """The possible duplicates of a registration's members (`data`, a parsed
    RegistrationIn) among the people already registered, strongest first; and the people
    found that the user may see, by id."""
    from aman.registry.services import _phone, document_hash, iin_hash, phone_hash

    probes = []
    for member in data.members:
        regions = [*member.nationalities, crisis.home_country.code, data.location.country]
        phones = set()
        for raw in member.phones:
            result = _phone(raw, [r.upper() for r in regions if r])
            phones.add(phone_hash(result.e164 or raw))
        probes.append(
            Probe(
                surname_keys=probe_keys(member.surname, member.surname_latin),
                given_keys=probe_keys(member.given_names, member.given_names_latin),
                birth_date=member.birth_date,
                iin_hash=iin_hash(member.iin) if member.iin else "",
                document_hashes=frozenset(document_hash(d.number) for d in member.documents),
                phone_hashes=frozenset(phones),
            )
        )
    matches = find(crisis.pk, probes)
    if not matches:
        return [], {}
    people = Person.objects.filter(pk__in={m.person_id for m in matches}).select_related("country")
    scope = country_scope(user)
    if scope is not None:
        people = people.filter(country__in=scope)
    by_id = {p.pk: p for p in people}
    ordered = sorted(matches, key=lambda m: (-m.score, m.probe))
    return [m for m in ordered if m.person_id in by_id], by_id


def registration_duplicates(*, user: User, crisis: Crisis, payload: Any) -> list[dict[str, Any]]:
    """People already registered who may be members of this registration (not saved yet),
    for the operator to see before saving: one entry per (member, person), strongest first.
    Only people the user may see are named."""
    from aman.registry.schemas import RegistrationIn

    require(user, Cap.PERSONAL_DATA)
    try:
        data = RegistrationIn.model_validate(payload)
    except ValidationError:
        return []  # the registration itself will say what is wrong
    matches, by_id = _registration_matches(user, crisis, data)
    found = []
    for m in matches:
        member = data.members[m.probe]
        found.append(
            {
                "member": f"{member.surname} {member.given_names}".strip(),
                "member_index": m.probe,
                "person": summary(by_id[m.person_id]),
                "score": m.score,
                "evidence": ", ".join(str(EVIDENCE[e]) for e in m.evidence),
            }
        )
    if found:
        audit_read(
            actor=user,
            verb="registration_duplicates",
            object_type="registry.person",
            crisis=crisis,
            details={"people": [None, sorted(by_id)]},
        )
    return found


class RegistrationCheckRefused(ApplicationError):
    """A registration checked before saving that would be refused: the reasons as the
    registration's own refusal gives them (`errors`), nothing kept."""

    def __init__(self, problems: list[Any]) -> None:
        first = problems[0]
        super().__init__(
            _("The registration would not be accepted: %(field)s: %(message)s")
            % {"field": first.field, "message": first.message},
            {"errors": [{"field": p.field, "message": p.message} for p in problems]},
        )
        self.problems = problems


def registration_check(*, user: User, crisis: Crisis, payload: Any) -> list[dict[str, Any]]:
    """The check before saving, for API clients (`POST /api/registrations/check`): the
    registration (one household, as `POST /api/registrations` takes it) is validated as it
    would be when sent — `RegistrationCheckRefused` (400) with the reasons otherwise — and
    the people already registered who may be its members are returned as the API answers a
    registration with its possible duplicates, by reference code (no names), but with no
    pair (nothing is saved) and the member's index instead of a person. Only people the
    user may see are named. Nothing is written but the audit entry of the read (also when
    nobody is found: the registry was searched)."""
    from aman.registry.services import registration_problems

    require(user, Cap.REGISTER)
    require(user, Cap.PERSONAL_DATA)
    data, problems = registration_problems(crisis=crisis, payload=payload)
    if data is None:
        raise RegistrationCheckRefused(problems)
    matches, by_id = _registration_matches(user, crisis, data)
    found = [
        {
            "member": m.probe,
            "duplicate_of": m.person_id,
            "reference_code": by_id[m.person_id].reference_code,
            "score": m.score,
            "evidence": list(m.evidence),
            "evidence_text": ", ".join(str(EVIDENCE[e]) for e in m.evidence),
        }
        for m in matches
    ]
    audit_read(
        actor=user,
        verb="registration_check",
        object_type="registry.person",
        crisis=crisis,
        details={"members": len(data.members), "people": sorted(by_id)},
    )
    return found


def candidates_for_person(*, user: User, person: Person) -> list[dict[str, Any]]:
    """The open possible duplicates of a person the user is looking at."""
    require(user, Cap.PERSONAL_DATA)
    pairs = CandidatePair.objects.filter(
        Q(person_a=person) | Q(person_b=person),
        status__in=(CandidatePair.Status.OPEN, CandidatePair.Status.DEFERRED),
        crisis_id=person.crisis_id,
    )
    others = {p.person_b_id if p.person_a_id == person.pk else p.person_a_id: p for p in pairs}
    visible = Person.objects.filter(pk__in=others).select_related("country")
    scope = country_scope(user)
    if scope is not None:
        visible = visible.filter(country__in=scope)
    return [
        {"pair": others[p.pk], "person": summary(p), "evidence": others[p.pk].evidence_text()}
        for p in sorted(visible, key=lambda p: -others[p.pk].score)
    ]


def candidates_for_user(
    *, user: User, crisis: Crisis, status: str | None = CandidatePair.Status.OPEN
) -> Any:
    """Possible duplicates of a crisis (of one status, or all), strongest first, both
    people loaded; for a consul only pairs whose two people are in their mission's
    countries."""
    require(user, Cap.PERSONAL_DATA)
    qs = (
        CandidatePair.objects.filter(crisis=crisis)
        .select_related(
            "person_a__country", "person_a__city", "person_b__country", "person_b__city"
        )
        .prefetch_related("merges__survivor")
        .order_by("-score", "-id")
    )
    if status is not None:
        qs = qs.filter(status=status)
    if status in (CandidatePair.Status.OPEN, CandidatePair.Status.DEFERRED):
        # A pair one of whose people was merged into someone else is carried by the
        # survivor's own pair (aman.dedup.merging).
        qs = qs.filter(person_a__merged_into__isnull=True, person_b__merged_into__isnull=True)
    scope = country_scope(user)
    if scope is not None:
        qs = qs.filter(person_a__country__in=scope, person_b__country__in=scope)
    return qs


def cluster_pairs(*, user: User, crisis: Crisis, cluster: int) -> list[int]:
    """The pairs of a cluster still to decide (open or put off) that the user may see."""
    return list(
        candidates_for_user(user=user, crisis=crisis, status=None)
        .filter(
            cluster=cluster,
            status__in=(CandidatePair.Status.OPEN, CandidatePair.Status.DEFERRED),
            person_a__merged_into__isnull=True,
            person_b__merged_into__isnull=True,
        )
        .values_list("pk", flat=True)
    )


def undecided_in(pairs: Any) -> dict[str, int]:
    """How many of these pairs are open and how many put off."""
    counts = {CandidatePair.Status.OPEN.value: 0, CandidatePair.Status.DEFERRED.value: 0}
    for status in pairs.filter(
        status__in=list(counts),
        person_a__merged_into__isnull=True,
        person_b__merged_into__isnull=True,
    ).values_list("status", flat=True):
        counts[status] += 1
    return counts


# The fields shown side by side in the review, in order (label, attribute).
COMPARED = [
    ("surname", "surname"),
    ("given_names", "given_names"),
    ("patronymic", "patronymic"),
    ("surname_latin", "surname_latin"),
    ("given_names_latin", "given_names_latin"),
    ("birth_date", "birth_date"),
    ("sex", "sex"),
    ("country", "country"),
    ("city", "city"),
    ("address", "address"),
    ("channel", "channel"),
    ("status", "status"),
    ("reference_code", "reference_code_display"),
    ("created_at", "created_at"),
]


def side_by_side(pair: CandidatePair) -> list[dict[str, Any]]:
    """Rows of (field, value of a, value of b, differ?) for the review page."""
    return compare(pair.person_a, pair.person_b)


def compare(a: Person, b: Person) -> list[dict[str, Any]]:
    """Rows of (field, value of a, value of b, differ?): two records side by side."""
    return [
        {
            "label": row["label"],
            "a": row["values"][0],
            "b": row["values"][1],
            "differ": row["differ"],
        }
        for row in compare_many([a, b])
    ]


def _tail(value: str, shown: int = 4) -> str:
    """An identifier as the review shows it: its last characters only (enough to tell two
    numbers apart at a glance; the person's page has the whole number)."""
    value = "".join(value.split())
    return "…" + value[-shown:] if value else ""


def _identifier_rows(people: list[Person]) -> list[dict[str, Any]]:
    """The identifiers side by side — IIN, documents, phones, email, the household — told
    apart by their keyed hashes, shown by their last characters. A row differs where two
    records both have such identifiers and share none of them: different passports are
    strong evidence of two people."""
    prefetch_related_objects(people, "documents", "phones", "household__members")

    def differ(keys: list[frozenset[str]]) -> bool:
        """Two records that both have some and share none."""
        return any(a and b and not a & b for a, b in combinations(keys, 2))

    iins = [frozenset([p.iin_hash]) if p.iin_hash else frozenset() for p in people]
    documents = [frozenset(d.number_hash for d in p.documents.all()) for p in people]
    phones = [frozenset(t.number_hash for t in p.phones.all()) for p in people]

    def document_words(p: Person) -> str:
        return "; ".join(
            " ".join(
                x
                for x in (
                    d.get_kind_display(),
                    _tail(d.number),
                    d.issuing_state,
                    _("until %(date)s") % {"date": d.expiry_date.isoformat()}
                    if d.expiry_date
                    else "",
                )
                if x
            )
            for d in sorted(p.documents.all(), key=lambda d: d.pk)
        )

    def household_words(p: Person) -> str:
        if p.household is None:
            return ""
        others = [m for m in p.household.members.all() if m.pk != p.pk]
        if not others:
            return _("alone")
        names = ", ".join(m.given_names for m in sorted(others, key=lambda m: m.pk)[:6])
        return ngettext(
            "with %(n)d other: %(names)s", "with %(n)d others: %(names)s", len(others)
        ) % {"n": len(others), "names": names}

    return [
        {"label": _("IIN"), "values": [_tail(p.iin) for p in people], "differ": differ(iins)},
        {
            "label": _("documents"),
            "values": [document_words(p) for p in people],
            "differ": differ(documents),
        },
        {
            "label": _("phones"),
            "values": [", ".join(_tail(t.number) for t in p.phones.all()) for p in people],
            "differ": differ(phones),
        },
        {
            "label": _("email"),
            "values": [p.email for p in people],
            "differ": len({p.email.lower() for p in people if p.email}) > 1,
        },
        {"label": _("household"), "values": [household_words(p) for p in people], "differ": False},
    ]


def compare_many(people: list[Person]) -> list[dict[str, Any]]:
    """Rows of (field, each record's value, differ?): records side by side (a pair, or
    every record of a cluster), a row marked where the records disagree; the identifiers
    (`_identifier_rows`) after the names, birth date and sex."""
    rows = []
    for name, attribute in COMPARED:
        if name == "country":
            rows += _identifier_rows(people)
        field = Person._meta.get_field(name)
        if name in ("channel", "status", "sex"):
            values = [getattr(p, f"get_{name}_display")() for p in people]
        else:
            values = [getattr(p, attribute) for p in people]
        rows.append(
            {
                "label": getattr(field, "verbose_name", name),
                "values": values,
                "differ": name not in ("reference_code", "created_at", "channel", "status")
                and len({str(v) for v in values}) > 1,
            }
        )
    return rows


CLUSTER_COLUMNS = 12


def cluster_people(pairs: Any) -> list[Person]:
    """The records a cluster's pairs (already scoped to the user) join, oldest first, at
    most `CLUSTER_COLUMNS` (the rest are in the pairs below); records merged into another
    are shown by the one that kept them."""
    seen: dict[int, Person] = {}
    for pair in pairs.order_by():
        for person in (pair.person_a, pair.person_b):
            if person.merged_into_id is None:
                seen.setdefault(person.pk, person)
    return [seen[k] for k in sorted(seen)][:CLUSTER_COLUMNS]


def merge_plan(
    *, survivor: Person, absorbed: Person, chosen: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """What a merge would keep, group by group, for the merge page: both values in words,
    which one is kept and by which rule; groups in conflict can be chosen by the officer."""
    from aman.dedup.merging import GROUPS, RULE_WORDS, SECRET, plan

    rows = []
    for choice in plan(survivor, absorbed, chosen):
        label, fields = GROUPS[choice.group]
        rows.append(
            {
                "group": choice.group,
                "label": label,
                "survivor": _words(survivor, fields),
                "absorbed": _words(absorbed, fields),
                "source": choice.source,
                "rule": RULE_WORDS[choice.rule],
                "conflict": choice.conflict,
                "secret": bool(SECRET & set(fields)),
            }
        )
    return rows


def _words(person: Person, fields: tuple[str, ...]) -> str:
    """A group of a person's fields as an officer reads it (identifiers masked)."""
    parts = []
    for name in fields:
        if name in ("iin_hash", "latin_from_document", "latitude", "longitude"):
            continue
        value = getattr(person, name)
        if name in ("iin", "messengers") and value:
            value = "…" + str(value)[-3:]
        elif name == "household" and value is not None:
            value = f"H{value.pk}"
        elif hasattr(person, f"get_{name}_display") and value:
            value = getattr(person, f"get_{name}_display")()
        elif name == "location_updated_at" and value:
            value = f"({value:%Y-%m-%d %H:%M})"
        if value not in (None, ""):
            parts.append(str(value))
    if "latin_from_document" in fields and person.latin_from_document:
        parts.append(str(_("(from the document)")))
    return " ".join(parts)


def merges_for_person(*, user: User, person: Person) -> Any:
    """Records merged into this person (still in force), newest first."""
    from aman.dedup.models import Merge

    require(user, Cap.PERSONAL_DATA)
    qs = (
        Merge.objects.filter(survivor=person, undone_at__isnull=True)
        .select_related("absorbed", "merged_by")
        .order_by("-merged_at")
    )
    scope = country_scope(user)
    if scope is not None:
        qs = qs.filter(absorbed__country__in=scope)
    return qs


def both_visible(*, user: User, crisis_id: int, people: tuple[int, int]) -> bool:
    """Whether the user may see both people of a pair or a merge (a consul: both in their
    mission's countries); a merged record is no longer among the people, so it is looked
    up as stored."""
    require(user, Cap.PERSONAL_DATA)
    qs = Person.all_objects.filter(crisis_id=crisis_id, pk__in=people)
    scope = country_scope(user)
    if scope is not None:
        qs = qs.filter(country__in=scope)
    return qs.count() == 2


def require_both_visible(*, user: User, crisis_id: int, people: tuple[int, int]) -> None:
    """404 unless the user may work in the crisis and see both people (a pair, a merge)."""
    from django.http import Http404

    from aman.core.access import crisis_for_user

    crisis_for_user(user, crisis_id)
    if not both_visible(user=user, crisis_id=crisis_id, people=people):
        raise Http404


def possible_duplicates_out(*, user: User, pairs: Any, people: list[int]) -> list[dict[str, Any]]:
    """Possible duplicates as the API answers a registration or a correction with them:
    for each open or deferred pair of `pairs` that names one of `people`, the other person
    as far as the user may see them — by reference code, no names (`GET /api/duplicates`
    shows both records side by side)."""
    if not user.has_cap(Cap.PERSONAL_DATA):
        return []
    mine = set(people)
    found = []
    for pair in pairs.filter(
        status__in=(CandidatePair.Status.OPEN, CandidatePair.Status.DEFERRED)
    ).order_by("-score", "pk"):
        if pair.person_a_id in mine:
            found.append((pair, pair.person_a_id, pair.person_b_id))
        elif pair.person_b_id in mine:
            found.append((pair, pair.person_b_id, pair.person_a_id))
    visible = Person.objects.filter(pk__in={other for _p, _own, other in found})
    scope = country_scope(user)
    if scope is not None:
        visible = visible.filter(country__in=scope)
    codes = dict(visible.values_list("pk", "reference_code"))
    return [
        {
            "pair": pair.pk,
            "person": own,
            "duplicate_of": other,
            "reference_code": codes[other],
            "score": pair.score,
            "evidence": pair.evidence,
            "evidence_text": pair.evidence_text(),
        }
        for pair, own, other in found
        if other in codes
    ]


def import_pairs_count(batch_id: int) -> int:
    """How many possible duplicates the rows of an import brought for review (a count, no
    personal data: the list and the import's pages say it)."""
    return CandidatePair.objects.filter(intake_record__batch_id=batch_id).count()


ADULT_AGE = 18


def merge_households(
    *, survivor: Person, absorbed: Person, chosen: dict[str, str] | None = None
) -> dict[str, Any]:
    """For the merge page: the households of the two records, who else is in each (name,
    reference code, age), which one the merged person will be in, and a warning for each
    household the merge would leave with children and no adult."""
    from django.utils import timezone

    from aman.dedup.merging import _final_household

    records = (survivor.pk, absorbed.pk)
    final = _final_household(survivor, absorbed, chosen)
    today = timezone.localdate()
    households = []
    warnings = []
    for household in dict.fromkeys((survivor.household_id, absorbed.household_id)):
        if household is None:
            continue
        others = list(
            Person.objects.filter(household_id=household)
            .exclude(pk__in=records)
            .order_by("birth_date", "pk")
        )
        members: list[dict[str, Any]] = [
            {"name": str(p), "code": p.reference_code_display, "age": p.age_on(today)}
            for p in others
        ]
        chosen_here = household == final
        households.append(
            {
                "id": household,
                "label": f"H{household}",
                "records": [
                    str(role_name)
                    for r, role_name in (
                        (survivor, _("kept record")),
                        (absorbed, _("merged record")),
                    )
                    if r.household_id == household
                ],
                "members": members,
                "chosen": chosen_here,
            }
        )
        minors = [m for m in members if m["age"] is not None and m["age"] < ADULT_AGE]
        adults = [m for m in members if m["age"] is not None and m["age"] >= ADULT_AGE]
        if not chosen_here and minors and not adults:
            warnings.append(
                _(
                    "Household %(household)s would be left with children and no adult: "
                    "%(children)s. If the merged person is their parent or guardian, keep "
                    "the person in that household."
                )
                % {
                    "household": f"H{household}",
                    "children": ", ".join(f"{m['name']} ({m['code']})" for m in minors),
                }
            )
    return {"households": households, "final": final, "warnings": warnings}


UNDO_WORDS = {
    "restored": gettext_lazy("removed since the merge: made again as it was"),
    "reverted": gettext_lazy("corrected since the merge: put back as it was at the merge"),
    "as_now": gettext_lazy("changed since the merge: went back as it is now"),
    "left": gettext_lazy("no longer the kept record's: left where it is"),
}


def unmerge_notes(merge: Any) -> list[str]:
    """What an unmerge found changed since the merge among the rows it moved back, in
    words: each row (documents and phones masked) and what was done with it."""
    from django.apps import apps

    from aman.dedup.merging import _values

    notes = []
    snapshot = merge.rows or {}
    for entry in merge.rows_on_undo or []:
        label, _fk = entry["relation"].rsplit(".", 1)
        model = apps.get_model(label)
        name = str(model._meta.verbose_name)
        stored = snapshot.get(entry["relation"], {}).get(str(entry["id"]))
        if entry["relation"] in ("registry.document.person", "registry.phone.person") and stored:
            row = str(model(**_values(model, stored)))
            what = f"{name} {row}"
        else:
            what = f"{name} {entry['id']}"
        notes.append(f"{what}: {UNDO_WORDS.get(entry['outcome'], entry['outcome'])}")
    return notes


def open_pair_ids(person: Person) -> set[int]:
    """The possible duplicates of a person waiting for review (their pairs' ids)."""
    return set(
        CandidatePair.objects.filter(
            Q(person_a=person) | Q(person_b=person),
            status__in=(CandidatePair.Status.OPEN, CandidatePair.Status.DEFERRED),
        ).values_list("pk", flat=True)
    )
