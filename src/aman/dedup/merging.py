"""Merging two records of one person, and undoing it.

A merge keeps both records. The *survivor* takes the values chosen by the rule below (or by
the officer, for the groups where the two records disagree) and every row that belonged to
the *absorbed* record: its intake records, documents, phones, name keys, status events, and
whatever later parts of Aman attach to a person (bookings, stays, cases, messages: every
foreign key to a person is followed, see `_relations`). The absorbed record stays, marked
`merged_into`, so that its reference code still leads to the person and the merge can be
undone: an unmerge moves back the rows that were moved, puts back the survivor's values
(except those changed since, which it keeps and lists), and reopens the pair. Rows moved and
changed since are listed too (`Merge.rows_on_undo`): the record's own documents and phones
are put back as they were at the merge (made again when removed since), while seats, rooms
and the like go back as they are now (their own history says what happened since).

The rule, per group of fields (`GROUPS`):

* a value only one record has is taken;
* where both have one and they differ (a *conflict*, shown to the officer, who may choose),
  the **verified** value wins — Latin names read from a document; a birth date or sex that
  the record's own IIN encodes — and otherwise the **newest**: the value set last, group by
  group (`group_times`: the latest accepted intake record of the record — its registration,
  an officer's correction, the citizen's own update — that carried a field of the group;
  for the location, when it was last reported). A status step or a booking does not make a
  value newer;
* the household: the kept record's, unless only the other record's household has anyone
  else in it (a person registered once alone and once with their family travels with the
  family);
* needs are never lost: a vulnerability either record reports is kept, the two notes are
  joined, the nationalities are united; the consent kept is the earlier one;
* the journey is one: both records' status events are the survivor's, and its status is
  the latest of them;
* two different IINs are two people: such records are never merged; nor are two records
  an officer said are not the same person (also when either has been merged with someone
  else since: the decision follows the records, see `rejection_between`);
* one person is in one place at a time: records housed on the same night in two stays, or
  holding seats on one leg or on legs at the same time, are not merged until an officer has
  resolved that (the refusal names the stays and bookings, see `merge_conflicts`). A merge
  therefore frees no room and no seat, and an unmerge gives none back;
* travelling together is booked and housed together: a record that would leave a household
  that keeps other members while it holds a seat or a room with that household is not
  merged that way (`household_conflicts`, the registry's `household_move_conflicts`). The
  person's seats and rooms then name the household the person is in (and again the old one
  after an unmerge); the contact of every household touched is one of its members.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aman.core.audit import audit_write
from aman.core.errors import ApplicationError, Conflict
from aman.core.models import AuditEntry, User
from aman.dedup.models import CandidatePair, Merge
from aman.dedup.signals import MergeConflict
from aman.registry.identity import IinError, name_keys, parse_iin
from aman.registry.models import (
    Household,
    IntakeRecord,
    NameKey,
    NamePair,
    Person,
    StatusEvent,
    reference_code_display,
)

# The groups of fields a merge decides together, with their label for officers. A group's
# fields always come from the same record.
GROUPS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "names": (gettext_lazy("Names"), ("surname", "given_names", "patronymic")),
    "latin": (
        gettext_lazy("Names in passport Latin"),
        ("surname_latin", "given_names_latin", "latin_from_document"),
    ),
    "birth_date": (gettext_lazy("Birth date"), ("birth_date",)),
    "sex": (gettext_lazy("Sex"), ("sex",)),
    "iin": (gettext_lazy("IIN"), ("iin", "iin_hash")),
    "email": (gettext_lazy("Email"), ("email",)),
    "messengers": (gettext_lazy("Messenger handles"), ("messengers",)),
    "language": (gettext_lazy("Preferred language"), ("language",)),
    "location": (
        gettext_lazy("Where the person is"),
        ("country", "city", "address", "latitude", "longitude", "location_updated_at"),
    ),
    "intent": (gettext_lazy("Intent"), ("intent",)),
    "eligibility": (gettext_lazy("Eligibility"), ("eligibility",)),
    "household": (gettext_lazy("Household"), ("household",)),
}
# Combined rather than chosen: nothing either record says about needs is dropped.
FLAGS = ("pregnant", "medical_need", "reduced_mobility", "disability", "unaccompanied_minor")
# Every field a merge may change on the survivor (and an unmerge puts back).
FIELDS = (
    *(f for _label, fields in GROUPS.values() for f in fields),
    *FLAGS,
    "needs_note",
    "nationalities",
    "consent_at",
    "status",
    "priority",
    "priority_reasons",
    "updated_at",
)
# Not shown in words anywhere (identifiers).
SECRET = frozenset({"iin", "iin_hash", "messengers"})


@dataclass
class Choice:
    group: str
    source: str  # "survivor" or "absorbed"
    rule: str  # "only", "same", "verified", "newest", "kept", "officer"
    conflict: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "from": self.source,
            "rule": self.rule,
            "conflict": self.conflict,
        }


RULE_WORDS = {
    "only": gettext_lazy("only one record has it"),
    "same": gettext_lazy("the same in both"),
    "verified": gettext_lazy("verified (document or IIN)"),
    "newest": gettext_lazy("the newest"),
    "officer": gettext_lazy("chosen by the officer"),
    "kept": gettext_lazy("the kept record's"),
    "family": gettext_lazy("the household with others in it"),
}
# Which group of fields a field of an update's payload (an officer's correction, the
# citizen's own update) sets.
PAYLOAD_GROUPS = {
    "surname": "names",
    "given_names": "names",
    "patronymic": "names",
    "surname_latin": "latin",
    "given_names_latin": "latin",
    "birth_date": "birth_date",
    "sex": "sex",
    "iin": "iin",
    "email": "email",
    "messengers": "messengers",
    "language": "language",
    "country": "location",
    "city_id": "location",
    "city": "location",
    "address": "location",
    "latitude": "location",
    "longitude": "location",
    "intent": "intent",
    "eligibility": "eligibility",
}
# The rows that are the record's own data: an unmerge puts them back as they were at the
# merge. Other rows (seats, rooms, permits, …) go back as they are now.
RESTORED = ("registry.document.person", "registry.phone.person")
INTAKE_LINKS = "registry.intakerecord_people.person"


def _field(name: str) -> models.Field[Any, Any]:
    return cast("models.Field[Any, Any]", Person._meta.get_field(name))


def _value(person: Person, field: str) -> Any:
    return getattr(person, _field(field).attname)


def _empty(values: tuple[Any, ...]) -> bool:
    return all(v in (None, "", [], False) for v in values)


def _verified(person: Person, group: str) -> bool:
    if group == "latin":
        return person.latin_from_document
    if group in ("birth_date", "sex") and person.iin:
        try:
            decoded = parse_iin(person.iin)
        except IinError:
            return False
        if group == "birth_date":
            return decoded.birth_date == person.birth_date
        return decoded.sex == person.sex
    return False


def _merged_records(people: list[int]) -> set[int]:
    """These records and every record merged into them (merges in force), at any depth."""
    found, frontier = set(people), list(people)
    while frontier:
        frontier = [
            pk
            for pk in Person.all_objects.filter(merged_into__in=frontier).values_list(
                "pk", flat=True
            )
            if pk not in found
        ]
        found.update(frontier)
    return found


def _current_people(records: set[int]) -> dict[int, int]:
    """The person each record is part of now (itself, or the one it was merged into)."""
    parent = dict(Person.all_objects.filter(pk__in=records).values_list("pk", "merged_into"))
    out = {}
    for record in records:
        pk, seen = record, 0
        while seen < 50:
            if pk not in parent:
                parent.update(Person.all_objects.filter(pk=pk).values_list("pk", "merged_into"))
            up = parent.get(pk)
            if up is None:
                break
            pk, seen = up, seen + 1
        out[record] = pk
    return out


def _groups_carried(record: IntakeRecord, codes: set[str]) -> set[str]:
    """The groups of fields an accepted intake record set for a record whose reference
    codes are `codes`: a registration all of them; an update those its payload names (a
    member moved with the household by someone else's update: only the location)."""
    if record.kind == "registration":
        return set(GROUPS) - {"household"}
    payload: dict[str, Any] = record.payload if isinstance(record.payload, dict) else {}
    groups = {PAYLOAD_GROUPS[k] for k in payload if k in PAYLOAD_GROUPS}
    documents = payload.get("documents")
    if isinstance(documents, list) and any(
        isinstance(d, dict) and d.get("surname_latin") for d in documents
    ):
        groups.add("latin")  # a document's printed name becomes the person's
    if record.source_ref not in codes:
        groups &= {"location"}
    return groups


def group_times(person: Person) -> dict[str, dt.datetime]:
    """When each group of the record's fields was last set: the latest accepted intake
    record linked to it that carried a field of the group (`_groups_carried`), else when the
    record was created; for the location, when it was last reported. Intake records a merge
    in force brought count only for the groups whose value that merge took from them."""
    merges = list(
        Merge.objects.filter(survivor=person, undone_at__isnull=True).values_list(
            "moved", "choices"
        )
    )
    only: dict[int, set[str]] = {}  # intake link → the groups it may speak for
    for moved, choices in merges:
        taken = {c["group"] for c in choices if c.get("from") == "absorbed"}
        for link in moved.get(INTAKE_LINKS, []):
            only[link] = taken
    records = _merged_records([person.pk])
    codes = set(Person.all_objects.filter(pk__in=records).values_list("reference_code", flat=True))
    times = {group: person.created_at for group in GROUPS}
    through = IntakeRecord.people.through
    links = dict(through.objects.filter(person_id=person.pk).values_list("pk", "intakerecord_id"))
    intake = {
        r.pk: r
        for r in IntakeRecord.objects.filter(
            pk__in=set(links.values()), outcome=IntakeRecord.Outcome.ACCEPTED
        ).only("pk", "kind", "received_at", "source_ref", "payload")
    }
    for link, record_id in links.items():
        record = intake.get(record_id)
        if record is None:
            continue
        groups = _groups_carried(record, codes)
        if link in only:
            groups &= only[link]
        for group in groups:
            times[group] = max(times[group], record.received_at)
    if person.location_updated_at is not None:
        times["location"] = person.location_updated_at
    return times


def _household_others(household: int | None, records: tuple[int, int]) -> list[Person]:
    """The members of a household other than the two records, oldest first."""
    if household is None:
        return []
    return list(
        Person.objects.filter(household_id=household).exclude(pk__in=records).order_by("pk")
    )


def plan(survivor: Person, absorbed: Person, chosen: dict[str, str] | None = None) -> list[Choice]:
    """What a merge of the two would take from where, group by group; `chosen` holds the
    officer's choices ({group: "survivor" | "absorbed"}) for groups in conflict."""
    chosen = chosen or {}
    choices = []
    times: list[dict[str, dt.datetime]] = []
    for group, (_label, fields) in GROUPS.items():
        mine = tuple(_value(survivor, f) for f in fields)
        theirs = tuple(_value(absorbed, f) for f in fields)
        if mine == theirs or _empty(theirs) or _same_names(group, mine, theirs):
            choices.append(Choice(group, "survivor", "same" if mine == theirs else "only", False))
            continue
        if _empty(mine):
            choices.append(Choice(group, "absorbed", "only", False))
            continue
        if chosen.get(group) in ("survivor", "absorbed"):
            choices.append(Choice(group, chosen[group], "officer", True))
            continue
        if group == "household":
            # A person stays in their household unless only the other household has anyone
            # else in it (registered once alone, once with the family), or the officer
            # says otherwise.
            records = (survivor.pk, absorbed.pk)
            if not _household_others(survivor.household_id, records) and _household_others(
                absorbed.household_id, records
            ):
                choices.append(Choice(group, "absorbed", "family", True))
            else:
                choices.append(Choice(group, "survivor", "kept", True))
            continue
        verified = (_verified(survivor, group), _verified(absorbed, group))
        if verified[0] != verified[1]:
            source = "survivor" if verified[0] else "absorbed"
            choices.append(Choice(group, source, "verified", True))
            continue
        if not times:
            times = [group_times(survivor), group_times(absorbed)]
        newest = "absorbed" if times[1][group] > times[0][group] else "survivor"
        choices.append(Choice(group, newest, "newest", True))
    return choices


def _same_names(group: str, mine: tuple[Any, ...], theirs: tuple[Any, ...]) -> bool:
    """Two spellings of the same names (`Жұмабек` and `Жумабек`): not a conflict; the
    survivor's spelling stays and the other still finds the person (its name keys move)."""
    if group not in ("names", "latin"):
        return False
    texts = [" ".join(str(v) for v in values if isinstance(v, str)) for values in (mine, theirs)]
    if group == "latin" and mine[-1] != theirs[-1]:
        return False  # one of them was read from a document: the verified one is chosen
    return name_keys(texts[0]) == name_keys(texts[1])


def _dump(person: Person) -> dict[str, Any]:
    """The survivor's merge-relevant fields as stored, JSON-ready."""
    out: dict[str, Any] = {}
    for name in FIELDS:
        value = _value(person, name)
        if isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        out[name] = value
    return out


def _load(values: dict[str, Any]) -> dict[str, Any]:
    """`_dump`'s values as field values, keyed by attribute name (for `update()`)."""
    out = {}
    for name, value in values.items():
        field = _field(name)
        out[field.attname] = field.to_python(value) if value is not None else None
    return out


def _relations() -> dict[str, tuple[type[models.Model], str]]:
    """Every relation through which rows belong to a person and move with a merge, as
    {key: (model, column)}: the foreign keys (also one-to-one, also hidden ones declared
    with `related_name="+"`) and the many-to-many links of other models to Person, except
    those a merge handles itself (name keys, household contacts, possible duplicates,
    merges) and the merged-into link; name pairs follow the name keys."""
    handled = {NameKey, NamePair, Household, CandidatePair, Merge, Person}
    out: dict[str, tuple[type[models.Model], str]] = {}
    for rel in Person._meta.get_fields(include_hidden=True):
        if not rel.auto_created or rel.concrete:
            continue
        model: Any = rel.related_model
        if rel.many_to_many:
            model = rel.through  # type: ignore[union-attr]
            fks = [
                f.name
                for f in model._meta.get_fields()
                if getattr(f, "related_model", None) is Person and f.concrete
            ]
            if len(fks) != 1:
                continue
            fk = fks[0]
        elif rel.one_to_many or rel.one_to_one:
            fk = rel.field.name  # type: ignore[union-attr]
        else:
            continue
        if model in handled:
            continue
        out[f"{model._meta.label_lower}.{fk}"] = (model, fk)
    return out


def _unique_sets(model: type[models.Model], fk: str) -> list[tuple[list[str], models.Q | None]]:
    """The other fields of each uniqueness rule of `model` that includes `fk`, with the
    rule's condition (a rule that holds only for some rows, such as one seat per person on
    a leg among the bookings that hold one)."""
    sets: list[tuple[list[str], models.Q | None]] = [
        (list(u), None) for u in model._meta.unique_together
    ]
    if getattr(model._meta.get_field(fk), "unique", False):
        sets.append(([fk], None))  # one-to-one: one row per person
    sets += [
        (list(c.fields), c.condition)
        for c in model._meta.constraints
        if isinstance(c, models.UniqueConstraint) and c.fields
    ]
    return [([f for f in s if f != fk], condition) for s, condition in sets if fk in s]


def _move(
    model: type[models.Model], fk: str, source: int, target: int, only: list[int] | None = None
) -> list[int]:
    """Point the rows of `model` whose `fk` is `source` at `target`, except rows that would
    break a uniqueness rule (the target already has one like it: that row stays). Returns
    the ids of the rows moved."""
    manager = model._base_manager
    rows = manager.filter(**{fk: source})
    if only is not None:
        rows = rows.filter(pk__in=only)
    ids = set(rows.values_list("pk", flat=True))
    for others, condition in _unique_sets(model, fk):
        where = condition if condition is not None else models.Q()
        if not others:
            if manager.filter(where, **{fk: target}).exists():
                ids -= set(manager.filter(where, pk__in=ids).values_list("pk", flat=True))
            continue
        taken = set(manager.filter(where, **{fk: target}).values_list(*others))
        if taken:
            for pk, *values in manager.filter(where, pk__in=ids).values_list("pk", *others):
                if tuple(values) in taken:
                    ids.discard(pk)
    if ids:
        manager.filter(pk__in=ids).update(**{fk: target})
    return sorted(ids)


def _check_pair(survivor: Person, absorbed: Person) -> None:
    if survivor.pk == absorbed.pk:
        raise ApplicationError(_("A person cannot be merged into themselves."), {})
    if survivor.crisis_id != absorbed.crisis_id:
        raise ApplicationError(_("The two people are in different crises."), {})
    for person in (survivor, absorbed):
        if person.merged_into_id is not None:
            raise Conflict(
                _("%(code)s has already been merged into another record.")
                % {"code": person.reference_code_display},
                {"person": [person.pk]},
            )
    if survivor.iin_hash and absorbed.iin_hash and survivor.iin_hash != absorbed.iin_hash:
        raise Conflict(
            _("The two records have different IINs: they are two people and are never merged."),
            {"iin": ["different"]},
        )


def rejection_between(survivor: Person, absorbed: Person) -> CandidatePair | None:
    """The earliest decision "not the same person" on two records of which one is, or was
    merged into, the one person and the other the other person; None when there is none."""
    mine = _merged_records([survivor.pk])
    theirs = _merged_records([absorbed.pk])
    return (
        CandidatePair.objects.filter(status=CandidatePair.Status.REJECTED)
        .filter(
            models.Q(person_a__in=mine, person_b__in=theirs)
            | models.Q(person_a__in=theirs, person_b__in=mine)
        )
        .select_related("decided_by")
        .order_by(models.F("decided_at").asc(nulls_first=True), "pk")
        .first()
    )


def _check_rejected(survivor: Person, absorbed: Person) -> None:
    decision = rejection_between(survivor, absorbed)
    if decision is None:
        return
    codes = dict(
        Person.all_objects.filter(pk__in=[decision.person_a_id, decision.person_b_id]).values_list(
            "pk", "reference_code"
        )
    )
    officer = decision.decided_by
    raise Conflict(
        _(
            "%(kept)s and %(merged)s are not merged: %(first)s and %(second)s, records of these "
            "two, were recorded as not the same person by %(officer)s on %(when)s."
        )
        % {
            "kept": survivor.reference_code_display,
            "merged": absorbed.reference_code_display,
            "first": reference_code_display(codes[decision.person_a_id]),
            "second": reference_code_display(codes[decision.person_b_id]),
            "officer": (officer.get_full_name() or officer.username) if officer else _("unknown"),
            "when": date_format(timezone.localtime(decision.decided_at), "SHORT_DATETIME_FORMAT")
            if decision.decided_at
            else _("unknown"),
        },
        {
            "rejected_pair": decision.pk,
            "decided_by": officer.username if officer else None,
            "decided_at": decision.decided_at.isoformat() if decision.decided_at else None,
        },
    )


def _final_household(survivor: Person, absorbed: Person, chosen: dict[str, str] | None) -> Any:
    """The household the merged person will be in (an id, or None)."""
    for choice in plan(survivor, absorbed, chosen):
        if choice.group == "household":
            person = absorbed if choice.source == "absorbed" else survivor
            return person.household_id
    return survivor.household_id


def _leaving(survivor: Person, absorbed: Person, household: int | None) -> list[Person]:
    """The records that leave, by the merge, a household that keeps other members."""
    records = (survivor.pk, absorbed.pk)
    return [
        record
        for record in (survivor, absorbed)
        if record.household_id is not None
        and record.household_id != household
        and _household_others(record.household_id, records)
    ]


def household_conflicts(
    survivor: Person, absorbed: Person, chosen: dict[str, str] | None = None
) -> list[MergeConflict]:
    """The seats and rooms that a record holds with a household the merge would take it out
    of while others stay in it (travelling together is booked and housed together: the
    registry's `household_move_conflicts`); empty when the merge leaves nobody behind."""
    from aman.registry.signals import household_move_conflicts

    household = _final_household(survivor, absorbed, chosen)
    leaving = _leaving(survivor, absorbed, household)
    if not leaving:
        return []
    target = Household.objects.filter(pk=household).first() if household else None
    return [
        MergeConflict("household", str(text))
        for _receiver, found in household_move_conflicts.send(
            sender=Household, people=leaving, household=target
        )
        for text in found or ()
    ]


def _check_households(survivor: Person, absorbed: Person, chosen: dict[str, str] | None) -> None:
    conflicts = household_conflicts(survivor, absorbed, chosen)
    if conflicts:
        raise Conflict(
            _(
                "%(kept)s and %(merged)s cannot be merged this way yet: the person would leave "
                "a household they are booked or housed with. Release or split these first, or "
                "keep the person in that household: %(conflicts)s."
            )
            % {
                "kept": survivor.reference_code_display,
                "merged": absorbed.reference_code_display,
                "conflicts": "; ".join(c.text for c in conflicts),
            },
            {"conflicts": [c.as_dict() for c in conflicts]},
        )


def merge_conflicts(survivor: Person, absorbed: Person) -> list[MergeConflict]:
    """What the two records hold that one person cannot hold twice (two rooms on one night,
    two seats at one time), as each part of Aman sees it; empty when they can be merged."""
    from aman.dedup.signals import merge_conflicts as signal

    found: list[MergeConflict] = []
    for _receiver, conflicts in signal.send(sender=Merge, survivor=survivor, absorbed=absorbed):
        found.extend(cast("list[MergeConflict]", conflicts) or [])
    return found


def _check_conflicts(survivor: Person, absorbed: Person) -> None:
    conflicts = merge_conflicts(survivor, absorbed)
    if conflicts:
        raise Conflict(
            _(
                "%(kept)s and %(merged)s cannot be merged yet: the person would be in two "
                "places at once. Keep only the right one of each, then merge: %(conflicts)s."
            )
            % {
                "kept": survivor.reference_code_display,
                "merged": absorbed.reference_code_display,
                "conflicts": "; ".join(c.text for c in conflicts),
            },
            {"conflicts": [c.as_dict() for c in conflicts]},
        )


@transaction.atomic
def person_merge(
    *,
    actor: User | None,
    survivor: Person,
    absorbed: Person,
    pair: CandidatePair | None = None,
    chosen: dict[str, str] | None = None,
    automatic: bool = False,
) -> Merge:
    """Merge `absorbed` into `survivor` (see the module's rule); returns the merge, which
    `person_unmerge` undoes."""
    from aman.dedup.signals import person_merged
    from aman.registry.services import (
        _household_priority_refresh,
        _priority_refresh,
        _write_name_pairs,
    )

    locked = {
        p.pk: p
        for p in Person.all_objects.select_for_update()
        .select_related("crisis")
        .filter(pk__in=[survivor.pk, absorbed.pk])
        .order_by("pk")
    }
    survivor, absorbed = locked[survivor.pk], locked[absorbed.pk]
    _check_pair(survivor, absorbed)
    if pair is not None:
        pair = CandidatePair.objects.select_for_update().get(pk=pair.pk)
        if {pair.person_a_id, pair.person_b_id} != {survivor.pk, absorbed.pk}:
            raise ApplicationError(_("This pair is not these two people."), {})
    # An officer's "not the same person" on these two, or on records merged into either.
    _check_rejected(survivor, absorbed)
    if pair is not None and pair.status in (
        CandidatePair.Status.MERGED,
        CandidatePair.Status.REJECTED,
    ):
        raise Conflict(_("This pair has already been decided."), {"status": pair.status})
    # The two people are locked, and every writer of stays and bookings locks the people it
    # houses or books: nothing new can come between these checks and the move.
    _check_conflicts(survivor, absorbed)
    _check_households(survivor, absorbed, chosen)
    before = _dump(survivor)
    households = {h for h in (survivor.household_id, absorbed.household_id) if h}
    choices = plan(survivor, absorbed, chosen)
    for choice in choices:
        if choice.source == "absorbed":
            for field in GROUPS[choice.group][1]:
                setattr(survivor, _field(field).attname, _value(absorbed, field))
    for flag in FLAGS:
        setattr(survivor, flag, getattr(survivor, flag) or getattr(absorbed, flag))
    notes = [n for n in (survivor.needs_note.strip(), absorbed.needs_note.strip()) if n]
    survivor.needs_note = "\n".join(dict.fromkeys(notes))[:2000]
    survivor.nationalities = list(dict.fromkeys([*survivor.nationalities, *absorbed.nationalities]))
    consents = [c for c in (survivor.consent_at, absorbed.consent_at) if c]
    survivor.consent_at = min(consents) if consents else None

    moved: dict[str, list[int]] = {}
    for key, (model, fk) in _relations().items():
        ids = _move(model, fk, absorbed.pk, survivor.pk)
        if ids:
            moved[key] = ids
    keys = _move(NameKey, "person", absorbed.pk, survivor.pk)
    if keys:
        moved["registry.namekey.person"] = keys
    # The pairs follow the keys: the survivor's now pair their names with the absorbed's.
    _write_name_pairs(survivor)
    _write_name_pairs(absorbed)
    latest = (
        StatusEvent.objects.filter(person=survivor).order_by("-at", "-id").values("status").first()
    )
    if latest is not None:
        survivor.status = latest["status"]
    _priority_refresh(survivor)
    absorbed_household = absorbed.household_id

    other: dict[str, Any] = {"contacts": {}, "pair": None, "proposed": [], "closed": []}
    if pair is not None:
        other["pair"] = {
            "id": pair.pk,
            "status": pair.status,
            "decided_by": pair.decided_by_id,
            "decided_at": pair.decided_at.isoformat() if pair.decided_at else None,
        }
        pair.status = CandidatePair.Status.MERGED
        pair.decided_by = actor
        pair.decided_at = timezone.now()
        pair.save(update_fields=["status", "decided_by", "decided_at"])

    survivor.updated_at = timezone.now()
    after = _dump(survivor)
    Person.all_objects.filter(pk=survivor.pk).update(**_load(after))
    Person.all_objects.filter(pk=absorbed.pk).update(merged_into=survivor.pk)
    absorbed.merged_into_id = survivor.pk
    # Every household touched keeps one of its members as its contact.
    touched = households | set(
        Household.objects.filter(contact=absorbed).values_list("pk", flat=True)
    )
    for household in Household.objects.select_for_update().filter(pk__in=touched).order_by("pk"):
        members = list(
            Person.objects.filter(household=household).order_by("pk").values_list("pk", flat=True)
        )
        if household.contact_id in members:
            continue
        contact = survivor.pk if survivor.pk in members else (members[0] if members else None)
        if contact != household.contact_id:
            other["contacts"][str(household.pk)] = [household.contact_id, contact]
            Household.objects.filter(pk=household.pk).update(contact=contact)
    # What an officer said: records known not to be this person are not proposed with it.
    different = _known_different(survivor)
    other["proposed"] = _carry_pairs(survivor, absorbed, set(different))
    other["closed"] = _close_decided(actor, survivor, different)
    for household_id in households | ({absorbed_household} if absorbed_household else set()):
        _household_priority_refresh(household_id)
    merge = Merge.objects.create(
        crisis=survivor.crisis,
        survivor=survivor,
        absorbed=absorbed,
        pair=pair,
        automatic=automatic,
        before=cast(Any, before),
        after=cast(Any, after),
        choices=[c.as_dict() for c in choices],
        moved=moved,
        other=other,
        merged_by=actor,
    )
    # The seats and rooms follow the person into the household they are in now.
    left = sorted(households - {survivor.household_id})
    rows_households: dict[str, dict[str, list[int | None]]] = {}
    for _receiver, changed in person_merged.send(
        sender=Merge,
        merge=merge,
        actor=actor,
        households={"to": survivor.household_id, "left": left},
    ):
        found = cast("dict[str, dict[str, list[int | None]]]", changed or {})
        for label, rows in found.items():
            rows_households.setdefault(label, {}).update(rows)
    if rows_households:
        other["households_of"] = rows_households
    merge.other = other
    merge.rows = cast(Any, _snapshot(moved))
    merge.save(update_fields=["other", "rows"])
    audit_write(
        actor=actor,
        verb="person_merge",
        obj=merge,
        crisis=survivor.crisis,
        action=AuditEntry.Action.CREATE,
        changes={
            "survivor": [None, survivor.pk],
            "absorbed": [None, absorbed.pk],
            "automatic": [None, automatic],
            **_changes(before, after),
            "moved": [None, {k: len(v) for k, v in moved.items()}],
            **(
                {"households_of": [None, {k: sorted(v) for k, v in rows_households.items()}]}
                if rows_households
                else {}
            ),
            **(
                {"pairs_closed": [None, [c["id"] for c in other["closed"]]]}
                if other["closed"]
                else {}
            ),
        },
    )
    return merge


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict | list | bool | int | float | str) or value is None:
        return value
    return str(value)


