"""Merging two records of one person, through the API and the pages, and undoing it
exactly."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.db.models import Model

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.dedup.models import CandidatePair, Merge
from aman.registry.models import (
    Document,
    Household,
    IntakeRecord,
    NameKey,
    Person,
    Phone,
    StatusEvent,
)
from aman.shelter.models import Stay, StayEvent, StayNight
from aman.transport.models import (
    Booking,
    BookingEvent,
    Leg,
    PermitDecision,
    PermitEntry,
    PermitList,
    Undertaking,
)
from tests.conftest import World
from tests.dedup.test_intake_check import register

GRANDFATHER_AGAIN: dict[str, Any] = {
    # The grandfather registered again by a relative, Russian spelling, the same passport,
    # a new phone, a new place, and reduced mobility the first registration did not say.
    "members": [
        {
            "surname": "Жумабек",
            "given_names": "Нурлан",
            "birth_date": "1954-03-02",
            "sex": "M",
            "documents": [{"kind": "passport", "number": "N 1234 5678"}],
            "phones": ["+7 702 555 11 22"],
            "reduced_mobility": True,
            "needs_note": "wheelchair",
        }
    ],
    "location": {"country": "IR", "city": "Tehran", "address": "Espinas hotel"},
    "language": "ru",
    "consent": True,
}


def the_pair(world: World, family: dict[str, Any]) -> tuple[CandidatePair, list[dict[str, Any]]]:
    first = register(world, family).json()["people"]
    second = register(world, GRANDFATHER_AGAIN)
    assert second.status_code == 201, second.content
    pair = CandidatePair.objects.get()
    assert pair.person_a_id == first[0]["id"]
    return pair, first


def state() -> dict[str, Any]:
    """Everything a merge may touch, as stored."""

    def rows(model: type[Model], manager: str = "objects") -> list[tuple[Any, ...]]:
        fields = [f.attname for f in model._meta.concrete_fields]
        qs = getattr(model, manager).order_by("pk").values_list(*fields)
        return list(qs)

    through = IntakeRecord.people.through
    guests = Stay.guests.through
    return {
        # Stays with their nights, guests and history; bookings with theirs, and the legs'
        # seat counts: a merge frees no room and no seat, an unmerge takes none back.
        "stays": rows(Stay),
        "stay_nights": rows(StayNight),
        "stay_guests": list(
            guests.objects.order_by("pk").values_list("pk", "stay_id", "person_id")
        ),
        "stay_events": rows(StayEvent),
        "bookings": rows(Booking),
        "booking_events": rows(BookingEvent),
        "legs": rows(Leg),
        # Transit permits asked for the person, and their signed undertakings to repay.
        "permit_lists": rows(PermitList),
        "permit_entries": rows(PermitEntry),
        "undertakings": rows(Undertaking),
        "people": rows(Person, "all_objects"),
        "documents": rows(Document),
        "phones": rows(Phone),
        "keys": rows(NameKey),
        "events": rows(StatusEvent),
        "households": rows(Household),
        "pairs": rows(CandidatePair),
        "intake_people": list(
            through.objects.order_by("pk").values_list("pk", "intakerecord_id", "person_id")
        ),
    }


def merge_api(world: World, pair: CandidatePair, body: dict[str, Any] | None = None) -> Any:
    return world.api(Role.OPERATOR).post(
        f"/api/duplicates/{pair.pk}/merge",
        data=json.dumps(body or {}),
        content_type="application/json",
    )


def test_a_merge_keeps_everything_of_both_records_on_the_survivor(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    survivor_id, absorbed_id = pair.person_a_id, pair.person_b_id
    absorbed_code = Person.objects.get(pk=absorbed_id).reference_code
    response = merge_api(world, pair)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["survivor_id"], body["absorbed_id"]) == (survivor_id, absorbed_id)

    survivor = Person.objects.get(pk=survivor_id)
    # Both registrations, both phones, the one passport twice (as two documents).
    assert survivor.intake_records.count() == 2
    assert survivor.phones.count() == 2
    assert survivor.documents.count() == 2
    # Needs are never lost; notes joined; the newest location and language win.
    assert survivor.medical_need and survivor.reduced_mobility
    assert survivor.needs_note == "insulin\nwheelchair"
    assert (survivor.city.name, survivor.address) == ("Tehran", "Espinas hotel")
    assert survivor.language == "ru"
    assert survivor.surname == "Жұмабек", "names the same under the keys: the first kept"
    # The absorbed record is kept but is no longer one of the people.
    assert not Person.objects.filter(pk=absorbed_id).exists()
    assert Person.all_objects.get(pk=absorbed_id).merged_into_id == survivor_id
    people = world.api(Role.OPERATOR).get(f"/api/people?crisis={world.crisis.pk}&limit=100")
    assert absorbed_id not in {p["id"] for p in people.json()["items"]}
    # Its reference code still finds the person, in search and on the public status page.
    found = world.api(Role.OPERATOR).get(f"/api/people?crisis={world.crisis.pk}&q={absorbed_code}")
    assert [p["id"] for p in found.json()["items"]] == [survivor_id]
    # So does a name spelled as only the absorbed record had it... (both spellings meet)
    # ...and the phone only the absorbed record had.
    found = world.api(Role.OPERATOR).get(f"/api/people?crisis={world.crisis.pk}&q=%2B77025551122")
    assert [p["id"] for p in found.json()["items"]] == [survivor_id]
    pair.refresh_from_db()
    assert pair.status == "merged" and pair.decided_by == world.users[Role.OPERATOR]
    entry = AuditEntry.objects.get(verb="person_merge")
    assert entry.changes["absorbed"] == [None, absorbed_id]
    assert "7025551122" not in json.dumps(entry.changes)
    # The person page of the merged record leads to the survivor.
    page = world.client(Role.OPERATOR).get(f"/people/{absorbed_id}/")
    assert page.status_code == 302 and page["Location"] == f"/people/{survivor_id}/"


def test_the_merged_reference_code_opens_the_status_page(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    absorbed = Person.objects.get(pk=pair.person_b_id)
    assert merge_api(world, pair).status_code == 201
    from django.test import Client

    response = Client().post(
        "/status/",
        {"reference_code": absorbed.reference_code, "birth_date": "1954-03-02"},
    )
    assert response.status_code == 302, response.content
    me = Client()
    me.cookies = response.cookies
    page = me.get(response["Location"])
    assert "Жұмабек" in page.content.decode()


THIRD: dict[str, Any] = {
    # Someone else with the family grandfather's phone and given name: a possible duplicate
    # of the first record only.
    "members": [
        {
            "surname": "Касымов",
            "given_names": "Нұрлан",
            "birth_date": "1961-08-30",
            "phones": ["8 701 123 45 67"],
        }
    ],
    "location": {"country": "IR"},
    "consent": True,
}


def test_an_unmerge_restores_the_exact_prior_state(world: World, family: dict[str, Any]) -> None:
    pair, _first = the_pair(world, family)
    # A status step on the later record, a third record with an open pair to the earlier
    # one (which the officer merges into the later one): the merge moves the step, carries
    # the pair, and takes the kept record into the family's household.
    from aman.registry.services import person_set_status

    person_set_status(
        actor=world.users[Role.OPERATOR],
        person=Person.objects.get(pk=pair.person_b_id),
        status="verified",
    )
    assert register(world, THIRD).status_code == 201
    original = CandidatePair.objects.exclude(pk=pair.pk).get(person_a=pair.person_a_id)
    third = original.person_b_id
    before = state()
    response = merge_api(
        world, pair, {"keep": "b", "choose": {"location": "absorbed", "language": "survivor"}}
    )
    assert response.status_code == 201, response.content
    merge = Merge.objects.get()
    assert merge.survivor_id == pair.person_b_id
    carried = CandidatePair.objects.get(person_a=pair.person_b_id, person_b=third)
    assert carried.status == "open" and carried.evidence == original.evidence
    queue = world.api(Role.OPERATOR).get(f"/api/duplicates?crisis={world.crisis.pk}").json()
    assert [p["id"] for p in queue["items"]] == [carried.pk]
    kept = Person.objects.get(pk=pair.person_b_id)
    family_household = Person.all_objects.get(pk=pair.person_a_id).household_id
    assert kept.household_id == family_household, "the household with the others in it"
    assert state() != before
    undo = world.api(Role.OPERATOR).post(f"/api/merges/{merge.pk}/undo")
    assert undo.status_code == 200, undo.content
    assert undo.json()["kept_on_undo"] == [] and undo.json()["rows_on_undo"] == []
    assert not CandidatePair.objects.filter(pk=carried.pk).exists(), "withdrawn"
    assert state() == before
    assert AuditEntry.objects.filter(verb="person_unmerge", object_id=str(merge.pk)).exists()
    # Undone once; a second undo is refused.
    again = world.api(Role.OPERATOR).post(f"/api/merges/{merge.pk}/undo")
    assert again.status_code == 409
    assert again.json()["message"] == "This merge has already been undone."


def test_an_unmerge_keeps_what_was_changed_after_the_merge(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    merge_id = merge_api(world, pair).json()["id"]
    survivor = pair.person_a_id
    patched = world.api(Role.OPERATOR).patch(
        f"/api/people/{survivor}",
        data=json.dumps({"address": "Embassy compound"}),
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content
    undo = world.api(Role.OPERATOR).post(f"/api/merges/{merge_id}/undo")
    assert undo.status_code == 200
    assert "address" in undo.json()["kept_on_undo"]
    person = Person.objects.get(pk=survivor)
    assert person.address == "Embassy compound"
    assert person.phones.count() == 1 and not person.reduced_mobility


def test_two_different_iins_are_never_merged(world: World, family: dict[str, Any]) -> None:
    from aman.registry.identity import make_iin
    from aman.registry.services import iin_hash

    family["members"][0]["iin"] = make_iin(date(1954, 3, 2), "M", 17)
    pair, _first = the_pair(world, family)
    other_iin = make_iin(date(1954, 3, 2), "M", 28)
    Person.objects.filter(pk=pair.person_b_id).update(iin=other_iin, iin_hash=iin_hash(other_iin))
    before = state()
    response = merge_api(world, pair)
    assert response.status_code == 409
    assert "different IINs" in response.json()["message"]
    assert state() == before
    assert not Merge.objects.exists()


def test_verified_values_win_and_the_officer_chooses_in_conflicts(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    a = Person.objects.get(pk=pair.person_a_id)
    b = Person.objects.get(pk=pair.person_b_id)
    # The later record's Latin name was read from the passport; the first one's was
    # transliterated. The later record has a different (mistyped) birth year.
    Person.objects.filter(pk=b.pk).update(
        surname_latin="ZHUMABEK", given_names_latin="NURLAN", latin_from_document=True
    )
    Person.objects.filter(pk=a.pk).update(surname_latin="ZHUMABEK", given_names_latin="NURLAN")
    Person.objects.filter(pk=b.pk).update(birth_date=date(1945, 3, 2))
    page = world.client(Role.OPERATOR).get(f"/people/duplicates/{pair.pk}/merge/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="choose_birth_date"' in html, "a conflict the officer may decide"
    assert 'name="choose_latin"' not in html or "verified" in html
    response = world.client(Role.OPERATOR).post(
        f"/people/duplicates/{pair.pk}/merge/", {"keep": "a", "choose_birth_date": "survivor"}
    )
    assert response.status_code == 302 and response["Location"] == f"/people/{a.pk}/"
    merged = Person.objects.get(pk=a.pk)
    assert merged.birth_date == date(1954, 3, 2)
    assert merged.latin_from_document
    rules = {c["group"]: c["rule"] for c in Merge.objects.get().choices}
    assert rules["latin"] == "verified" and rules["birth_date"] == "officer"


def test_the_merge_page_and_the_undo_button(world: World, family: dict[str, Any]) -> None:
    pair, _first = the_pair(world, family)
    client = world.client(Role.OPERATOR)
    queue = client.get("/people/duplicates/").content.decode()
    assert f"/people/duplicates/{pair.pk}/merge/" in queue
    response = client.post(f"/people/duplicates/{pair.pk}/merge/", {"keep": "a"}, follow=True)
    html = response.content.decode()
    assert "Records merged into this one" in html and "Undo the merge" in html
    merge = Merge.objects.get()
    merged_tab = client.get("/people/duplicates/?status=merged").content.decode()
    assert f"/people/duplicates/merges/{merge.pk}/undo/" in merged_tab
    # Merging the pair again is refused with the reason.
    again = client.post(f"/people/duplicates/{pair.pk}/merge/", {"keep": "a"})
    assert again.status_code == 409 and "has already been merged" in again.content.decode()
    undone = client.post(f"/people/duplicates/merges/{merge.pk}/undo/", follow=True)
    assert "is a record of its own again" in undone.content.decode()
    assert Person.objects.filter(pk=pair.person_b_id).exists()
    pair.refresh_from_db()
    assert pair.status == "open"


def test_a_later_merge_must_be_undone_first(world: World, family: dict[str, Any]) -> None:
    pair, _first = the_pair(world, family)
    first_merge = merge_api(world, pair).json()["id"]
    # A third registration of the grandfather, merged into the survivor too.
    third = dict(GRANDFATHER_AGAIN, members=[dict(GRANDFATHER_AGAIN["members"][0], phones=[])])
    assert register(world, third).status_code == 201
    pair2 = CandidatePair.objects.get(status="open")
    second_merge = merge_api(world, pair2).json()["id"]
    blocked = world.api(Role.OPERATOR).post(f"/api/merges/{first_merge}/undo")
    assert blocked.status_code == 409
    assert blocked.json()["extra"]["merges"] == [second_merge]
    for merge in (second_merge, first_merge):
        assert world.api(Role.OPERATOR).post(f"/api/merges/{merge}/undo").status_code == 200
    assert Person.objects.filter(surname__in=["Жумабек", "Жұмабек"]).count() == 4


def test_deferred_pairs_leave_the_queue_and_can_still_be_decided(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    deferred = world.api(Role.OPERATOR).post(f"/api/duplicates/{pair.pk}/defer")
    assert deferred.status_code == 200 and deferred.json()["status"] == "deferred"
    queue = world.api(Role.OPERATOR).get(f"/api/duplicates?crisis={world.crisis.pk}")
    assert queue.json()["count"] == 0
    later = world.api(Role.OPERATOR).get(
        f"/api/duplicates?crisis={world.crisis.pk}&status=deferred"
    )
    assert [p["id"] for p in later.json()["items"]] == [pair.pk]
    assert merge_api(world, pair).status_code == 201


def test_bad_merge_requests_are_refused_with_reasons(world: World, family: dict[str, Any]) -> None:
    pair, _first = the_pair(world, family)
    wrong = merge_api(world, pair, {"choose": {"shoe_size": "survivor"}})
    assert wrong.status_code == 400
    assert wrong.json()["message"] == "Unknown field groups: shoe_size."
    wrong = merge_api(world, pair, {"keep": "c"})
    assert wrong.status_code in (400, 422)
    assert not Merge.objects.exists()
    observer = world.api(Role.OBSERVER).post(
        f"/api/duplicates/{pair.pk}/merge", data="{}", content_type="application/json"
    )
    assert observer.status_code == 403


def test_names_edited_after_a_merge_do_not_lose_the_merged_spelling(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    Person.objects.filter(pk=pair.person_b_id).update(surname="Жумабеков", patronymic="Серикович")
    from aman.registry.services import _write_name_keys

    _write_name_keys(Person.objects.get(pk=pair.person_b_id))
    merge_id = merge_api(world, pair, {"choose": {"names": "survivor"}}).json()["id"]
    api = world.api(Role.OPERATOR)

    def found(query: str) -> list[int]:
        response = api.get(f"/api/people?crisis={world.crisis.pk}&q={query}")
        return [p["id"] for p in response.json()["items"]]

    assert found("Серикович") == [pair.person_a_id], "the merged spelling finds the survivor"
    patched = api.patch(
        f"/api/people/{pair.person_a_id}",
        data=json.dumps({"given_names": "Нұрлан Ағаевич"}),
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content
    assert found("Серикович") == [pair.person_a_id], "still, after the survivor's names changed"
    assert api.post(f"/api/merges/{merge_id}/undo").status_code == 200
    assert found("Серикович") == [pair.person_b_id]
    assert found("Ағаевич") == [pair.person_a_id]


def test_two_words_from_the_two_merged_records_find_the_survivor_until_undone(
    world: World, family: dict[str, Any]
) -> None:
    from aman.registry.identity import name_key_pairs
    from aman.registry.models import NamePair
    from aman.registry.services import _write_name_keys

    pair, _first = the_pair(world, family)
    a, b = pair.person_a_id, pair.person_b_id
    for pk, patronymic in ((a, "Ағаевич"), (b, "Серикович")):
        Person.objects.filter(pk=pk).update(patronymic=patronymic)
        _write_name_keys(Person.objects.get(pk=pk))
    api = world.api(Role.OPERATOR)

    def found(query: str) -> list[int]:
        response = api.get("/api/people", {"crisis": world.crisis.pk, "q": query})
        return [p["id"] for p in response.json()["items"]]

    def pairs_follow_keys() -> bool:
        return all(
            sorted(NamePair.objects.filter(person_id=pk).values_list("key", flat=True))
            == name_key_pairs(NameKey.objects.filter(person_id=pk).values_list("key", flat=True))
            for pk in (a, b)
        )

    assert found("Серикович Ағаевич") == []
    merge_id = merge_api(world, pair, {"choose": {"names": "survivor"}}).json()["id"]
    assert found("Серикович Ағаевич") == [a], "one word of each record finds the survivor"
    assert found("Serikovich Nurlan") == [a]
    assert pairs_follow_keys()
    assert api.post(f"/api/merges/{merge_id}/undo").status_code == 200
    assert found("Серикович Ағаевич") == []
    assert found("Серикович Нурлан") == [b]
    assert found("Ағаевич Нұрлан") == [a]
    assert pairs_follow_keys()


def test_the_audit_log_names_the_fields_a_merge_changed_not_their_values(
    world: World, family: dict[str, Any]
) -> None:
    family["members"][0]["email"] = "nurlan@example.kz"
    pair, _first = the_pair(world, family)
    merge_id = merge_api(world, pair, {"keep": "b"}).json()["id"]
    world.api(Role.OPERATOR).post(f"/api/merges/{merge_id}/undo")
    for entry in AuditEntry.objects.filter(verb__in=["person_merge", "person_unmerge"]):
        text = json.dumps(entry.changes, ensure_ascii=False)
        assert "email" in text, text
        for value in ("nurlan@example.kz", "insulin", "wheelchair", "Espinas", "Azadi"):
            assert value not in text, (entry.verb, value)


def test_a_decision_on_a_carried_pair_survives_the_undo(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    # A third record like the merged one only (its phone and given name): its pair with
    # the merged record is carried to the survivor.
    third = {
        "members": [
            {
                "surname": "Касымов",
                "given_names": "Нурлан",
                "birth_date": "1961-08-30",
                "phones": ["+7 702 555 11 22"],
            }
        ],
        "location": {"country": "IR"},
        "consent": True,
    }
    assert register(world, third).status_code == 201
    original = CandidatePair.objects.get(status="open", person_a=pair.person_b_id)
    merge_id = merge_api(world, pair).json()["id"]
    carried = CandidatePair.objects.get(status="open", person_a=pair.person_a_id)
    assert carried.person_b_id == original.person_b_id
    rejected = world.api(Role.OPERATOR).post(f"/api/duplicates/{carried.pk}/reject")
    assert rejected.status_code == 200
    assert world.api(Role.OPERATOR).post(f"/api/merges/{merge_id}/undo").status_code == 200
    original.refresh_from_db()
    assert original.status == "rejected", "the officer's word moved to the original pair"
    assert not CandidatePair.objects.filter(pk=carried.pk).exists()


def test_an_undo_keeps_a_whole_location_changed_since(world: World, family: dict[str, Any]) -> None:
    pair, _first = the_pair(world, family)
    from aman.geo.models import Country

    Person.objects.filter(pk=pair.person_b_id).update(
        country=Country.objects.get(code="IQ"), city=None, address="Rasheed hotel"
    )
    merge_id = merge_api(world, pair, {"choose": {"location": "absorbed"}}).json()["id"]
    assert Person.objects.get(pk=pair.person_a_id).country.code == "IQ"
    world.api(Role.OPERATOR).patch(
        f"/api/people/{pair.person_a_id}",
        data=json.dumps({"address": "Rasheed hotel, room 12"}),
        content_type="application/json",
    )
    undo = world.api(Role.OPERATOR).post(f"/api/merges/{merge_id}/undo").json()
    assert {"country", "address"} <= set(undo["kept_on_undo"])
    person = Person.objects.get(pk=pair.person_a_id)
    assert (person.country.code, person.address) == ("IQ", "Rasheed hotel, room 12")


def test_the_officer_may_move_the_kept_record_to_the_other_household(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    theirs = Person.objects.get(pk=pair.person_b_id).household_id
    merge = merge_api(world, pair, {"choose": {"household": "absorbed"}})
    assert merge.status_code == 201, merge.content
    assert Person.objects.get(pk=pair.person_a_id).household_id == theirs
    rules = {c["group"]: c["rule"] for c in merge.json()["choices"]}
    assert rules["household"] == "officer"


def test_a_citizen_signed_in_with_a_merged_code_sees_their_own_record_after_an_undo(
    world: World, family: dict[str, Any]
) -> None:
    from django.test import Client

    pair, _first = the_pair(world, family)
    absorbed = Person.objects.get(pk=pair.person_b_id)
    merge_id = merge_api(world, pair).json()["id"]
    citizen = Client()
    citizen.post(
        "/status/", {"reference_code": absorbed.reference_code, "birth_date": "1954-03-02"}
    )
    assert "Жұмабек" in citizen.get("/status/me/").content.decode(), "the survivor"
    world.api(Role.OPERATOR).post(f"/api/merges/{merge_id}/undo")
    page = citizen.get("/status/me/").content.decode()
    assert "Жумабек" in page and "Жұмабек" not in page, "their own record again"


def test_permit_entries_and_undertakings_follow_the_merge_and_come_back_exactly(
    world: World, family: dict[str, Any]
) -> None:
    """Both records booked to the border on the same day (on two buses, hours apart), so on
    one transit-permit list, and each with a signed undertaking to repay its seat. The list
    holds a person once: the merged record's entry cannot join the kept one's and stays
    where it is; its undertaking moves with its seat. The undo puts everything back."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from aman.transport import services as transport
    from tests.transport.conftest import make_leg, place

    pair, _first = the_pair(world, family)
    kept = Person.objects.get(pk=pair.person_a_id)
    other = Person.objects.get(pk=pair.person_b_id)
    logistics = world.users[Role.LOGISTICS]
    astara = place("crossing", code="IR-AZ-ASTARA")
    day = (timezone.localtime(timezone.now(), astara.zone) + timedelta(days=2)).date()
    morning = datetime.combine(day, time(6), tzinfo=astara.zone)
    buses = [
        make_leg(
            world,
            mode="bus",
            destination=astara,
            number=f"BUS {n}",
            capacity=40,
            departure_planned=morning + timedelta(hours=6 * n),
            arrival_planned=morning + timedelta(hours=6 * n + 2),
        )
        for n in (0, 1)
    ]
    transport.leg_book(actor=logistics, leg=buses[0], households=[kept.household])
    transport.leg_book(actor=logistics, leg=buses[1], households=[other.household])
    permits = transport.permit_list_build(
        actor=logistics, crisis=world.crisis, crossing=astara, day=day
    )
    entries = {e.person_id: e for e in permits.entries.all()}
    assert {kept.pk, other.pk} <= set(entries)
    transport.permit_answer(
        actor=logistics,
        permit_list=permits,
        answers={entries[other.pk].pk: PermitDecision.APPROVED},
    )
    undertakings = {
        person.pk: Undertaking.objects.create(
            booking=person.bookings.get(),
            person=person,
            amount=12000,
            currency="KZT",
            signed_name=f"N. Zhumabek {person.pk}",
            signed_at=timezone.now(),
            recorded_by=world.users[Role.DUTY_OFFICER],
        )
        for person in (kept, other)
    }
    before = state()

    response = merge_api(world, pair)
    assert response.status_code == 201, response.content
    merge = Merge.objects.get()
    # The seat and its undertaking are the kept record's now...
    assert set(kept.undertakings.values_list("pk", flat=True)) == {
        u.pk for u in undertakings.values()
    }
    assert kept.bookings.count() == 2
    assert merge.moved["transport.undertaking.person"] == [undertakings[other.pk].pk]
    # ...the permit list names the kept record once: the merged record's entry (and the
    # state's answer to it) stays with that record, to come back with the undo.
    assert permits.entries.filter(person=kept).count() == 1
    assert PermitEntry.objects.get(pk=entries[other.pk].pk).person_id == other.pk
    assert (
        "transport.permitentry.person" not in merge.moved
        or entries[other.pk].pk not in (merge.moved["transport.permitentry.person"])
    )
    assert state() != before

    undo = world.api(Role.OPERATOR).post(f"/api/merges/{merge.pk}/undo")
    assert undo.status_code == 200, undo.content
    assert undo.json()["rows_on_undo"] == []
    assert state() == before
