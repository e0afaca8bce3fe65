"""The duplicate check at intake: through the API, the hotline form, imports, and the
person page where an officer says "not the same person"."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.test import Client

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.dedup.models import CandidatePair
from aman.registry.models import Person
from tests.conftest import World
from tests.registry.test_hotline import hotline_data


def register(world: World, body: Any, persona: str = Role.OPERATOR) -> Any:
    return world.api(persona).post(
        f"/api/registrations?crisis={world.crisis.pk}",
        data=json.dumps(body),
        content_type="application/json",
    )


def pairs() -> list[tuple[str, str, list[str]]]:
    return sorted(
        (p.person_a.given_names, p.person_b.given_names, p.evidence)
        for p in CandidatePair.objects.select_related("person_a", "person_b")
    )


def test_a_second_registration_of_a_person_is_recorded_as_a_possible_duplicate(
    world: World, family: dict[str, Any]
) -> None:
    first = register(world, family).json()["people"]
    assert CandidatePair.objects.count() == 0, "a family is not its own duplicate"
    again = {
        "members": [
            {
                # The grandfather again, by his relative, in Russian spelling and passport
                # Latin, with the same passport.
                "surname": "Жумабек",
                "given_names": "Нурлан",
                "birth_date": "1954-03-02",
                "documents": [{"kind": "passport", "number": "N 1234 5678"}],
            },
            {
                # The child again, by name and birth date only.
                "surname": "Zhumabek",
                "given_names": "Alikhan",
                "birth_date": "2019-01-20",
            },
            {
                # Someone else with the family's phone: a phone alone is not enough.
                "surname": "Омаров",
                "given_names": "Ерлан",
                "birth_date": "1980-01-01",
                "phones": ["+7 701 123 45 67"],
            },
        ],
        "location": {"country": "IR"},
        "consent": True,
    }
    second = register(world, again)
    assert second.status_code == 201, second.content
    assert pairs() == [
        ("Нұрлан", "Нурлан", ["document", "name_birth_date"]),
        ("Әлихан", "Alikhan", ["name_birth_date"]),
    ]
    grandfather = CandidatePair.objects.get(person_a_id=first[0]["id"])
    assert grandfather.score == 95 and grandfather.status == "open"
    assert grandfather.intake_record_id == second.json()["intake_record"]
    assert AuditEntry.objects.filter(verb="candidates_record").exists()


def test_the_operator_sees_who_may_already_be_registered_before_saving(
    world: World, family: dict[str, Any]
) -> None:
    register(world, family)
    client = world.client(Role.OPERATOR)
    data = hotline_data(
        client,
        [
            {
                "surname": "Жумабеков",  # another spelling and a different ending
                "given_names": "Нурлан",
                "birth_date": "1954-03-02",
                "passport": "N12345678",
            }
        ],
    )
    people = Person.objects.count()
    html = client.post("/people/new/", data).content.decode()
    assert "Possibly already registered" in html
    assert "the same document number" in html and "ZHUMABEK NURLAN" in html
    assert Person.objects.count() == people, "nothing is saved before the operator decides"
    response = client.post("/people/new/", {**data, "confirm_new": "1"}, follow=True)
    assert "Registered. Reference codes" in response.content.decode()
    assert Person.objects.count() == people + 1
    assert [e for _a, _b, e in pairs()] == [["document"]]


def test_an_officer_says_two_people_are_not_the_same(world: World, family: dict[str, Any]) -> None:
    first = register(world, family).json()["people"]
    child = dict(family["members"][2], surname="Zhumabek", given_names="Alikhan")
    register(world, {"members": [child], "location": {"country": "IR"}, "consent": True})
    pair = CandidatePair.objects.get()
    page = world.client(Role.OPERATOR).get(f"/people/{first[2]['id']}/").content.decode()
    assert "Possibly the same person as" in page and "the same names and birth date" in page
    observer = world.client(Role.OBSERVER).post(f"/people/duplicates/{pair.pk}/reject/")
    assert observer.status_code == 403
    response = world.client(Role.OPERATOR).post(
        f"/people/duplicates/{pair.pk}/reject/", {"next": f"/people/{first[2]['id']}/"}
    )
    assert response.status_code == 302 and response["Location"] == f"/people/{first[2]['id']}/"
    pair.refresh_from_db()
    assert pair.status == "rejected" and pair.decided_by == world.users[Role.OPERATOR]
    assert AuditEntry.objects.filter(verb="candidate_reject", object_id=str(pair.pk)).exists()
    page = world.client(Role.OPERATOR).get(f"/people/{first[2]['id']}/").content.decode()
    assert "Possibly the same person as" not in page


def test_a_rejected_pair_is_not_proposed_again_by_the_check_nor_by_a_batch_run(
    world: World, family: dict[str, Any], tmp_path: Path
) -> None:
    a = register(world, family).json()["people"][2]["id"]  # Әлихан, in the family
    child = dict(family["members"][2], surname="Zhumabek", given_names="Alikhan")
    b = register(world, {"members": [child], "location": {"country": "IR"}, "consent": True})
    b = b.json()["people"][0]["id"]
    pair = CandidatePair.objects.get()
    assert (pair.person_a_id, pair.person_b_id) == (a, b)
    api = world.api(Role.OPERATOR)
    assert api.post(f"/api/duplicates/{pair.pk}/reject").status_code == 200
    pair.refresh_from_db()
    decided = (pair.status, pair.decided_by_id, pair.decided_at, pair.score, pair.evidence)

    def still_rejected() -> None:
        again = CandidatePair.objects.get(pk=pair.pk)
        assert (again.status, again.decided_by_id, again.decided_at) == decided[:3]
        assert (again.score, again.evidence) == decided[3:], "not scored again"
        assert again.match_weight is None and again.run_id is None
        for status in ("open", "deferred"):
            queue = api.get("/api/duplicates", {"crisis": world.crisis.pk, "status": status})
            shown = {
                frozenset((i["person_a"]["id"], i["person_b"]["id"])) for i in queue.json()["items"]
            }
            assert frozenset((a, b)) not in shown

    # A third registration of the child: the check finds both earlier records (so it had
    # the chance to propose the pair again) and proposes only the new record with each.
    c = register(world, {"members": [child], "location": {"country": "IR"}, "consent": True})
    c = c.json()["people"][0]["id"]
    assert set(CandidatePair.objects.filter(status="open").values_list("person_a", "person_b")) == {
        (a, c),
        (b, c),
    }
    still_rejected()
    # A batch run over the whole crisis scores the new record with each of the two again...
    call_command("dedup", "run", "--crisis", str(world.crisis.pk), stdout=StringIO())
    assert set(
        CandidatePair.objects.filter(person_b=c, found_by="batch").values_list(
            "person_a", flat=True
        )
    ) == {a, b}
    # ...but not the two together: not proposed, not re-scored, not in one cluster.
    still_rejected()
    target = tmp_path / "clusters.csv"
    call_command(
        "dedup", "export", "--crisis", str(world.crisis.pk), "--out", str(target),
        stdout=StringIO(),
    )  # fmt: skip
    cluster = {
        int(r["person"]): r["cluster"] for r in csv.DictReader(target.open(encoding="utf-8"))
    }
    assert cluster[c], "the third record is clustered with one of the two"
    assert cluster[a] != cluster[b] or not cluster[a]


def test_a_list_brings_possible_duplicates_for_review(
    world: World, family: dict[str, Any], tmp_path: Path
) -> None:
    register(world, family)
    path = tmp_path / "list.csv"
    path.write_text(
        "ФИО;Дата рождения;Паспорт\nЖумабекова Айгуль;15.07.1990;N09876543\n", encoding="utf-8"
    )
    call_command(
        "import", str(path), "--crisis", world.crisis.code, "--source", "Embassy",
        "--country", "IR", stdout=open("/dev/null", "w"),  # noqa: SIM115
    )  # fmt: skip
    assert pairs() == [("Айгүл", "Айгуль", ["document", "name_birth_date"])]


def test_the_check_at_intake_answers_quickly_enough_in_queries(
    world: World, family: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    """The check costs a fixed number of queries whatever the registry's size (each an
    index look-up): the benchmark measures the time at a million people. (With the typed
    city looked up in the reference data and the possible duplicates read for the answer.)"""
    register(world, family)
    client: Client = world.api(Role.OPERATOR)
    with django_assert_max_num_queries(26):
        response = client.post(
            f"/api/registrations?crisis={world.crisis.pk}",
            data=json.dumps(family),
            content_type="application/json",
        )
    assert response.status_code == 201


def test_the_review_queue_shows_pairs_side_by_side(world: World, family: dict[str, Any]) -> None:
    first = register(world, family).json()["people"]
    child = dict(family["members"][2], surname="Zhumabek", given_names="Alikhan", sex="")
    register(world, {"members": [child], "location": {"country": "IR"}, "consent": True})
    pair = CandidatePair.objects.get()
    client = world.client(Role.OPERATOR)
    page = client.get("/people/duplicates/").content.decode()
    assert f'id="pair-{pair.pk}"' in page and "the same names and birth date" in page
    assert "Әлихан" in page and "Alikhan" in page
    assert 'class="table-warning"' in page, "differences are highlighted"
    assert AuditEntry.objects.filter(verb="candidate_list").exists()
    assert 'href="/people/duplicates/" aria-current="page">Duplicates' in page
    assert 'href="/people/" aria-current="page"' not in page, "only the closest menu entry"
    response = client.post(
        f"/people/duplicates/{pair.pk}/reject/", {"next": "/people/duplicates/"}, follow=True
    )
    assert "Nothing to review." in response.content.decode()
    closed = client.get("/people/duplicates/?status=rejected").content.decode()
    assert f'id="pair-{pair.pk}"' in closed and "operator" in closed
    assert first[2]["id"] in (pair.person_a_id, pair.person_b_id)


def test_duplicates_through_the_api(world: World, family: dict[str, Any]) -> None:
    register(world, family)
    child = dict(family["members"][2], surname="Zhumabek", given_names="Alikhan")
    register(world, {"members": [child], "location": {"country": "IR"}, "consent": True})
    api = world.api(Role.OPERATOR)
    body = api.get("/api/duplicates", {"crisis": world.crisis.pk}).json()
    assert body["count"] == 1
    [item] = body["items"]
    assert item["evidence"] == ["name_birth_date"] and item["score"] == 70
    assert item["person_a"]["given_names"] == "Әлихан"
    assert item["person_b"]["given_names_latin"] == "ALIKHAN"
    response = api.post(f"/api/duplicates/{item['id']}/reject")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    again = api.post(f"/api/duplicates/{item['id']}/reject")
    assert again.status_code == 409 and set(again.json()) == {"message", "extra"}
    assert api.get("/api/duplicates", {"crisis": world.crisis.pk}).json()["count"] == 0
    assert api.post("/api/duplicates/999999/reject").status_code == 404
    observer = world.api(Role.OBSERVER).get("/api/duplicates", {"crisis": world.crisis.pk})
    assert observer.status_code == 403
