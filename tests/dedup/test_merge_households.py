"""Households on a merge: a parent registered once alone and once with the children ends up
with the children; seats and rooms name the household the person is in, and come back with
the undo; a merge that would leave the children's seat or room behind is refused; the merge
page shows who is in each household and warns about children left without an adult."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from aman.core.roles import Role
from aman.dedup.models import CandidatePair, Merge
from aman.registry.models import Household, Person
from aman.shelter.models import Stay
from aman.transport import services as transport
from aman.transport.models import Booking
from tests.conftest import World
from tests.dedup.test_intake_check import register
from tests.dedup.test_merge import merge_api, state
from tests.dedup.test_merge_conflicts import house
from tests.transport.conftest import make_leg

PARENT = {
    "surname": "Сапарова",
    "given_names": "Гүлназ",
    "birth_date": "1988-04-12",
    "sex": "F",
    "documents": [{"kind": "passport", "number": "N55554444", "issuing_state": "KAZ"}],
}
ALONE: dict[str, Any] = {
    "members": [PARENT],
    "location": {"country": "IR", "city": "Tehran"},
    "consent": True,
}
WITH_CHILDREN: dict[str, Any] = {
    "members": [
        PARENT,
        {"surname": "Сапарова", "given_names": "Аружан", "birth_date": "2015-06-01", "sex": "F"},
        {"surname": "Сапаров", "given_names": "Нұрсұлтан", "birth_date": "2018-09-09", "sex": "M"},
    ],
    "location": {"country": "IR", "city": "Tehran"},
    "consent": True,
}


def parent_twice(world: World) -> tuple[CandidatePair, Person, Person]:
    """The parent registered alone (kept by default), then with her two children."""
    assert register(world, copy.deepcopy(ALONE)).status_code == 201
    assert register(world, copy.deepcopy(WITH_CHILDREN)).status_code == 201
    pair = CandidatePair.objects.get()
    alone = Person.objects.get(pk=pair.person_a_id)
    with_children = Person.objects.get(pk=pair.person_b_id)
    assert alone.household_id != with_children.household_id
    assert with_children.household.members.count() == 3
    return pair, alone, with_children


def test_the_parent_ends_up_with_the_children_and_seats_and_rooms_follow_and_come_back(
    world: World,
) -> None:
    pair, alone, parent = parent_twice(world)
    own, children = alone.household_id, parent.household_id
    logistics = world.users[Role.LOGISTICS]
    bus = make_leg(world)
    flight = make_leg(
        world,
        number="KC 7009",
        departure_planned=bus.departure_planned + timedelta(days=4),
        arrival_planned=bus.departure_planned + timedelta(days=4, hours=4),
    )
    (bus_seat,) = transport.leg_book(actor=logistics, leg=bus, households=[alone.household])
    transport.leg_book(actor=logistics, leg=flight, households=[parent.household])
    (alone_stay,) = house(world, alone, 0, 1)
    (family_stay,) = house(world, parent, 3, 4)

    page = world.client(Role.OPERATOR).get(f"/people/duplicates/{pair.pk}/merge/")
    html = page.content.decode()
    assert 'id="merge-households"' in html
    assert f'id="household-{own}"' in html and "Nobody else is in it." in html
    assert "Аружан" in html and "Нұрсұлтан" in html
    section = html[html.index(f'id="household-{children}"') :]
    assert "the merged person will be in this household" in section.split("</li>")[0]
    assert "no adult" not in html
    assert 'id="merge-household-conflicts"' not in html

    before = state()
    response = merge_api(world, pair)
    assert response.status_code == 201, response.content
    rules = {c["group"]: (c["source"], c["rule"]) for c in response.json()["choices"]}
    assert rules["household"] == ("absorbed", "family")
    merged = Person.objects.get(pk=alone.pk)
    assert merged.household_id == children
    # Her seats and rooms name the household she is in now; the children's are untouched.
    assert Booking.objects.get(pk=bus_seat.pk).household_id == children
    assert set(Booking.objects.filter(leg=flight).values_list("person", "household")) == {
        (p, children)
        for p in Household.objects.get(pk=children).members.values_list("pk", flat=True)
    }
    assert Stay.objects.get(pk=alone_stay.pk).household_id == children
    assert Stay.objects.get(pk=family_stay.pk).household_id == children
    assert set(Stay.objects.get(pk=family_stay.pk).guests.values_list("pk", flat=True)) == set(
        Household.objects.get(pk=children).members.values_list("pk", flat=True)
    )
    # Every household touched has a member as its contact: she, of the children's; her
    # own, empty now, none.
    assert Household.objects.get(pk=children).contact_id == alone.pk
    assert Household.objects.get(pk=own).contact_id is None

    undo = world.api(Role.OPERATOR).post(f"/api/merges/{response.json()['id']}/undo")
    assert undo.status_code == 200, undo.content
    assert state() == before


def test_leaving_the_children_on_their_seat_is_refused_and_the_page_warns(world: World) -> None:
    pair, _alone, parent = parent_twice(world)
    children = parent.household_id
    leg = make_leg(world)
    bookings = transport.leg_book(
        actor=world.users[Role.LOGISTICS], leg=leg, households=[parent.household]
    )
    her_seat = next(b for b in bookings if b.person_id == parent.pk)

    client = world.client(Role.OPERATOR)
    page = client.get(f"/people/duplicates/{pair.pk}/merge/?choose_household=survivor")
    html = page.content.decode()
    assert f"Household H{children} would be left with children and no adult" in html
    assert 'id="merge-household-conflicts"' in html
    assert f"(booking {her_seat.pk})" in html
    assert "disabled>" in html, "the merge button waits"

    before = state()
    response = merge_api(world, pair, {"choose": {"household": "survivor"}})
    assert response.status_code == 409, response.content
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert "cannot be merged this way yet" in body["message"]
    (conflict,) = body["extra"]["conflicts"]
    assert conflict["kind"] == "household"
    assert conflict["text"] == (
        f"{parent.reference_code_display} holds a seat on {leg} (booking {her_seat.pk})"
    )
    assert state() == before and not Merge.objects.exists()
    # The page refuses it too, with the same words.
    refused = client.post(
        f"/people/duplicates/{pair.pk}/merge/", {"keep": "a", "choose_household": "survivor"}
    )
    assert refused.status_code == 409
    assert "cannot be merged this way yet" in refused.content.decode()
    # Kept with the children, the merge goes through.
    assert merge_api(world, pair).status_code == 201


def test_a_contact_who_leaves_their_household_is_replaced_and_back_after_the_undo(
    world: World, family: dict[str, Any]
) -> None:
    from tests.dedup.test_merge import the_pair

    family["contact_index"] = 0  # the grandfather is his family's contact
    pair, first = the_pair(world, family)
    grandfather, mother = first[0]["id"], first[1]["id"]
    own = Person.objects.get(pk=grandfather).household_id
    assert Household.objects.get(pk=own).contact_id == grandfather
    before = state()
    merge = merge_api(world, pair, {"choose": {"household": "absorbed"}})
    assert merge.status_code == 201, merge.content
    other = Person.objects.get(pk=grandfather).household_id
    assert other != own
    assert Household.objects.get(pk=own).contact_id == mother, "a member of it"
    assert Household.objects.get(pk=other).contact_id == grandfather
    undo = world.api(Role.OPERATOR).post(f"/api/merges/{merge.json()['id']}/undo")
    assert undo.status_code == 200, undo.content
    assert state() == before
