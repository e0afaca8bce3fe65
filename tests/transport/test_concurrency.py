"""The last seat cannot be given twice: concurrent transactions on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from aman.core.errors import Conflict
from aman.core.roles import Role
from aman.registry.models import Person
from aman.transport import services
from aman.transport.models import Booking, Leg
from tests.conftest import World
from tests.transport.conftest import make_leg, register_household

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions are tested on PostgreSQL")


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released at the same moment; each returns its result or
    the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_officers_and_a_plan_cannot_give_the_last_seat_twice(world: World) -> None:
    leg = make_leg(world, capacity=1)
    people = [Person.objects.get(household=register_household(world, 1)) for _ in range(3)]
    officers = [world.users[Role.LOGISTICS], world.users[Role.CRISIS_MANAGER], None]
    sources = ["ui", "api", "plan"]
    results = race(
        [
            lambda p=p, o=o, s=s: services.leg_book(actor=o, leg=leg, people=[p], source=s)
            for p, o, s in zip(people, officers, sources, strict=True)
        ]
    )
    won = [r for r in results if isinstance(r, list)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(lost) == 2, results
    assert all("Not enough seats: 0 free" in r.message for r in lost)
    leg.refresh_from_db()
    assert leg.seats_taken == 1 == Booking.objects.filter(leg=leg).count()


def test_the_database_alone_refuses_the_race(world: World) -> None:
    """Two raw inserts past every service check (as a buggy caller would write them): the
    trigger's row lock and the check constraint still let only one through."""
    leg = make_leg(world, capacity=1)
    people = [Person.objects.get(household=register_household(world, 1)) for _ in range(2)]

    def insert(person: Person) -> Any:
        return Booking.objects.create(crisis=world.crisis, leg=leg, person=person).pk

    results = race([lambda p=p: insert(p) for p in people])
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert Leg.objects.get(pk=leg.pk).seats_taken == 1 == Booking.objects.filter(leg=leg).count()


def test_many_officers_fill_a_bus_exactly(world: World) -> None:
    leg = make_leg(world, capacity=7, mode="bus")
    households = [register_household(world, 2) for _ in range(6)]
    results = race(
        [
            lambda h=h: services.leg_book(
                actor=world.users[Role.LOGISTICS], leg=leg, households=[h]
            )
            for h in households
        ]
    )
    won = [r for r in results if isinstance(r, list)]
    assert len(won) == 3, results  # three households of two in seven seats
    leg.refresh_from_db()
    assert leg.seats_taken == 6 == Booking.objects.filter(leg=leg).count()


def test_releasing_no_shows_while_the_gate_checks_in_does_not_deadlock(world: World) -> None:
    """Both lock the leg first, then bookings: they queue instead of deadlocking."""
    logistics = world.users[Role.LOGISTICS]
    for _round in range(5):
        leg = make_leg(world, capacity=6)
        bookings = services.leg_book(
            actor=logistics, leg=leg, households=[register_household(world, 3)]
        )
        for status in ("confirmed", "boarding"):
            services.leg_set_status(actor=logistics, leg=leg, status=status)
        results = race(
            [
                lambda leg=leg: services.leg_release_no_shows(actor=logistics, leg=leg),
                lambda b=bookings[-1]: services.booking_check_in(actor=logistics, booking=b),
            ]
        )
        errors = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
        assert not errors, errors


