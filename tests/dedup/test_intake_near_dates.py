"""The check at intake finds a person registered again with a birth date typed one slip
away (one digit, two adjacent digits or day and month swapped) when the names meet — and
says nothing when the names are so common that a slip finds several people."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from aman.core.roles import Role
from aman.dedup.matching import near_birth_dates
from aman.dedup.models import CandidatePair
from aman.registry.models import Person
from tests.conftest import World
from tests.registry.test_hotline import hotline_data


def register(world: World, members: list[dict[str, Any]]) -> Any:
    body = {"members": members, "location": {"country": "IR"}, "consent": True}
    response = world.api(Role.OPERATOR).post(
        f"/api/registrations?crisis={world.crisis.pk}",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_the_dates_one_slip_away() -> None:
    near = near_birth_dates(date(1985, 3, 12))
    assert {
        date(1985, 12, 3),  # day and month swapped
        date(1985, 3, 21),  # two adjacent digits swapped
        date(1958, 3, 12),
        date(1985, 3, 13),  # one digit wrong
        date(1985, 8, 12),
        date(1995, 3, 12),
    } <= near
    assert date(1985, 3, 12) not in near
    assert date(1985, 3, 14) in near and date(1985, 3, 23) not in near  # two digits
    assert date(1985, 4, 13) not in near
    assert all(d.year > 1900 for d in near)
    # Only real dates: no 31st of a 30-day month, no month 13.
    assert date(2019, 1, 2) in near_birth_dates(date(2019, 1, 20))
    assert all(d.month <= 12 for d in near_birth_dates(date(1990, 10, 31)))
    # Not after today: 2019 is not near 2091.
    assert date(2091, 1, 20) not in near_birth_dates(date(2019, 1, 20))


def test_a_person_registered_again_with_a_birth_date_typed_wrongly_is_proposed(
    world: World, family: dict[str, Any]
) -> None:
    first = register(world, family["members"])["people"]
    second = register(
        world,
        [
            # The grandfather, by a relative in Russian spelling, day and month swapped.
            {"surname": "Жумабек", "given_names": "Нурлан", "birth_date": "1954-02-03"},
            # The boy in passport Latin, one digit wrong.
            {"surname": "Zhumabek", "given_names": "Alikhan", "birth_date": "2019-01-21"},
            # The mother's names with a birth date far from hers: not her.
            {"surname": "Жумабекова", "given_names": "Айгуль", "birth_date": "1979-11-02"},
        ],
    )
    found = {
        (p.person_a_id, p.person_b.given_names): (p.evidence, p.score)
        for p in CandidatePair.objects.select_related("person_b")
    }
    assert found == {
        (first[0]["id"], "Нурлан"): (["name_approx_birth_date"], 50),
        (first[2]["id"], "Alikhan"): (["name_approx_birth_date"], 50),
    }
    # The API's answer names them for the operator, with the evidence in words.
    shown = second["possible_duplicates"]
    assert sorted(d["duplicate_of"] for d in shown) == [first[0]["id"], first[2]["id"]]
    assert {d["evidence_text"] for d in shown} == {"the same names and nearly the same birth date"}


def test_the_hotline_operator_is_shown_the_near_birth_date_before_saving(
    world: World, family: dict[str, Any]
) -> None:
    register(world, family["members"])
    client = world.client(Role.OPERATOR)
    data = hotline_data(
        client, [{"surname": "Жумабек", "given_names": "Нурлан", "birth_date": "1945-03-02"}]
    )
    people = Person.objects.count()
    html = client.post("/people/new/", data).content.decode()
    assert "Possibly already registered" in html
    assert "the same names and nearly the same birth date" in html
    assert "02.03.1954" in html or "1954-03-02" in html
    assert Person.objects.count() == people, "nothing is saved before the operator decides"


def test_names_too_common_for_a_slip_to_mean_anything(world: World) -> None:
    def erlan(born: str) -> dict[str, Any]:
        return {"surname": "Ахметов", "given_names": "Ерлан", "birth_date": born}

    ids = [register(world, [erlan(f"1980-01-0{d}")])["people"][0]["id"] for d in (1, 2, 3, 4)]
    # Each found the ones before it (three at most).
    assert CandidatePair.objects.count() == 1 + 2 + 3
    # A fifth is one digit from all four: four people say nothing.
    fifth = register(world, [erlan("1980-01-05")])
    assert fifth["possible_duplicates"] == []
    assert not CandidatePair.objects.filter(person_b_id=fifth["people"][0]["id"]).exists()
    # The same birth date still counts, however common the names.
    sixth = register(world, [erlan("1980-01-05")])
    shown = sixth["possible_duplicates"]
    assert [(d["duplicate_of"], d["evidence"]) for d in shown] == [
        (fifth["people"][0]["id"], ["name_birth_date"])
    ]
    assert ids[0] not in [d["duplicate_of"] for d in shown]