def _row_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _rows_now(model: type[models.Model], ids: list[int]) -> dict[int, dict[str, Any]]:
    """The rows as stored, JSON-ready, by id."""
    fields = [f.attname for f in _row_fields(model)]
    return {
        values.pop("pk"): {k: _json(v) for k, v in values.items()}
        for values in model._base_manager.filter(pk__in=ids).values("pk", *fields)
    }


def _snapshot(moved: dict[str, list[int]]) -> dict[str, dict[str, dict[str, Any]]]:
    """The moved rows as the merge leaves them (name keys, derived from the names, apart)."""
    relations = _relations()
    out = {}
    for key, ids in moved.items():
        if key in relations:
            model, _fk = relations[key]
            out[key] = {str(pk): values for pk, values in _rows_now(model, ids).items()}
    return out


def _known_different(person: Person) -> dict[int, CandidatePair]:
    """The people an officer said are not this person (a decision on any record of either
    counts), each with the earliest such decision."""
    mine = _merged_records([person.pk])
    decisions = (
        CandidatePair.objects.filter(status=CandidatePair.Status.REJECTED)
        .filter(models.Q(person_a__in=mine) | models.Q(person_b__in=mine))
        .order_by(models.F("decided_at").asc(nulls_first=True), "pk")
    )
    others: dict[int, CandidatePair] = {}
    for decision in decisions:
        if decision.person_a_id in mine and decision.person_b_id in mine:
            continue
        other = decision.person_b_id if decision.person_a_id in mine else decision.person_a_id
        others.setdefault(other, decision)
    out: dict[int, CandidatePair] = {}
    for record, current in _current_people(set(others)).items():
        if current != person.pk:
            out.setdefault(current, others[record])
    return out