def test_a_published_plan_and_an_officer_cannot_give_the_last_seat_twice(world: World) -> None:
    """A plan books many legs at once (`legs_book_many`, as publishing does) while an
    officer books the last seat of one of them: one of the two gets it, never both, and
    the plan books all its seats or none."""
    for _round in range(3):
        first, last = make_leg(world, capacity=5), make_leg(world, capacity=2)
        planned = [Person.objects.get(household=register_household(world, 1)) for _ in range(2)]
        walk_in = Person.objects.get(household=register_household(world, 1))
        results = race(
            [
                lambda f=first, la=last, p=planned: services.legs_book_many(
                    actor=None,
                    wanted={f.pk: [x.pk for x in p], la.pk: [x.pk for x in p]},
                ),
                lambda la=last, w=walk_in: services.leg_book(
                    actor=world.users[Role.LOGISTICS], leg=la, people=[w]
                ),
            ]
        )
        plan_won = results[0] == 4
        officer_won = isinstance(results[1], list)
        assert plan_won != officer_won, results
        first.refresh_from_db()
        last.refresh_from_db()
        assert last.seats_taken == Booking.objects.filter(leg=last).count() <= 2
        assert first.seats_taken == (2 if plan_won else 0)
        assert isinstance(results[0 if officer_won else 1], Conflict)


def test_three_officers_asking_for_a_legs_passes_start_one_print(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The leg's row lock makes the second and third find the first's print."""
    from aman.transport import pass_prints
    from aman.transport.models import PassPrint

    queued: list[int] = []
    monkeypatch.setattr("aman.transport.tasks.pass_print.dispatch", queued.append)
    leg = make_leg(world, capacity=6)
    services.leg_book(actor=None, leg=leg, households=[register_household(world, 3)])
    officers = [world.users[Role.LOGISTICS], world.users[Role.CRISIS_MANAGER], None]
    results = race(
        [lambda o=o: pass_prints.pass_print_start(actor=o, leg=leg, inline=False) for o in officers]
    )
    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(created for _job, created in results) == [False, False, True]
    assert len({job.pk for job, _created in results}) == 1
    assert PassPrint.objects.filter(leg=leg).count() == 1 and len(queued) == 1


def test_the_api_and_the_page_race_for_the_last_seat_over_http(world: World) -> None:
    """Two real requests at the same moment, each in its own thread with its own database
    connection: the page's booking form and POST /api/legs/{id}/bookings both want the last
    seat. One gets it; the other is told clearly (409 with the reason in the API, an error
    message on the page), and the seat is held once."""
    import json

    from django.test import Client

    auth = world.api(Role.CRISIS_MANAGER).defaults["HTTP_AUTHORIZATION"]
    page = Client()
    page.force_login(world.users[Role.LOGISTICS])
    for _round in range(4):
        leg = make_leg(world, capacity=1)
        by_page, by_api = (
            Person.objects.get(household=register_household(world, 1)) for _ in range(2)
        )

        def book_on_page(leg: Leg = leg, person: Person = by_page) -> Any:
            return page.post(
                f"/transport/legs/{leg.pk}/book/",
                {"people": person.reference_code},
                follow=True,
            )

        def book_by_api(leg: Leg = leg, person: Person = by_api) -> Any:
            return Client(HTTP_AUTHORIZATION=auth).post(
                f"/api/legs/{leg.pk}/bookings",
                data=json.dumps({"people": [person.reference_code]}),
                content_type="application/json",
            )

        on_page, by_token = race([book_on_page, book_by_api])
        assert not isinstance(on_page, Exception) and not isinstance(by_token, Exception)
        html = on_page.content.decode()
        assert on_page.status_code == 200 and on_page.redirect_chain, on_page.status_code
        page_won = "1 person booked." in html
        api_won = by_token.status_code == 201
        assert page_won != api_won, (html[:200], by_token.status_code, by_token.content)
        if api_won:
            assert "alert-danger" in html
            assert "Not enough seats: 0 free" in html or "just taken" in html
            assert [b["reference_code"] for b in by_token.json()] == [by_api.reference_code]
        else:
            assert by_token.status_code == 409, by_token.content
            body = by_token.json()
            assert set(body) == {"message", "extra"}
            assert body["message"].startswith(("Not enough seats: 0 free", "The seats were just"))
        leg.refresh_from_db()
        winner = by_api if api_won else by_page
        assert leg.seats_taken == 1
        assert list(Booking.objects.filter(leg=leg).values_list("person_id", flat=True)) == [
            winner.pk
        ]
