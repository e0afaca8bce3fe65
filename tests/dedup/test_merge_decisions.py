"""What a merge takes from earlier decisions and values: an officer's "not the same person"
follows the records merged since; the newest value is the one set last for that group of
fields (not the record touched last); pairs carried to the survivor keep what the batch run
said of them."""

from __future__ import annotations

import copy
import json
from typing import Any

from aman.core.roles import Role
from aman.dedup.models import CandidatePair, LinkageRun, Merge
from aman.registry.models import Person
from aman.registry.services import person_set_status
from tests.conftest import World
from tests.dedup.test_intake_check import register
from tests.dedup.test_merge import GRANDFATHER_AGAIN, merge_api, state

# Someone with the phones of both registrations of the grandfather and his given name: a
# possible duplicate of each.
NAMESAKE: dict[str, Any] = {
    "members": [
        {
            "surname": "Касымов",
            "given_names": "Нурлан",
            "birth_date": "1961-08-30",
            "phones": ["+7 702 555 11 22", "8 701 123 45 67"],
        }
    ],
    "location": {"country": "IR"},
    "consent": True,
}


def three(world: World, family: dict[str, Any]) -> tuple[int, int, int]:
    """The grandfather registered with his family (C), again alone (A), and a namesake (B)
    with the phones of both."""
    c = register(world, family).json()["people"][0]["id"]
    a = register(world, copy.deepcopy(GRANDFATHER_AGAIN)).json()["people"][0]["id"]
    b = register(world, copy.deepcopy(NAMESAKE)).json()["people"][0]["id"]
    return a, b, c


def pair_of(x: int, y: int) -> CandidatePair:
    return CandidatePair.objects.get(person_a=min(x, y), person_b=max(x, y))


def test_a_rejection_follows_a_record_merged_since(world: World, family: dict[str, Any]) -> None:
    a, b, c = three(world, family)
    api = world.api(Role.OPERATOR)
    # A and B are not the same person; A is merged into C.
    rejected = api.post(f"/api/duplicates/{pair_of(a, b).pk}/reject")
    assert rejected.status_code == 200, rejected.content
    b_c = pair_of(b, c)
    assert b_c.status == "open"
    before = state()
    merge = merge_api(world, pair_of(a, c))
    assert merge.status_code == 201, merge.content
    # B–C is decided by that: not in the queue as if undecided.
    b_c.refresh_from_db()
    assert b_c.status == "rejected"
    assert b_c.decided_by == world.users[Role.OPERATOR]
    queue = api.get(f"/api/duplicates?crisis={world.crisis.pk}").json()
    assert queue["count"] == 0
    # Merging B and C is refused, naming the earlier decision: who and when.
    refused = merge_api(world, b_c)
    assert refused.status_code == 409, refused.content
    body = refused.json()
    codes = {p.pk: p.reference_code_display for p in Person.all_objects.filter(pk__in=[a, b, c])}
    assert f"{codes[min(a, b)]} and {codes[max(a, b)]}" in body["message"]
    assert "were recorded as not the same person by operator on" in body["message"]
    assert body["extra"]["rejected_pair"] == pair_of(a, b).pk
    assert body["extra"]["decided_by"] == "operator"
    assert body["extra"]["decided_at"] == pair_of(a, b).decided_at.isoformat()
    # The merge page says the same.
    page = world.client(Role.OPERATOR).post(f"/people/duplicates/{b_c.pk}/merge/", {"keep": "a"})
    assert page.status_code == 409
    assert "were recorded as not the same person by operator" in page.content.decode()
    assert Merge.objects.count() == 1
    # The undo reopens B–C as it was.
    undo = api.post(f"/api/merges/{merge.json()['id']}/undo")
    assert undo.status_code == 200, undo.content
    assert state() == before


def test_merging_a_pair_closed_as_two_people_names_that_decision(
    world: World, family: dict[str, Any]
) -> None:
    a, _b, c = three(world, family)
    pair = pair_of(a, c)
    assert world.api(Role.OPERATOR).post(f"/api/duplicates/{pair.pk}/reject").status_code == 200
    refused = merge_api(world, pair)
    assert refused.status_code == 409, refused.content
    assert "were recorded as not the same person by operator on" in refused.json()["message"]
    assert refused.json()["extra"]["rejected_pair"] == pair.pk
    assert not Merge.objects.exists()