def _close_decided(
    actor: User | None, person: Person, different: dict[int, CandidatePair]
) -> list[dict[str, Any]]:
    """Close the person's open pairs with people an officer said are not them (on records
    of either): such a pair is decided already. Returns what an unmerge puts back."""
    open_statuses = (CandidatePair.Status.OPEN, CandidatePair.Status.DEFERRED)
    closed = []
    now = timezone.now()
    for pair in CandidatePair.objects.select_for_update().filter(
        models.Q(person_a=person, person_b__in=list(different))
        | models.Q(person_b=person, person_a__in=list(different)),
        status__in=open_statuses,
    ):
        other = pair.person_b_id if pair.person_a_id == person.pk else pair.person_a_id
        closed.append(
            {
                "id": pair.pk,
                "status": pair.status,
                "decided_by": pair.decided_by_id,
                "decided_at": pair.decided_at.isoformat() if pair.decided_at else None,
                "because": different[other].pk,
            }
        )
        CandidatePair.objects.filter(pk=pair.pk).update(
            status=CandidatePair.Status.REJECTED, decided_by=actor, decided_at=now
        )
    return sorted(closed, key=lambda c: c["id"])


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Which of the survivor's fields changed, for the audit log: their names only (the
    values are personal data; they are kept encrypted on the merge)."""
    fields = sorted(n for n, old in before.items() if old != after.get(n) and n != "updated_at")
    return {"fields": [None, fields]} if fields else {}


def _carry_pairs(survivor: Person, absorbed: Person, different: set[int]) -> list[list[int]]:
    """The absorbed record's open possible duplicates become the survivor's (a new pair
    each, with what the batch run said of it, unless the survivor already has one with that
    person, or an officer said that person is not this one: `different`). Returns [new,
    original] pair ids."""
    open_statuses = (CandidatePair.Status.OPEN, CandidatePair.Status.DEFERRED)
    known = set()
    for a, b in CandidatePair.objects.filter(
        models.Q(person_a=survivor) | models.Q(person_b=survivor)
    ).values_list("person_a", "person_b"):
        known.add(b if a == survivor.pk else a)
    new, originals = [], {}
    for pair in CandidatePair.objects.select_for_update().filter(
        models.Q(person_a=absorbed) | models.Q(person_b=absorbed), status__in=open_statuses
    ):
        other = pair.person_b_id if pair.person_a_id == absorbed.pk else pair.person_a_id
        if other == survivor.pk or other in known or other in different:
            continue
        a, b = sorted((survivor.pk, other))
        new.append(
            CandidatePair(
                crisis_id=pair.crisis_id,
                person_a_id=a,
                person_b_id=b,
                score=pair.score,
                evidence=pair.evidence,
                found_by=pair.found_by,
                intake_record_id=pair.intake_record_id,
                run_id=pair.run_id,
                match_weight=pair.match_weight,
                explanation=pair.explanation,
                cluster=pair.cluster,
            )
        )
        originals[(a, b)] = pair.pk
        known.add(other)
    # A pair registered meanwhile by someone else is theirs: only the ones made here are
    # withdrawn by an unmerge.
    made = set()
    for pair in new:
        try:
            with transaction.atomic():
                pair.save()
        except IntegrityError:
            continue
        made.add(pair.pk)
    return sorted([p.pk, originals[(p.person_a_id, p.person_b_id)]] for p in new if p.pk in made)


def _withdraw_carried(carried: list[list[int]]) -> None:
    """Withdraw the pairs a merge carried over to the survivor ([carried, original] ids).
    A decision taken on a carried pair since (not the same person) goes to the original
    pair, so it is not lost."""
    open_statuses = (CandidatePair.Status.OPEN, CandidatePair.Status.DEFERRED)
    originals = {new: original for new, original in carried}
    for pair in CandidatePair.objects.filter(pk__in=list(originals)):
        original = originals.get(pair.pk)
        if pair.status == CandidatePair.Status.REJECTED and original:
            CandidatePair.objects.filter(pk=original, status__in=open_statuses).update(
                status=pair.status, decided_by=pair.decided_by, decided_at=pair.decided_at
            )
        if pair.status in (*open_statuses, CandidatePair.Status.REJECTED):
            pair.delete()


def later_merges(merge: Merge) -> list[Merge]:
    """Merges still in force, made after this one, that touch its two people: they must be
    undone first (an unmerge undoes the latest change to a person first)."""
    people = [merge.survivor_id, merge.absorbed_id]
    return list(
        Merge.objects.filter(undone_at__isnull=True, pk__gt=merge.pk)
        .filter(models.Q(survivor_id__in=people) | models.Q(absorbed_id__in=people))
        .order_by("-pk")
    )


@transaction.atomic
def person_unmerge(*, actor: User | None, merge: Merge) -> Merge:
    """Undo a merge: the rows moved go back, the survivor's values are put back (values
    changed since the merge are kept and listed in `kept_on_undo`), the households of seats
    and rooms, the household contacts and the pairs are as they were, the pairs it proposed
    are withdrawn. Moved rows changed since are listed in `rows_on_undo` (`_rows_back`):
    the record's documents and phones as they were at the merge, the rest as they are now."""
    from aman.registry.services import _household_priority_refresh, _write_name_keys

    # The two people first (the same order as a merge takes them), then the merge: a merge
    # of either that commits meanwhile is seen by the checks below.
    locked = {
        p.pk: p
        for p in Person.all_objects.select_for_update()
        .filter(pk__in=[merge.survivor_id, merge.absorbed_id])
        .order_by("pk")
    }
    survivor, absorbed = locked[merge.survivor_id], locked[merge.absorbed_id]
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise Conflict(_("This merge has already been undone."), {"merge": [merge.pk]})
    later = later_merges(merge)
    if later or survivor.merged_into_id is not None or absorbed.merged_into_id != survivor.pk:
        raise Conflict(
            _("A later merge involves these people; undo it first."),
            {"merges": [m.pk for m in later]},
        )
    rows_on_undo = _rows_back(merge, survivor.pk, absorbed.pk)
    for label, rows in merge.other.get("households_of", {}).items():
        model = apps.get_model(label)
        for pk, (old, new) in rows.items():
            model._base_manager.filter(pk=int(pk), household_id=new).update(household_id=old)

    stored_before: dict[str, Any] = cast(Any, merge.before)
    stored_after: dict[str, Any] = cast(Any, merge.after)
    current = _dump(survivor)
    restore, kept = {}, []
    # A group of fields changed since the merge is kept whole (an address edited since
    # stays with its country).
    changed = {n for n in stored_before if current.get(n) != stored_after.get(n)}
    for _label, fields in GROUPS.values():
        if changed & set(fields):
            changed |= set(fields)
    for name, old in stored_before.items():
        if name == "updated_at":
            continue
        if name not in changed:
            restore[name] = old
        elif name not in ("status", "priority", "priority_reasons"):
            kept.append(name)
    if not kept:
        restore["updated_at"] = stored_before["updated_at"]
    Person.all_objects.filter(pk=survivor.pk).update(**_load(restore))
    Person.all_objects.filter(pk=absorbed.pk).update(merged_into=None)
    for household, (contact, set_to) in merge.other.get("contacts", {}).items():
        Household.objects.filter(pk=int(household), contact=set_to).update(contact=contact)
    _withdraw_carried(merge.other.get("proposed", []))
    for closed_pair in merge.other.get("closed", []):
        CandidatePair.objects.filter(
            pk=closed_pair["id"], status=CandidatePair.Status.REJECTED
        ).update(
            status=closed_pair["status"],
            decided_by=closed_pair["decided_by"],
            decided_at=(
                dt.datetime.fromisoformat(closed_pair["decided_at"])
                if closed_pair["decided_at"]
                else None
            ),
        )
    closed = merge.other.get("pair")
    if closed:
        CandidatePair.objects.filter(pk=closed["id"]).update(
            status=closed["status"],
            decided_by=closed["decided_by"],
            decided_at=(
                dt.datetime.fromisoformat(closed["decided_at"]) if closed["decided_at"] else None
            ),
        )
    latest = (
        StatusEvent.objects.filter(person=survivor).order_by("-at", "-id").values("status").first()
    )
    if latest is not None:
        Person.all_objects.filter(pk=survivor.pk).update(status=latest["status"])
    survivor.refresh_from_db()
    absorbed.refresh_from_db()
    # Name keys follow the names: unchanged when nothing was edited since the merge.
    _write_name_keys(survivor)
    _write_name_keys(absorbed)
    if kept:
        # Values changed since the merge stay; the priority follows the values now there.
        from aman.registry.services import _priority_refresh

        _priority_refresh(survivor)
        Person.all_objects.filter(pk=survivor.pk).update(
            priority=survivor.priority, priority_reasons=survivor.priority_reasons
        )
    for household in {survivor.household_id, absorbed.household_id} - {None}:
        assert household is not None
        _household_priority_refresh(household)
    merge.undone_by = actor
    merge.undone_at = timezone.now()
    merge.kept_on_undo = kept
    merge.rows_on_undo = rows_on_undo
    merge.save(update_fields=["undone_by", "undone_at", "kept_on_undo", "rows_on_undo"])
    from aman.dedup.signals import person_unmerged

    person_unmerged.send(sender=Merge, merge=merge, actor=actor)
    audit_write(
        actor=actor,
        verb="person_unmerge",
        obj=merge,
        crisis=merge.crisis,
        changes={
            "survivor": [merge.survivor_id, None],
            "absorbed": [merge.absorbed_id, None],
            **_changes(stored_after, {**stored_after, **restore}),
            "kept": [None, kept],
            **(
                {"rows": [None, [[r["relation"], r["id"], r["outcome"]] for r in rows_on_undo]]}
                if rows_on_undo
                else {}
            ),
        },
    )
    return merge


