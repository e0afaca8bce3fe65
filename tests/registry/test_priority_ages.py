"""Age-based priority does not go stale: the daily refresh assesses again whoever had a
birthday — the man who turns 60 becomes elderly, the girl who turns 18 is no longer a child
(and is now a woman) — and explains the elderly's priority with their age now."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from aman.core.models import AuditEntry, Crisis
from aman.core.roles import Role
from aman.registry import tasks
from aman.registry.models import Household, Person
from aman.registry.services import priority_ages_refresh, registration_submit
from aman.registry.triage import explain
from tests.conftest import World


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _register(world: World, members: list[dict[str, Any]]) -> list[Person]:
    record = registration_submit(
        crisis=world.crisis,
        channel="api",
        payload={"members": members, "location": {"country": "IR"}, "consent": True},
    )
    return list(record.people.order_by("id"))


def test_a_man_who_turns_60_becomes_elderly_and_a_girl_who_turns_18_a_woman(
    world: World,
) -> None:
    today = timezone.localdate()
    birthday = today + timedelta(days=3)
    grandfather, granddaughter, cousin = _register(
        world,
        [
            # 59 today, 60 in three days.
            {
                "surname": "Омаров",
                "given_names": "Бек",
                "birth_date": str(years_before(birthday, 60)),
                "sex": "M",
            },
            # 17 today, 18 in three days.
            {
                "surname": "Омарова",
                "given_names": "Аяла",
                "birth_date": str(years_before(birthday, 18)),
                "sex": "F",
            },
            # 59 and 60 only in ten days.
            {
                "surname": "Омаров",
                "given_names": "Нұр",
                "birth_date": str(years_before(today + timedelta(days=10), 60)),
                "sex": "M",
            },
        ],
    )
    assert (grandfather.priority, granddaughter.priority, cousin.priority) == (0, 2, 0)
    household = Household.objects.get(pk=grandfather.household_id)
    assert household.priority == 2

    # The day before the birthday: nothing to do.
    before = priority_ages_refresh(
        crisis=world.crisis, since=today, today=birthday - timedelta(days=1)
    )
    assert before == 0
    manager = world.users[Role.CRISIS_MANAGER]
    changed = priority_ages_refresh(crisis=world.crisis, since=today, today=birthday, actor=manager)
    assert changed == 2
    grandfather.refresh_from_db()
    granddaughter.refresh_from_db()
    cousin.refresh_from_db()
    assert grandfather.priority == 2
    assert explain(grandfather.priority, grandfather.priority_reasons) == "priority 2: 60 years old"
    assert granddaughter.priority == 1
    assert [r["group"] for r in granddaughter.priority_reasons] == ["woman"]
    assert cousin.priority == 0, "not yet 60"
    household.refresh_from_db()
    assert household.priority == 2
    entry = AuditEntry.objects.filter(verb="priority_ages_refresh").latest("id")
    assert (entry.actor, entry.object_type, entry.object_id) == (
        manager,
        "core.crisis",
        str(world.crisis.pk),
    )
    assert entry.changes["people_changed"] == [None, 2]
    assert entry.changes["birthdays"] == [None, [today.isoformat(), birthday.isoformat()]]
    # Run again over the same days: nothing changes.
    assert priority_ages_refresh(crisis=world.crisis, since=today, today=birthday) == 0


def test_a_birthday_on_29_february_counts_on_1_march_in_other_years(world: World) -> None:
    [leap] = _register(
        world,
        [{"surname": "Ли", "given_names": "Анна", "birth_date": "1964-02-29", "sex": "M"}],
    )
    # Registered today, whatever the day: assess as of a day before 1 March 2025 first.
    Person.objects.filter(pk=leap.pk).update(priority=0, priority_reasons=[])
    assert (
        priority_ages_refresh(crisis=world.crisis, since=date(2025, 2, 20), today=date(2025, 2, 28))
        == 0
    )
    assert (
        priority_ages_refresh(crisis=world.crisis, since=date(2025, 2, 28), today=date(2025, 3, 1))
        == 1
    )
    leap.refresh_from_db()
    assert leap.priority_reasons == [{"group": "elderly", "weight": 2, "age": 61}]


def test_the_daily_run_is_scheduled_and_refreshes_every_open_crisis(world: World) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["priority-ages"]
    assert entry["task"] == "aman.registry.priority_ages_refresh"
    today = timezone.localdate()
    # Turned 60 yesterday, registered (assessed) before: the run looks back and catches up.
    [man] = _register(
        world,
        [
            {
                "surname": "Ким",
                "given_names": "Олег",
                "birth_date": str(years_before(today - timedelta(days=1), 60)),
                "sex": "M",
            }
        ],
    )
    Person.objects.filter(pk=man.pk).update(priority=0, priority_reasons=[])
    Crisis.objects.filter(pk=world.other_crisis.pk).update(status=Crisis.Status.CLOSED)
    result = tasks.priority_ages_refresh()
    assert result == {world.crisis.code: 1}, "closed crises are left alone"
    man.refresh_from_db()
    assert man.priority == 2
    entry = AuditEntry.objects.filter(verb="priority_ages_refresh").latest("id")
    assert entry.actor is None and entry.changes["people_changed"] == [None, 1]