def test_a_status_step_does_not_make_an_old_value_the_newest(
    world: World, family: dict[str, Any]
) -> None:
    # The first registration has a mistyped email and a later gate check-in; the second
    # registration, in between, has it right.
    family["members"][0]["email"] = "nurlan@exmaple.kz"
    first = register(world, family).json()["people"][0]["id"]
    again = copy.deepcopy(GRANDFATHER_AGAIN)
    again["members"][0]["email"] = "nurlan@example.kz"
    assert register(world, again).status_code == 201
    pair = CandidatePair.objects.get()
    person_set_status(
        actor=world.users[Role.OPERATOR], person=Person.objects.get(pk=first), status="verified"
    )
    assert (
        Person.objects.get(pk=first).updated_at > Person.objects.get(pk=pair.person_b_id).updated_at
    ), "the record touched last is the first one"
    page = world.client(Role.OPERATOR).get(f"/people/duplicates/{pair.pk}/merge/").content
    html = page.decode()
    row = html[html.index('id="group-email"') :].split("</tr>")[0]
    assert 'name="choose_email" value="absorbed" checked' in row, "a conflict, shown"
    assert "the newest" in row
    response = merge_api(world, pair)
    assert response.status_code == 201, response.content
    assert Person.objects.get(pk=first).email == "nurlan@example.kz"
    rules = {c["group"]: (c["source"], c["rule"]) for c in response.json()["choices"]}
    assert rules["email"] == ("absorbed", "newest")


def test_an_officers_correction_since_is_the_newest_value(
    world: World, family: dict[str, Any]
) -> None:
    family["members"][0]["email"] = "nurlan@exmaple.kz"
    first = register(world, family).json()["people"][0]["id"]
    again = copy.deepcopy(GRANDFATHER_AGAIN)
    again["members"][0]["email"] = "nurlan.old@example.kz"
    assert register(world, again).status_code == 201
    pair = CandidatePair.objects.get()
    # The officer corrects the first record's email after the second registration; the
    # second record is touched last (a status step), which does not count.
    patched = world.api(Role.OPERATOR).patch(
        f"/api/people/{first}",
        data=json.dumps({"email": "nurlan@example.kz"}),
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content
    person_set_status(
        actor=world.users[Role.OPERATOR],
        person=Person.objects.get(pk=pair.person_b_id),
        status="verified",
    )
    response = merge_api(world, pair)
    assert response.status_code == 201, response.content
    assert Person.objects.get(pk=first).email == "nurlan@example.kz"
    rules = {c["group"]: (c["source"], c["rule"]) for c in response.json()["choices"]}
    assert rules["email"] == ("survivor", "newest")
    # The language the second registration gave later than the first is still the newest.
    assert rules["language"] == ("absorbed", "newest")


def test_a_carried_pair_keeps_what_the_batch_run_said(world: World, family: dict[str, Any]) -> None:
    a, b, c = three(world, family)
    run = LinkageRun.objects.create(crisis=world.crisis, status=LinkageRun.Status.DONE)
    explanation = {"levels": {"phone": 1}, "weights": {"phone": 7.5}, "probability": 0.97}
    CandidatePair.objects.filter(pk=pair_of(a, b).pk).update(
        run=run, match_weight=7.5, explanation=explanation, cluster=a, found_by="batch"
    )
    # B's pair with C goes (it is not to be carried: C has one already); A's with B moves.
    CandidatePair.objects.filter(pk=pair_of(b, c).pk).delete()
    response = merge_api(world, pair_of(a, c))
    assert response.status_code == 201, response.content
    carried = pair_of(b, c)
    assert carried.status == "open"
    assert (carried.run_id, carried.match_weight, carried.explanation, carried.cluster) == (
        run.pk,
        7.5,
        explanation,
        a,
    )
    assert carried.found_by == "batch"
    listed = world.api(Role.OPERATOR).get(f"/api/duplicates?crisis={world.crisis.pk}").json()
    (item,) = listed["items"]
    assert item["id"] == carried.pk and item["match_weight"] == 7.5 and item["cluster"] == a