def _rows_back(merge: Merge, survivor: int, absorbed: int) -> list[dict[str, Any]]:
    """Move the merge's rows back to the absorbed record. A moved row of the record's own
    data (`RESTORED`: documents, phones) removed or corrected since the merge is made again,
    or put back, as it was at the merge; any other row changed since goes back as it is now
    (a seat checked in since stays checked in), and one no longer the survivor's stays where
    it is. Returns what was found changed and done: [{"relation", "id", "outcome"}]."""
    relations = _relations()
    relations["registry.namekey.person"] = (NameKey, "person")
    snapshot: dict[str, dict[str, dict[str, Any]]] = cast(Any, merge.rows) or {}
    report: list[dict[str, Any]] = []
    for key, ids in merge.moved.items():
        if key not in relations:
            continue  # a relation that no longer exists: nothing of it to move back
        model, fk = relations[key]
        manager = model._base_manager
        attname = _field_of(model, fk).attname
        was = snapshot.get(key, {})
        now = _rows_now(model, ids) if was else {}
        back = set(ids)
        for pk in ids:
            then = was.get(str(pk))
            if then is None:
                continue  # not recorded (name keys; a merge made before rows were kept)
            row = now.get(pk)
            if row is not None and row == then:
                continue
            if row is None or row[attname] != survivor:
                if key in RESTORED and row is None:
                    _restore(model, pk, {**then, attname: absorbed})
                    report.append({"relation": key, "id": pk, "outcome": "restored"})
                else:
                    report.append({"relation": key, "id": pk, "outcome": "left"})
                back.discard(pk)
            elif key in RESTORED:
                manager.filter(pk=pk).update(**_values(model, {**then, attname: absorbed}))
                report.append({"relation": key, "id": pk, "outcome": "reverted"})
                back.discard(pk)
            else:
                report.append({"relation": key, "id": pk, "outcome": "as_now"})
        manager.filter(pk__in=back, **{fk: survivor}).update(**{fk: absorbed})
    return report


def _field_of(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    return cast("models.Field[Any, Any]", model._meta.get_field(name))


def _values(model: type[models.Model], stored: dict[str, Any]) -> dict[str, Any]:
    """`_rows_now`'s values as field values, by attribute name."""
    by_attname = {f.attname: f for f in _row_fields(model)}
    return {
        name: by_attname[name].to_python(value) if value is not None else None
        for name, value in stored.items()
        if name in by_attname
    }


def _restore(model: type[models.Model], pk: int, stored: dict[str, Any]) -> None:
    """Make a removed row again as it was stored, with its own id where that is free."""
    values = _values(model, stored)
    manager = model._base_manager
    if manager.filter(pk=pk).exists():
        row = manager.create(**values)
    else:
        row = manager.create(pk=pk, **values)
    # Timestamps set on creation (auto_now_add) are put back as they were.
    manager.filter(pk=row.pk).update(**values)
