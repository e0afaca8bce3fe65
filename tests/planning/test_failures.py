"""Why a plan failed or could not be published, kept as a code in the background (a
worker has no officer's language) and said in the reader's language on the page and in
the API; an unexpected error in plain words, its details in the server log."""

from __future__ import annotations

import logging

import pytest

from aman.geo.models import Place
from aman.geo.services import place_status_set
from aman.planning.models import Plan, PlanStatus
from tests.planning.world import DAYS, situation

pytestmark = pytest.mark.django_db

CLOSED_RU = "Norduz сейчас закрыт, а план проводит через него семей: 2."
CLOSED_EN = "Norduz is closed now when the plan takes 2 households through it"
UNEXPECTED = "The planner stopped on an unexpected error; the details are in the server log."


def _run(client, capture) -> Plan:
    with capture(execute=True):
        client.post("/planning/run/", {"days": DAYS, "method": "greedy"})
    return Plan.objects.latest("pk")


def _refused(world, capture, language: str) -> tuple[Plan, object]:
    """A plan run and published while Norduz closed since: refused in the background, the
    publish asked in `language`."""
    situation(world.crisis, households=2, bus_seats=10)
    client = world.client("logistics")
    plan = _run(client, capture)
    assert plan.status == PlanStatus.DRAFT, plan.error
    place_status_set(
        actor=None, place=Place.objects.get(code="IR-AM-NORDUZ"), status="closed", reason="x"
    )
    client.cookies["django_language"] = language
    with capture(execute=True):
        client.post(f"/planning/{plan.pk}/publish/")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    return plan, client


def test_a_publish_refusal_is_said_in_the_readers_language(
    world, django_capture_on_commit_callbacks
) -> None:
    plan, client = _refused(world, django_capture_on_commit_callbacks, "en")
    assert plan.error_detail == {"code": "closed", "place": "Norduz", "n": 2}
    client.cookies["django_language"] = "ru"
    page = client.get(f"/planning/{plan.pk}/").content.decode()
    assert CLOSED_RU in page and CLOSED_EN not in page
    client.cookies["django_language"] = "en"
    assert CLOSED_EN in client.get(f"/planning/{plan.pk}/").content.decode()
    # The API's plan detail too, in the request's language.
    api = world.api("logistics")
    ru = api.get(f"/api/plans/{plan.pk}", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert CLOSED_RU in ru["error"]
    assert CLOSED_EN in api.get(f"/api/plans/{plan.pk}", HTTP_ACCEPT_LANGUAGE="en").json()["error"]


def test_a_refusal_made_in_russian_reads_in_english(
    world, django_capture_on_commit_callbacks
) -> None:
    plan, client = _refused(world, django_capture_on_commit_callbacks, "ru")
    client.cookies["django_language"] = "en"
    page = client.get(f"/planning/{plan.pk}/").content.decode()
    assert CLOSED_EN in page and CLOSED_RU not in page


def test_an_unexpected_failure_is_said_plainly_and_logged(
    world, django_capture_on_commit_callbacks, monkeypatch, caplog
) -> None:
    from aman.planning.optimizer import plan as solver

    def broken(*args, **kwargs):
        raise ZeroDivisionError("inner detail 42")

    monkeypatch.setattr(solver, "solve", broken)
    situation(world.crisis, households=1)
    client = world.client("logistics")
    with caplog.at_level(logging.ERROR, logger="aman.planning.services"):
        plan = _run(client, django_capture_on_commit_callbacks)
    assert plan.status == PlanStatus.FAILED and plan.error_detail == {"code": "unexpected"}
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)
    page = client.get(f"/planning/{plan.pk}/").content.decode()
    assert UNEXPECTED in page
    assert "ZeroDivisionError" not in page and "inner detail" not in page
    detail = world.api("logistics").get(f"/api/plans/{plan.pk}").json()
    assert detail["error"] == UNEXPECTED


def test_an_unexpected_publish_failure_is_said_plainly_and_logged(
    world, django_capture_on_commit_callbacks, monkeypatch, caplog
) -> None:
    from aman.planning import services

    situation(world.crisis, households=2, bus_seats=10)
    client = world.client("logistics")
    plan = _run(client, django_capture_on_commit_callbacks)

    def broken(*args, **kwargs):
        raise KeyError("inner detail 42")

    monkeypatch.setattr(services, "_pool_legs", broken)
    with (
        caplog.at_level(logging.ERROR, logger="aman.planning.services"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(f"/planning/{plan.pk}/publish/")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    assert plan.error_detail == {"code": "publish_unexpected"}
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)
    page = client.get(f"/planning/{plan.pk}/").content.decode()
    assert "Publishing stopped on an unexpected error; the details are in the server log." in page
    assert "KeyError" not in page and "inner detail" not in page


def test_a_plan_of_before_the_codes_says_its_text(
    world, django_capture_on_commit_callbacks
) -> None:
    situation(world.crisis, households=1)
    client = world.client("logistics")
    plan = _run(client, django_capture_on_commit_callbacks)
    Plan.objects.filter(pk=plan.pk).update(
        status=PlanStatus.FAILED, error="ValueError: an old failure", error_detail={}
    )
    client.cookies["django_language"] = "ru"
    page = client.get(f"/planning/{plan.pk}/").content.decode()
    assert "ValueError: an old failure" in page
    detail = world.api("logistics").get(f"/api/plans/{plan.pk}").json()
    assert detail["error"] == "ValueError: an old failure"
    # An unknown code (a newer version's) falls back to the text too.
    Plan.objects.filter(pk=plan.pk).update(error_detail={"code": "from_the_future"})
    assert "ValueError: an old failure" in client.get(f"/planning/{plan.pk}/").content.decode()
