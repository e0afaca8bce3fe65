"""Batch linkage over a whole crisis through the CLI, the API and the queue page: what the
check at registration cannot see (a name spelled otherwise, a birth date mistyped), merged
automatically only by policy and only on an exact identifier, and exported for analysis."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.dedup.models import CandidatePair, LinkageRun, Merge
from aman.registry.models import Person
from aman.registry.services import Submission, registrations_submit
from tests.conftest import World

SURNAMES = [
    "Ахметов", "Бекова", "Серикбаев", "Касымова", "Нурланов", "Абдрахманова", "Тулегенов",
    "Жаксылыкова", "Омаров", "Садыкова", "Искаков", "Мухамедиева", "Байжанов", "Кенжебаева",
    "Сулейменов", "Есенова", "Рахимов", "Турсынова", "Амангельдиев", "Калиева",
]  # fmt: skip
GIVEN = [
    "Айдос", "Мадина", "Ерлан", "Гульнара", "Данияр", "Асель", "Бауыржан", "Жанар", "Ержан",
    "Салтанат", "Нуржан", "Айгерим", "Канат", "Динара", "Арман", "Камила", "Тимур", "Алия",
]  # fmt: skip


def _member(surname: str, given: str, born: date, **extra: Any) -> dict[str, Any]:
    return {"surname": surname, "given_names": given, "birth_date": born.isoformat(), **extra}


def _submit(world: World, members: list[dict[str, Any]], channel: str = "hotline") -> None:
    outcomes = registrations_submit(
        crisis=world.crisis,
        submissions=[
            Submission(
                channel=channel,
                payload={"members": [m], "location": {"country": "IR"}, "consent": True},
            )
            for m in members
        ],
    )
    assert all(o.accepted for o in outcomes), [o.problems for o in outcomes if not o.accepted]


@pytest.fixture
def crowd(world: World) -> dict[str, Any]:
    """300 people with common Kazakh names — 40 of them with the very names of another
    (born years apart), none the same person — then three people registered again in ways
    the check at registration cannot see."""
    rng = random.Random(7)
    combos = rng.sample([(s, g) for s in SURNAMES for g in GIVEN], 260)
    members = []
    for i in range(300):
        if i < 260:
            surname, given = combos[i]
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
        else:
            twin = members[i - 260]
            surname, given = twin["surname"], twin["given_names"]
            # Born three years, five months and ten days later: no digit slip away.
            born = date.fromisoformat(twin["birth_date"]) + timedelta(days=1_255)
        members.append(
            _member(
                surname,
                given,
                born,
                phones=[f"+7 701 {i:03d} {rng.randrange(100):02d} {rng.randrange(100):02d}"],
            )
        )
    # 1. A passport holder, again with the same passport and a mistyped birth date, in
    #    passport Latin.
    members.append(
        _member("Жұмабек", "Нұрлан", date(1954, 3, 2), documents=[{"number": "N12345678"}])
    )
    # 2. A phone holder, again with the same phone, her given name spelled otherwise.
    members.append(_member("Байтұрсынова", "Гүлжан", date(1988, 11, 23), phones=["+77015550101"]))
    # 3. A woman registered twice by name only, the day and month swapped.
    members.append(_member("Сәрсенбаева", "Ақмарал", date(1979, 4, 11)))
    _submit(world, members)
    again = [
        _member("ZHUMABEK", "NURLAN", date(1954, 2, 3), documents=[{"number": "N 1234 5678"}]),
        _member("Baitursynova", "Gulzhana", date(1988, 11, 23), phones=["8 701 555 01 01"]),
        _member("Сарсенбаева", "Акмарал", date(1979, 11, 4)),
    ]
    _submit(world, again, channel="import")
    CandidatePair.objects.all().delete()  # what the check at registration found, if anything
    people = {
        key: sorted(Person.objects.filter(given_names__in=names).values_list("pk", flat=True))
        for key, names in {
            "passport": ["Нұрлан", "NURLAN"],
            "phone": ["Гүлжан", "Gulzhana"],
            "names": ["Ақмарал", "Акмарал"],
        }.items()
    }
    return people


def _pairs() -> set[tuple[int, int]]:
    return set(CandidatePair.objects.values_list("person_a", "person_b"))


def test_the_cli_run_finds_what_registration_could_not_and_proposes_no_stranger(
    world: World, crowd: dict[str, Any]
) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("dedup", "run", "--crisis", str(world.crisis.pk), stdout=out, stderr=err)
    run = LinkageRun.objects.get()
    # Progress while it runs, phase by phase, in words.
    lines = err.getvalue().splitlines()
    for phase in ("estimating the model from the data", "building clusters", "keeping the pairs"):
        assert any(phase in line and "%" in line for line in lines), lines
    assert run.status == "done", run.error
    assert run.records == Person.objects.filter(crisis=world.crisis).count()
    found = _pairs()
    assert tuple(crowd["passport"]) in found
    assert tuple(crowd["phone"]) in found
    # Strangers with the same common names are not proposed: every pair found is one of
    # the planted ones (or the world's own two Сейітов Марат).
    planted = {tuple(v) for v in crowd.values()} | {
        tuple(sorted((world.people["IR"], world.people["IQ"])))
    }
    assert found <= planted, found - planted
    assert f"{run.records} people, {run.pairs_found} possible duplicate pairs" in out.getvalue()
    pair = CandidatePair.objects.get(person_a=crowd["passport"][0])
    assert pair.found_by == "batch" and pair.run == run and pair.match_weight > 10
    assert "document" in pair.evidence
    words = pair.explanation_text()
    assert words[0].startswith("Document number: the same (+"), words
    assert any(w.startswith("Birth date: two digits, or day and month, swapped") for w in words)
    assert AuditEntry.objects.filter(verb="linkage_run_finish", object_id=str(run.pk)).exists()


def test_a_rejected_pair_is_never_proposed_again(world: World, crowd: dict[str, Any]) -> None:
    call_command("dedup", "run", "--crisis", str(world.crisis.pk), stdout=io.StringIO())
    pair = CandidatePair.objects.get(person_a=crowd["phone"][0])
    response = world.api(Role.OPERATOR).post(f"/api/duplicates/{pair.pk}/reject")
    assert response.status_code == 200
    call_command("dedup", "run", "--crisis", str(world.crisis.pk), stdout=io.StringIO())
    pair.refresh_from_db()
    assert pair.status == "rejected"
    assert CandidatePair.objects.filter(person_a=crowd["phone"][0]).count() == 1
    assert LinkageRun.objects.latest("id").pairs_new == 0


def test_the_policy_merges_exact_identifiers_automatically_and_never_names_alone(
    world: World, crowd: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    manager = world.api(Role.CRISIS_MANAGER)
    refused = manager.put(
        f"/api/duplicates/policy?crisis={world.crisis.pk}",
        data=json.dumps({"auto_merge": True, "auto_merge_probability": 0.5}),
        content_type="application/json",
    )
    assert refused.status_code == 422
    response = manager.put(
        f"/api/duplicates/policy?crisis={world.crisis.pk}",
        data=json.dumps({"auto_merge": True, "auto_merge_probability": 0.99}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    with django_capture_on_commit_callbacks(execute=True):
        started = world.api(Role.OPERATOR).post(f"/api/duplicates/runs?crisis={world.crisis.pk}")
    assert started.status_code == 202, started.content
    run = world.api(Role.OPERATOR).get(f"/api/duplicates/runs/{started.json()['id']}").json()
    assert run["status"] == "done" and run["auto_merged"] >= 1
    merge = Merge.objects.get(absorbed=crowd["passport"][1])
    assert merge.automatic and merge.survivor_id == crowd["passport"][0]
    # The pair found by names alone waits for an officer.
    assert not Merge.objects.filter(absorbed=crowd["names"][1]).exists()
    # An automatic merge is undone like any other.
    undo = world.api(Role.OPERATOR).post(f"/api/merges/{merge.pk}/undo")
    assert undo.status_code == 200
    # ...and stays undone: the next run leaves the pair to the officers.
    call_command("dedup", "run", "--crisis", str(world.crisis.pk), stdout=io.StringIO())
    assert Merge.objects.filter(undone_at__isnull=True).count() == 0
    assert Person.objects.filter(pk=crowd["passport"][1]).exists()


def test_the_export_has_one_row_per_intake_record_with_its_person_and_cluster(
    world: World, crowd: dict[str, Any], tmp_path: Any
) -> None:
    call_command("dedup", "run", "--crisis", str(world.crisis.pk), stdout=io.StringIO())
    pair = CandidatePair.objects.get(person_a=crowd["passport"][0])
    world.api(Role.OPERATOR).post(
        f"/api/duplicates/{pair.pk}/merge", data="{}", content_type="application/json"
    )
    target = tmp_path / "clusters.csv"
    out = io.StringIO()
    call_command(
        "dedup", "export", "--crisis", str(world.crisis.pk), "--out", str(target), stdout=out
    )
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert f"{len(rows)} intake records written" in out.getvalue()
    assert len(rows) == Person.all_objects.filter(crisis=world.crisis).count()
    survivor, absorbed = crowd["passport"]
    theirs = [r for r in rows if r["person"] == str(survivor)]
    assert len(theirs) == 2, "both registrations belong to the person now"
    codes = dict(Person.all_objects.values_list("pk", "reference_code"))
    assert {r["registered_as"] for r in theirs} == {"", codes[absorbed]}
    assert {r["channel"] for r in theirs} == {"hotline", "import"}
    phone = [r for r in rows if r["person"] in {str(p) for p in crowd["phone"]}]
    assert len({r["cluster"] for r in phone}) == 1 and phone[0]["cluster"]
    assert "Жұмабек" not in target.read_text(encoding="utf-8"), "no names in the export"
    assert AuditEntry.objects.filter(verb="clusters_export", action="export").exists()


def test_the_queue_page_starts_a_run_and_explains_the_weight(
    world: World, crowd: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    client = world.client(Role.OPERATOR)
    page = client.get("/people/duplicates/").content.decode()
    assert "Find duplicates among everyone registered" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/people/duplicates/runs/")
    assert response.status_code == 302
    response = client.get(response["Location"])
    html = response.content.decode()
    assert "Done" in html and "Match weight" in html
    pair = CandidatePair.objects.get(person_a=crowd["passport"][0])
    assert f"cluster={pair.cluster}" in html
    one = client.get(f"/people/duplicates/?cluster={pair.cluster}").content.decode()
    assert f'id="pair-{pair.pk}"' in one and "Showing cluster" in one
    # Every record of the cluster side by side, the rows where they disagree marked.
    table = one.split(f'id="cluster-{pair.cluster}"', 1)[1].split("</section>", 1)[0]
    members = Person.objects.filter(
        pk__in={
            p
            for a, b in CandidatePair.objects.filter(cluster=pair.cluster).values_list(
                "person_a", "person_b"
            )
            for p in (a, b)
        }
    )
    assert f"{members.count()} records in this cluster" in table
    for person in members:
        assert person.reference_code_display in table
    assert 'class="table-warning"' in table, "the two records differ somewhere"
    audit = AuditEntry.objects.filter(verb="candidate_list").latest("id")
    assert audit.changes["cluster"] == pair.cluster


def test_the_api_queue_carries_the_weight_its_reasons_in_words_and_the_cluster(
    world: World, crowd: dict[str, Any]
) -> None:
    call_command("dedup", "run", "--crisis", str(world.crisis.pk), stdout=io.StringIO())
    pair = CandidatePair.objects.get(person_a=crowd["passport"][0])
    api = world.api(Role.OPERATOR)
    body = api.get("/api/duplicates", {"crisis": world.crisis.pk}).json()
    item = next(i for i in body["items"] if i["id"] == pair.pk)
    assert item["match_weight"] == pytest.approx(pair.match_weight) and item["match_weight"] > 10
    assert item["explanation"] == pair.explanation_text()
    assert item["explanation"][0].startswith("Document number: the same (+")
    assert item["cluster"] == pair.cluster
    one = api.get("/api/duplicates", {"crisis": world.crisis.pk, "cluster": pair.cluster}).json()
    assert [i["id"] for i in one["items"]] == [
        p.pk for p in CandidatePair.objects.filter(cluster=pair.cluster).order_by("-score", "-id")
    ]
    assert one["count"] < body["count"]
    export = world.api(Role.CRISIS_MANAGER).get(
        "/api/duplicates/clusters.csv", {"crisis": world.crisis.pk}
    )
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert {r["cluster"] for r in rows if r["person"] == str(pair.person_a_id)} == {
        str(pair.cluster)
    }
    assert AuditEntry.objects.filter(verb="clusters_export", via="api").exists()
    none = api.get("/api/duplicates", {"crisis": world.crisis.pk, "cluster": "x"})
    assert none.status_code == 422 and "cluster" in str(none.json()["extra"])


def test_the_cli_says_what_is_wrong(world: World) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No crisis 'nowhere'"):
        call_command("dedup", "run", "--crisis", "nowhere")


def test_a_run_that_lost_its_process_does_not_block_the_next(world: World) -> None:
    from datetime import timedelta

    from django.utils import timezone

    stuck = LinkageRun.objects.create(crisis=world.crisis, status="running")
    busy = world.api(Role.OPERATOR).post(f"/api/duplicates/runs?crisis={world.crisis.pk}")
    assert busy.status_code == 409
    assert busy.json()["message"] == "A linkage run of this crisis is already under way."
    LinkageRun.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=3))
    again = world.api(Role.OPERATOR).post(f"/api/duplicates/runs?crisis={world.crisis.pk}")
    assert again.status_code == 202, again.content
    stuck.refresh_from_db()
    assert stuck.status == "failed" and "Interrupted" in stuck.error
