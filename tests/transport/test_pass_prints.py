"""A leg's boarding passes printed in the background, through the leg's pages, the REST API
and `aman passes`: progress, the file kept with the print and handed out audited, failures
with their reason, one print of a leg at a time, and the file deleted when replaced or after
24 hours."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from aman.core.errors import ApplicationError
from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.transport import boarding_passes, pass_prints, passes, services
from aman.transport.models import BookingStatus, PassPrint
from aman.transport.services import leg_create
from tests.conftest import World
from tests.transport.conftest import make_leg, place, register_household
from tests.transport.pdftext import pdf_pages, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_the_background(settings: Any) -> None:
    """Every print goes through the background task (inline in tests: it has finished
    when the request that asked for it answers), however few its passes."""
    settings.AMAN_PASSES_INLINE_MAX = 0


@pytest.fixture
def booked(world: World, logistics: Any) -> dict[str, Any]:
    """Six people holding a seat (households of 3, 2 and 1) and one released."""
    households = [register_household(world, n) for n in (3, 2, 1, 1)]
    leg = make_leg(world)
    bookings = services.leg_book(actor=logistics, leg=leg, households=households)
    released = bookings[-1]
    services.booking_close(
        actor=logistics, booking=released, status=BookingStatus.RELEASED, note="stays"
    )
    return {"leg": leg, "bookings": bookings[:-1], "released": released}


@pytest.fixture
def commits(django_capture_on_commit_callbacks: Any) -> Any:
    """What a request or a service queues at its commit runs when the block ends (the test
    itself runs in a transaction that never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def start(commits: Any, leg: Any, actor: Any = None) -> PassPrint:
    with commits():
        job, _created = pass_prints.pass_print_start(actor=actor, leg=leg)
    job.refresh_from_db()
    return job


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Prints are recorded but not run (no worker picks them up): their ids."""
    queued: list[int] = []
    monkeypatch.setattr("aman.transport.tasks.pass_print.dispatch", queued.append)
    return queued


def codes(content: bytes) -> set[str]:
    return set(re.findall(r"AMAN1:\d+:\d+:[A-Z2-7]{16}", pdf_text(content)))


# --- the pages ----------------------------------------------------------------------------


def test_the_officer_prints_the_passes_and_downloads_them(
    world: World, booked: dict, commits: Any
) -> None:
    leg = booked["leg"]
    client = world.client(Role.LOGISTICS)
    detail = client.get(f"/transport/legs/{leg.pk}/")
    assert b'id="print-passes"' in detail.content
    with commits():
        asked = client.post(f"/transport/legs/{leg.pk}/passes/")
    assert asked.status_code == 302 and asked["Location"] == f"/transport/legs/{leg.pk}/passes/"
    job = PassPrint.objects.get(leg=leg)
    assert (job.status, job.total, job.done) == ("done", 6, 6)
    assert job.requested_by == world.users[Role.LOGISTICS] and job.started_at and job.finished_at
    page = client.get(asked["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "6 passes ready" in html and 'http-equiv="refresh"' not in html
    download = re.search(
        r'href="([^"]+\.pdf)" id="print-download"|id="print-download" href="([^"]+)"', html
    )
    assert download
    url = download.group(1) or download.group(2)
    assert url == f"/transport/legs/{leg.pk}/passes/{job.pk}.pdf"
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert pdf_pages(response.content) == 6  # one per seat held, not the released one
    printed = codes(response.content)
    assert len(printed) == 6
    for text in printed:
        code, signature = passes.parse_pass(text)
        booking = next(b for b in booked["bookings"] if b.pk == code.booking_id)
        assert passes.verify(code, signature, booking.person_id)
    # The leg page links to the print.
    assert b"Passes printed at" in client.get(f"/transport/legs/{leg.pk}/").content
    # Asked for and made: written; each download: an export, as a leg's passes always were.
    assert AuditEntry.objects.filter(verb="pass_print_start", object_id=str(job.pk)).exists()
    finished = AuditEntry.objects.get(verb="pass_print_finish", object_id=str(job.pk))
    assert finished.changes["passes"] == 6 and finished.actor == world.users[Role.LOGISTICS]
    client.get(url)
    exports = AuditEntry.objects.filter(verb="boarding_pass", object_id=str(leg.pk))
    assert [e.changes for e in exports] == [{"format": "pdf", "count": 6, "print": job.pk}] * 2
    assert {(e.action, e.actor_id) for e in exports} == {
        (AuditEntry.Action.EXPORT, world.users[Role.LOGISTICS].pk)
    }


def test_the_file_is_kept_encrypted(world: World, booked: dict, commits: Any) -> None:
    job = start(commits, booked["leg"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM transport_passprint WHERE id = %s", [job.pk])
        (stored,) = cursor.fetchone()
    assert stored and not stored.startswith("JVBER")  # base64 of "%PDF"
    assert PassPrint.objects.get(pk=job.pk).content.startswith("JVBER")


def test_the_page_shows_the_progress_and_refreshes(
    world: World,
    booked: dict,
    held: list[int],
    commits: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    leg = booked["leg"]
    client = world.client(Role.CRISIS_MANAGER)
    with commits():
        client.post(f"/transport/legs/{leg.pk}/passes/")
    job = PassPrint.objects.get(pk=held[0])
    page = client.get(f"/transport/legs/{leg.pk}/passes/").content.decode()
    assert "Waiting to start…" in page and 'http-equiv="refresh" content="3"' in page
    assert 'id="print-passes" disabled' in page
    # The worker gets to it; the page is looked at after each part it lays out.
    monkeypatch.setattr(boarding_passes, "CHUNK", 4)
    render, seen = boarding_passes.render_passes_pdf, []

    def watched(passes: Any, progress: Any) -> bytes:
        def told(done: int) -> None:
            progress(done)
            seen.append(client.get(f"/transport/legs/{leg.pk}/passes/").content.decode())
            pdf = client.get(f"/transport/legs/{leg.pk}/passes/{job.pk}.pdf", follow=True)
            seen.append(pdf.content.decode())

        return render(passes, told)

    monkeypatch.setattr(boarding_passes, "render_passes_pdf", watched)
    pass_prints.pass_print_run(job.pk)
    assert "4 of 6 pages done" in seen[0] and 'aria-valuenow="66"' in seen[0]
    assert 'http-equiv="refresh"' in seen[0]
    # Not ready: back to the page, saying how far it is; nothing handed out.
    assert "still being printed: 4 of 6 pages done" in seen[1]
    assert "All pages done; writing the file" in seen[2]
    assert not AuditEntry.objects.filter(verb="boarding_pass").exists()
    page = client.get(f"/transport/legs/{leg.pk}/passes/").content.decode()
    assert "6 passes ready" in page and 'http-equiv="refresh"' not in page


def test_one_print_of_a_leg_at_a_time(
    world: World, booked: dict, held: list[int], commits: Any
) -> None:
    leg = booked["leg"]
    client = world.client(Role.LOGISTICS)
    with commits():
        client.post(f"/transport/legs/{leg.pk}/passes/")
        again = client.post(f"/transport/legs/{leg.pk}/passes/", follow=True)
    assert "already being printed" in again.content.decode()
    assert PassPrint.objects.filter(leg=leg).count() == 1 and len(held) == 1


def test_progress_is_told_after_each_part(booked: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(boarding_passes, "CHUNK", 4)
    seen: list[int] = []
    content = boarding_passes.render_passes_pdf(
        boarding_passes.leg_passes(booked["leg"]), seen.append
    )
    assert seen == [4, 6]
    assert pdf_pages(content) == 6 and len(codes(content)) == 6


def test_a_failed_print_says_why(
    world: World, booked: dict, monkeypatch: pytest.MonkeyPatch, commits: Any
) -> None:
    leg = booked["leg"]

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("out of paper")

    monkeypatch.setattr(boarding_passes, "render_passes_pdf", broken)
    client = world.client(Role.LOGISTICS)
    with commits():
        client.post(f"/transport/legs/{leg.pk}/passes/")
    page = client.get(f"/transport/legs/{leg.pk}/passes/").content.decode()
    job = PassPrint.objects.get(leg=leg)
    assert job.status == "failed" and "RuntimeError: out of paper" in job.error
    assert 'id="print-error"' in page and "This print failed: RuntimeError: out of paper" in page
    assert 'id="print-passes"' in page  # it can be tried again
    api = world.api(Role.LOGISTICS).get(f"/api/legs/{leg.pk}/passes/{job.pk}/pdf")
    assert api.status_code == 409
    assert api.json()["extra"]["status"] == "failed" and "out of paper" in api.json()["message"]
    # An application error is kept as it was said.
    monkeypatch.setattr(
        boarding_passes,
        "render_passes_pdf",
        lambda *a, **k: (_ for _ in ()).throw(ApplicationError("The printer is busy.")),
    )
    second = start(commits, leg)
    assert (second.status, second.error) == ("failed", "The printer is busy.")


def test_seats_released_before_the_print_starts(
    world: World, booked: dict, held: list[int], logistics: Any, commits: Any
) -> None:
    leg = booked["leg"]
    job = start(commits, leg, logistics)
    assert held == [job.pk] and job.status == "queued"
    for booking in booked["bookings"]:
        services.booking_close(
            actor=logistics, booking=booking, status=BookingStatus.RELEASED, note="stays"
        )
    job = pass_prints.pass_print_run(job.pk)
    assert job.status == "failed" and "Nobody holds a seat" in job.error


def test_nobody_holding_a_seat_is_refused(world: World, logistics: Any) -> None:
    leg = make_leg(world)
    client = world.client(Role.LOGISTICS)
    page = client.post(f"/transport/legs/{leg.pk}/passes/", follow=True).content.decode()
    assert "Nobody holds a seat on this leg" in page
    assert 'id="print-nobody"' in page and 'id="print-passes"' not in page
    api = world.api(Role.LOGISTICS).post(f"/api/legs/{leg.pk}/passes")
    assert api.status_code == 409 and set(api.json()) == {"message", "extra"}
    assert not PassPrint.objects.exists()


def test_changed_bookings_are_pointed_out(
    world: World, booked: dict, logistics: Any, commits: Any
) -> None:
    leg = booked["leg"]
    start(commits, leg, logistics)
    page = world.client(Role.LOGISTICS).get(f"/transport/legs/{leg.pk}/passes/")
    assert b'id="print-changed"' not in page.content
    services.booking_check_in(actor=logistics, booking=booked["bookings"][0], seat="3C")
    page = world.client(Role.LOGISTICS).get(f"/transport/legs/{leg.pk}/passes/")
    assert b'id="print-changed"' in page.content


# --- keeping the file ---------------------------------------------------------------------


def test_the_next_print_replaces_the_file(world: World, booked: dict, commits: Any) -> None:
    leg = booked["leg"]
    first = start(commits, leg)
    second = start(commits, leg)
    assert second.pk != first.pk
    first.refresh_from_db()
    assert (first.cleared, first.content, first.available) == ("replaced", "", False)
    assert first.cleared_at is not None and second.available
    client = world.client(Role.LOGISTICS)
    gone = client.get(f"/transport/legs/{leg.pk}/passes/{first.pk}.pdf", follow=True)
    assert "replaced by a newer print" in gone.content.decode()
    api = world.api(Role.LOGISTICS).get(f"/api/legs/{leg.pk}/passes/{first.pk}/pdf")
    assert api.status_code == 410 and api.json()["extra"]["cleared"] == "replaced"
    page = client.get(f"/transport/legs/{leg.pk}/passes/").content.decode()
    assert 'id="print-history"' in page and "replaced by a newer print" in page


def test_the_file_is_deleted_after_24_hours(world: World, booked: dict, commits: Any) -> None:
    from aman.transport.tasks import pass_prints_tidy

    leg = booked["leg"]
    job = start(commits, leg)
    other_leg = make_leg(world, number="KC 7002")
    services.leg_book(actor=None, leg=other_leg, households=[register_household(world, 1)])
    other = start(commits, other_leg)
    PassPrint.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - PassPrint.KEEP - timedelta(minutes=1)
    )
    job.refresh_from_db()
    assert not job.available  # past its time, even before the file is deleted
    api = world.api(Role.LOGISTICS).get(f"/api/legs/{leg.pk}/passes/{job.pk}/pdf")
    assert api.status_code == 410 and api.json()["extra"]["cleared"] == "expired"
    job.refresh_from_db()
    assert (job.cleared, job.content) == ("expired", "")
    # The worker's hourly run deletes the files of every leg past their time.
    PassPrint.objects.filter(pk=other.pk).update(
        finished_at=timezone.now() - PassPrint.KEEP - timedelta(minutes=1)
    )
    assert pass_prints_tidy() == 1
    assert PassPrint.objects.get(pk=other.pk).content == ""
    assert not AuditEntry.objects.filter(verb="boarding_pass").exists()


def test_a_print_whose_worker_died_fails(
    world: World, booked: dict, held: list[int], commits: Any
) -> None:
    leg = booked["leg"]
    job = start(commits, leg)
    PassPrint.objects.filter(pk=job.pk).update(
        status="running", heartbeat_at=timezone.now() - pass_prints.STALLED - timedelta(seconds=1)
    )
    page = world.client(Role.LOGISTICS).get(f"/transport/legs/{leg.pk}/passes/").content.decode()
    assert "The print stopped before it finished" in page
    again = start(commits, leg)
    assert again.pk != job.pk and held == [job.pk, again.pk]
    # Waiting in a busy queue is not dying; never taken for an hour is.
    PassPrint.objects.filter(pk=again.pk).update(
        requested_at=timezone.now() - pass_prints.STALLED - timedelta(minutes=1)
    )
    assert pass_prints.pass_prints_tidy() == 0
    PassPrint.objects.filter(pk=again.pk).update(
        requested_at=timezone.now() - pass_prints.LOST - timedelta(minutes=1)
    )
    assert pass_prints.pass_prints_tidy() == 1
    assert "never started" in PassPrint.objects.get(pk=again.pk).error


# --- the REST API -------------------------------------------------------------------------


def test_the_api_prints_in_the_background(
    world: World, booked: dict, held: list[int], commits: Any
) -> None:
    leg = booked["leg"]
    api = world.api(Role.CRISIS_MANAGER)
    with commits():
        started = api.post(f"/api/legs/{leg.pk}/passes", HTTP_IDEMPOTENCY_KEY="print-1")
    assert started.status_code == 202
    body = started.json()
    assert (body["status"], body["total"], body["done"], body["leg_id"]) == ("queued", 6, 0, leg.pk)
    assert body["requested_by"] == "crisis_manager" and body["pdf"] is None
    assert started["Location"] == f"/api/legs/{leg.pk}/passes/{body['id']}"
    # The same key: the same answer, nothing new; another request while it waits: that print.
    with commits():
        replay = api.post(f"/api/legs/{leg.pk}/passes", HTTP_IDEMPOTENCY_KEY="print-1")
        other = api.post(f"/api/legs/{leg.pk}/passes", HTTP_IDEMPOTENCY_KEY="print-2")
    assert replay.status_code == 202 and replay.json() == body
    assert other.json()["id"] == body["id"]
    assert PassPrint.objects.count() == 1 and held == [body["id"]]
    early = api.get(f"/api/legs/{leg.pk}/passes/{body['id']}/pdf")
    assert early.status_code == 409
    assert early.json()["extra"] == {"status": "queued", "done": 0, "total": 6}

    pass_prints.pass_print_run(body["id"])
    status = api.get(started["Location"])
    assert status.status_code == 200
    done = status.json()
    assert (done["status"], done["done"], done["available"]) == ("done", 6, True)
    assert done["pdf"] == f"/api/legs/{leg.pk}/passes/{body['id']}/pdf" and done["size"] > 1000
    assert done["expires_at"] and done["cleared"] == ""
    pdf = api.get(done["pdf"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert pdf_pages(pdf.content) == 6
    entry = AuditEntry.objects.get(verb="boarding_pass")
    assert entry.changes == {"format": "pdf", "count": 6, "print": body["id"]}
    assert entry.actor == world.users[Role.CRISIS_MANAGER] and entry.via == "api"


def test_the_api_refuses_clearly(world: World, booked: dict, logistics: Any, commits: Any) -> None:
    leg = booked["leg"]
    job = start(commits, leg)
    api = world.api(Role.LOGISTICS)
    assert api.get(f"/api/legs/{leg.pk}/passes/999999").status_code == 404
    assert api.get(f"/api/legs/999999/passes/{job.pk}").status_code == 404
    another = make_leg(world, number="KC 7003")
    # A print is found only through its own leg.
    assert api.get(f"/api/legs/{another.pk}/passes/{job.pk}/pdf").status_code == 404
    for role in (Role.DUTY_OFFICER, Role.CONSUL, Role.OPERATOR, Role.OBSERVER):
        client = world.api(role)
        assert client.post(f"/api/legs/{leg.pk}/passes").status_code == 403, role
        assert client.get(f"/api/legs/{leg.pk}/passes/{job.pk}").status_code == 403, role
        assert client.get(f"/api/legs/{leg.pk}/passes/{job.pk}/pdf").status_code == 403, role
    elsewhere = leg_create(
        actor=logistics,
        crisis=world.other_crisis,
        data={
            "mode": "charter",
            "origin": place("airport", iata="DXB"),
            "destination": place("airport", iata="ALA"),
            "departure_planned": leg.departure_planned,
            "capacity": 5,
        },
    )
    # The API finds a leg in any crisis the user may see (nobody is booked on this one).
    assert api.post(f"/api/legs/{elsewhere.pk}/passes").status_code == 409  # nobody booked
    assert not AuditEntry.objects.filter(verb="boarding_pass").exists()


def test_the_api_documents_the_print(world: World) -> None:
    schema = world.api(Role.LOGISTICS).get("/api/openapi.json").json()
    paths = schema["paths"]
    assert "202" in paths["/api/legs/{leg_id}/passes"]["post"]["responses"]
    pdf = paths["/api/legs/{leg_id}/passes/{print_id}/pdf"]["get"]["responses"]
    assert "application/pdf" in pdf["200"]["content"] and "410" in pdf
    assert "PassPrintOut" in json.dumps(paths["/api/legs/{leg_id}/passes/{print_id}"])


# --- the command line ---------------------------------------------------------------------


def test_the_command_prints_a_legs_passes(booked: dict, tmp_path: Path) -> None:
    leg = booked["leg"]
    target = tmp_path / "passes.pdf"
    out, err = io.StringIO(), io.StringIO()
    call_command("passes", "--leg", str(leg.pk), "--out", str(target), stdout=out, stderr=err)
    assert f"6 boarding passes of leg {leg.pk}" in out.getvalue()
    assert str(target) in out.getvalue()
    assert "6 of 6 pages" in err.getvalue()
    content = target.read_bytes()
    assert pdf_pages(content) == 6 and len(codes(content)) == 6
    entry = AuditEntry.objects.get(verb="boarding_pass")
    assert (entry.actor_id, entry.actor_name, entry.via) == (None, "system", "cli")
    assert entry.changes == {"format": "pdf", "count": 6}
    assert not PassPrint.objects.exists()  # made here and now: no copy kept


def test_the_command_refuses_clearly(world: World, booked: dict, tmp_path: Path) -> None:
    leg = booked["leg"]
    with pytest.raises(CommandError, match="No leg 999999"):
        call_command("passes", "--leg", "999999", "--out", str(tmp_path / "x.pdf"))
    empty = make_leg(world, number="KC 7004")
    with pytest.raises(CommandError, match="Nobody holds a seat on this leg"):
        call_command("passes", "--leg", str(empty.pk), "--out", str(tmp_path / "e.pdf"))
    assert not (tmp_path / "e.pdf").exists()
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("passes", "--leg", str(leg.pk), "--out", str(tmp_path / "no" / "x.pdf"))
    with pytest.raises(CommandError, match="is a directory"):
        call_command("passes", "--leg", str(leg.pk), "--out", str(tmp_path))
    assert not AuditEntry.objects.filter(verb="boarding_pass").exists()


def test_the_cli_exits_non_zero(booked: dict, tmp_path: Path, capsys: Any) -> None:
    from aman.transport.management.commands.passes import Command

    argv = ["aman", "passes", "--leg", "999999", "--out", str(tmp_path / "x.pdf")]
    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(argv)
    assert exit_.value.code == 1
    assert "No leg 999999" in capsys.readouterr().err
