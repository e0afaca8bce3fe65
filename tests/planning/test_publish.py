"""The planner on the database: the situation exported as a scenario, a plan run, and
publishing it into bookings and stays — exactly the plan's, all or nothing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import TestCase

from aman.core.errors import Conflict
from aman.planning import services
from aman.planning.models import Plan, PlanChange, PlanStatus
from aman.planning.optimizer import check, scenario
from aman.registry.statuses import Status
from aman.shelter.models import Stay, StayStatus
from aman.transport.models import HOLDS_SEAT, Booking, Leg
from aman.transport.services import leg_set_status, leg_update
from tests.planning.world import START, people_of, register, situation

pytestmark = pytest.mark.django_db


def run(crisis, **kwargs) -> Plan:
    with TestCase.captureOnCommitCallbacks(execute=True):
        plan = services.plan_start(actor=None, crisis=crisis, start=START, **kwargs)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT, plan.error
    return plan


def expected(plan: Plan) -> tuple[Counter, Counter]:
    """The bookings (leg pk, household pk) × people and the stays (household, hotel,
    first night, last night) that the plan's itineraries name."""
    seats: Counter = Counter()
    nights: Counter = Counter()
    for item in plan.result["itineraries"]:
        hid = int(item["household"][2:])
        for step in item["steps"]:
            if step["type"] == "leg":
                seats[(int(step["leg"][3:]), hid)] += item["size"]
            elif step["type"] == "hotel":
                nights[(hid, int(step["hotel"][5:]), step["nights"][0], step["nights"][-1])] += 1
    return seats, nights


def actual(crisis) -> tuple[Counter, Counter]:
    seats: Counter = Counter()
    for b in Booking.objects.filter(crisis=crisis, status__in=HOLDS_SEAT):
        seats[(b.leg_id, b.household_id)] += 1
    nights: Counter = Counter()
    groups = set()
    for stay in Stay.objects.filter(crisis=crisis).exclude(
        status__in=(StayStatus.CANCELLED, StayStatus.NO_SHOW)
    ):
        key = (stay.household_id, stay.block.hotel_id, str(stay.first_night), str(stay.last_night))
        if (key, stay.group) not in groups:
            groups.add((key, stay.group))
            nights[key] += 1
    return seats, nights


def test_the_situation_exports_as_a_valid_scenario(world) -> None:
    s = situation(world.crisis)
    export = services.inputs.export(world.crisis, start=START, days=5)
    loaded = scenario.load(export.data)
    assert set(loaded.legs) == {f"leg{leg.pk}" for leg in s.legs.values()}
    ours = {f"hh{h.pk}" for h in s.households}
    assert all(loaded.households[k].size == 2 for k in ours)
    # The world's two people whose city is unknown are at their country: no route there.
    others = [h for k, h in loaded.households.items() if k not in ours]
    assert sorted(h.location for h in others) == ["country-IQ", "country-IR"]
    # The first household has a 75-year-old: priority above the others.
    first = loaded.households[f"hh{s.household(0).pk}"]
    assert first.priority > loaded.households[f"hh{s.household(1).pk}"].priority
    # The hotel is at Yerevan's airport (one hub), with 10 double rooms a night.
    (hotel,) = loaded.hotels.values()
    flight = loaded.legs[f"leg{s.legs['flight'].pk}"]
    assert hotel.place == flight.origin and set(hotel.beds.values()) == {20}
    # No names leave the database.
    text = json.dumps(export.data, ensure_ascii=False)
    assert "Ахметов" not in text and "Нұрлан" not in text


def test_publishing_creates_exactly_the_bookings_and_stays_of_the_plan(world) -> None:
    s = situation(world.crisis, households=3, bus_seats=4)
    plan = run(world.crisis)
    assert check.check(scenario.load(plan.scenario), plan.result) == []
    # Four seats on the first bus: two households of two go, the priority one first.
    placed = {item["household"] for item in plan.result["itineraries"]}
    assert f"hh{s.household(0).pk}" in placed and len(placed) == 2
    reasons = {u["household"]: u["reason"]["code"] for u in plan.result["unassigned"]}
    # Households 1 and 2 are alike: either is left out (ids compare as text, and on
    # PostgreSQL they may be hh9 and hh10).
    (waiting,) = {f"hh{s.household(i).pk}" for i in (1, 2)} - placed
    assert reasons[waiting] == "no_capacity"
    assert sorted(reasons.values()) == ["no_capacity", "no_route", "no_route"]

    services.plan_publish(actor=world.users["logistics"], plan=plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED
    want_seats, want_nights = expected(plan)
    got_seats, got_nights = actual(world.crisis)
    assert got_seats == want_seats and got_nights == want_nights
    assert want_nights, "the plan sleeps people in Yerevan between the bus and the flight"
    assert all(b.source == Leg.Source.PLAN for b in Booking.objects.filter(crisis=world.crisis))
    for person in people_of(s.household(0)):
        person.refresh_from_db()
        assert person.status == Status.ASSIGNED
    assert Counter(c.kind for c in PlanChange.objects.filter(plan=plan)) == {"new": 2}

    # Publishing twice is refused; nothing doubles.
    with pytest.raises(Conflict):
        services.plan_publish(actor=None, plan=plan)
    assert actual(world.crisis) == (want_seats, want_nights)


def test_families_never_share_a_room_so_the_plan_houses_only_what_publishing_can(world) -> None:
    """Ten double rooms (20 beds) and six families of three: counting beds the plan housed
    all six, and publishing refused (no free rooms for the sixth family: each takes two
    rooms), again and again. The scenario carries the hotel's rooms, and the planner
    charges each family two rooms: five fit, and the plan publishes."""
    situation(world.crisis, households=0, bus_seats=30)
    families = [
        register(
            world.crisis,
            [
                {"surname": f"Сейіт{i}", "given_names": "Ерлан", "birth_date": "1985-01-01"},
                {"surname": f"Сейіт{i}", "given_names": "Мадина", "birth_date": "1986-01-01"},
                {"surname": f"Сейіт{i}", "given_names": "Алихан", "birth_date": "2010-01-01"},
            ],
        )
        for i in range(6)
    ]
    plan = run(world.crisis, days=4)
    loaded = scenario.load(plan.scenario)
    (hotel,) = loaded.hotels.values()
    assert hotel.rooms is not None and set(map(str, hotel.rooms.values())) == {"{2: 10}"}
    assert check.check(loaded, plan.result) == []
    housed = {
        i["household"]
        for i in plan.result["itineraries"]
        if any(step["type"] == "hotel" for step in i["steps"])
    }
    assert len(housed) == len(plan.result["itineraries"]) == 5
    ours = {f"hh{f.pk}" for f in families}
    (left_out,) = [u for u in plan.result["unassigned"] if u["household"] in ours]
    assert left_out["reason"]["code"] == "no_capacity"

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.plan_publish_start(actor=None, plan=plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED, services.error_text(plan)
    assert actual(world.crisis) == expected(plan)
    stays = Stay.objects.filter(crisis=world.crisis)
    assert stays.count() == 10  # two rooms a family
    assert len({(stay.block_id, stay.room) for stay in stays}) == 10


def test_an_infant_shares_a_bed_so_its_family_of_three_takes_one_double(world) -> None:
    """The export says how many beds a household needs (an infant shares one), and the
    plan it makes publishes into that one room."""
    situation(world.crisis, households=0, bus_seats=30)
    baby = (date.today() - timedelta(days=200)).isoformat()
    infant = register(
        world.crisis,
        [
            {"surname": "Омар", "given_names": "Асан", "birth_date": "1990-01-01"},
            {"surname": "Омар", "given_names": "Дана", "birth_date": "1991-01-01"},
            {"surname": "Омар", "given_names": "Әли", "birth_date": baby},
        ],
    )
    plan = run(world.crisis, days=4)
    loaded = scenario.load(plan.scenario)
    assert (loaded.households[f"hh{infant.pk}"].size, loaded.households[f"hh{infant.pk}"].beds) == (
        3,
        2,
    )
    assert [i["household"] for i in plan.result["itineraries"]] == [f"hh{infant.pk}"]
    services.plan_publish(actor=None, plan=plan)
    (stay,) = Stay.objects.filter(crisis=world.crisis, household=infant)
    assert stay.guests.count() == 3


def test_a_replan_after_a_cancelled_leg_releases_and_supersedes(world) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    first = run(world.crisis)
    services.plan_publish(actor=None, plan=first)
    assert len(first.result["itineraries"]) == 2
    # The flight is cancelled: nobody gets home; the bus legs are kept.
    leg_set_status(actor=None, leg=s.legs["flight"], status="cancelled", note="airspace")
    second = run(world.crisis)
    assert second.base_id == first.pk
    services.plan_publish(actor=None, plan=second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == PlanStatus.SUPERSEDED and second.status == PlanStatus.PUBLISHED
    assert actual(world.crisis)[0] == expected(second)[0]
    changed = PlanChange.objects.filter(plan=second)
    assert {c.kind for c in changed} <= {"changed", "cancelled"} and changed.count() == 2
    for change in changed:
        assert change.before is not None


def test_a_replan_takes_the_published_plans_prices(world) -> None:
    """Six people for four seats on the first bus: the seat has a price, and the next
    plan's scenario carries the published plan's prices (for a re-plan that keeps what it
    told and bounds it from them — here every told itinerary leaves within the firm hours,
    so it is kept as it is and the LP plans the rest)."""
    situation(world.crisis, households=3, bus_seats=4)
    first = run(world.crisis)
    assert first.result["bound_from"] == "lp"
    assert any(p["kind"] == "leg" and p["price"] > 0 for p in first.result["prices"])
    services.plan_publish(actor=None, plan=first)
    second = run(world.crisis)
    assert second.scenario["prices"] == first.result["prices"]
    assert second.result["stability"]["changed"] == 0
    assert check.check(scenario.load(second.scenario), second.result) == []


def test_a_replan_proved_from_the_prices_keeps_what_it_told_and_says_so(world) -> None:
    """Planned three days ahead, every told itinerary leaves after the firm hours: the
    next plan keeps them all (held), proves from the published plan's prices that no
    plan could be worth more than 0.1 % above it, and its page says so."""
    from datetime import timedelta

    situation(world.crisis, households=3, bus_seats=4)
    early = START - timedelta(days=3)

    def solve() -> Plan:
        with TestCase.captureOnCommitCallbacks(execute=True):
            plan = services.plan_start(actor=None, crisis=world.crisis, start=early)
        plan.refresh_from_db()
        assert plan.status == PlanStatus.DRAFT, plan.error
        return plan

    first = solve()
    assert first.result["bound_from"] == "lp" and first.result["prices"]
    services.plan_publish(actor=None, plan=first)
    second = solve()
    assert second.scenario["prices"] == first.result["prices"]
    assert second.result["bound_from"] == "prices"
    assert "held" in second.result["seconds"]
    assert second.result["stability"]["notified"] > 0
    assert second.result["stability"]["changed"] == 0
    assert second.result["gap"] <= 0.001
    assert check.check(scenario.load(second.scenario), second.result) == []
    page = world.client("logistics").get(f"/planning/{second.pk}/").content.decode()
    assert 'id="bound-from-prices"' in page
    first_page = world.client("logistics").get(f"/planning/{first.pk}/").content.decode()
    assert 'id="bound-from-prices"' not in first_page


def test_a_stale_plan_is_refused_whole(world) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    plan = run(world.crisis)
    assert len(plan.result["itineraries"]) == 2
    # The first bus shrinks meanwhile: the plan no longer fits, and nothing is booked.
    leg_update(actor=None, leg=s.legs["bus1"], data={"capacity": 2})
    with pytest.raises(Conflict) as caught:
        services.plan_publish(actor=None, plan=plan)
    assert "run the planner again" in caught.value.message.lower()
    assert not Booking.objects.filter(crisis=world.crisis).exists()
    assert not Stay.objects.filter(crisis=world.crisis).exists()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_a_refusal_from_booking_is_kept_in_the_language_of_who_published(
    world, django_capture_on_commit_callbacks
) -> None:
    """Publishing runs in the background, in no officer's language: the reason the booking
    gave (transport's words, kept as text in the refusal) is in the language of the
    officer who pressed Publish, whatever the worker's."""
    from django.utils import translation

    s = situation(world.crisis, households=2, bus_seats=10)
    plan = run(world.crisis)
    leg_update(actor=None, leg=s.legs["bus1"], data={"capacity": 2})
    # (The language is left first, then the task runs: contexts exit in reverse.)
    with django_capture_on_commit_callbacks(execute=True), translation.override("ru"):
        services.plan_publish_start(actor=world.users["logistics"], plan=plan)
    # The task ran after the page's language was gone (the worker's: English here).
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    assert plan.error_detail["code"] == "not_booked"
    problem = plan.error_detail["problem"]
    assert any("а" <= ch <= "я" for ch in problem.lower()), problem
    assert not Booking.objects.filter(crisis=world.crisis).exists()


def test_export_scenario_command_writes_what_plan_solve_reads(world, tmp_path: Path) -> None:
    situation(world.crisis)
    target = tmp_path / "scenario.json"
    out = StringIO()
    call_command(
        "plan",
        "export-scenario",
        "--crisis",
        str(world.crisis.pk),
        "--out",
        str(target),
        "--start",
        START.isoformat(),
        stdout=out,
    )
    assert "5 households" in out.getvalue()
    from aman.core.models import AuditEntry

    assert AuditEntry.objects.filter(verb="plan_export_scenario").exists()
    call_command("plan", "solve", "--scenario", str(target), "--out", str(tmp_path), stdout=out)
    data = json.loads((tmp_path / "plan.json").read_text())
    assert check.check(scenario.loads(target.read_text()), data) == []
    assert data["summary"]["people_safe"] == 6


def test_a_typed_city_places_the_household(world) -> None:
    """Registered with the city typed, not chosen ("Тегеран" in the public form): the
    export finds the city by any of its names."""
    from tests.planning.world import register

    situation(world.crisis, households=1)
    typed = register(
        world.crisis,
        [{"surname": "Қасымов", "given_names": "Ерлан", "birth_date": "1990-01-01"}],
        city=None,
        typed="Tehran",
    )
    export = services.inputs.export(world.crisis, start=START, days=3)
    (item,) = [h for h in export.data["households"] if h["id"] == f"hh{typed.pk}"]
    tehran = next(p for p in export.data["places"] if p["name"] == "Tehran")
    assert item["location"] == tehran["id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--crisis", "no-such-crisis"], "No crisis 'no-such-crisis'"),
        (["--days", "30"], "--days must be from 1 to 14"),
        (["--start", "tomorrow"], "--start is not a date-time"),
        (["--start", "2026-03-02T06:00"], "--start needs a UTC offset"),
    ],
)
def test_export_scenario_says_what_is_wrong(world, tmp_path: Path, args, message) -> None:
    from django.core.management.base import CommandError

    base = ["plan", "export-scenario", "--crisis", str(world.crisis.pk)]
    base += ["--out", str(tmp_path / "s.json")]
    with pytest.raises(CommandError) as caught:
        call_command(*base, *args)
    assert message in str(caught.value)
    assert not (tmp_path / "s.json").exists()


def test_a_household_on_its_way_keeps_the_rest_of_its_itinerary(world) -> None:
    """Boarded on the first bus, which has left: the next plan starts the household where
    the bus goes, keeps the rest of what it was told, and books nothing twice."""
    from datetime import timedelta

    from aman.transport.services import booking_board

    s = situation(world.crisis, households=1, bus_seats=10)
    first = run(world.crisis)
    services.plan_publish(actor=None, plan=first)
    bus1 = s.legs["bus1"]
    leg_set_status(actor=None, leg=bus1, status="confirmed")
    leg_set_status(actor=None, leg=bus1, status="boarding")
    for booking in Booking.objects.filter(leg=bus1):
        booking_board(actor=None, booking=booking)
    leg_set_status(actor=None, leg=bus1, status="departed", at=START + timedelta(hours=2))
    with TestCase.captureOnCommitCallbacks(execute=True):
        second = services.plan_start(
            actor=None, crisis=world.crisis, start=START + timedelta(hours=3)
        )
    second.refresh_from_db()
    item = next(h for h in second.scenario["households"] if h["id"] == f"hh{s.household(0).pk}")
    norduz = next(p for p in second.scenario["places"] if p["name"] == "Norduz")
    assert item["location"] == norduz["id"]
    assert [st.get("leg") for st in item["notified"] if st["type"] == "leg"] == [
        f"leg{s.legs['bus2'].pk}",
        f"leg{s.legs['flight'].pk}",
    ]
    assert second.result["stability"]["displaced"] == 0
    assert second.result["stability"]["changed"] == 0
    before = Booking.objects.filter(crisis=world.crisis).count()
    services.plan_publish(actor=None, plan=second)
    assert Booking.objects.filter(crisis=world.crisis).count() == before
    assert not Booking.objects.filter(crisis=world.crisis, status="released").exists()


def test_seats_booked_by_hand_stay_the_households(world) -> None:
    """An officer booked a household all the way (the full first bus, the bus on, the
    flight): the planner keeps it there (its own seats are given back to it) and
    publishing books nothing twice. Booked only to the border, it is left to the officer."""
    from aman.transport.services import leg_book

    s = situation(world.crisis, households=2, bus_seats=2)
    leg_book(actor=None, leg=s.legs["bus1"], households=[s.household(1)])
    partial = run(world.crisis)
    assert f"hh{s.household(1).pk}" not in {h["id"] for h in partial.scenario["households"]}
    assert {"code": "household_by_hand", "household": f"H{s.household(1).pk}"} in (
        partial.input_warnings
    )
    # Its seats stay taken: the other household cannot have them.
    assert (
        next(x for x in partial.scenario["legs"] if x["id"] == f"leg{s.legs['bus1'].pk}")["seats"]
        == 0
    )
    services.plan_discard(actor=None, plan=partial)
    for leg in ("bus2", "flight"):
        leg_book(actor=None, leg=s.legs[leg], households=[s.household(1)])
    plan = run(world.crisis)
    exported = {h["id"]: h for h in plan.scenario["households"]}
    bus1 = next(x for x in plan.scenario["legs"] if x["id"] == f"leg{s.legs['bus1'].pk}")
    assert bus1["seats"] == 2
    assert exported[f"hh{s.household(1).pk}"]["locked"][0]["leg"] == bus1["id"]
    placed = {i["household"]: i for i in plan.result["itineraries"]}
    assert placed[f"hh{s.household(1).pk}"]["fixed"] is True
    assert f"hh{s.household(0).pk}" not in placed  # the bus is theirs, priority or not
    services.plan_publish(actor=None, plan=plan)
    assert Booking.objects.filter(leg=s.legs["bus1"], status__in=HOLDS_SEAT).count() == 2


def test_a_member_who_stays_gives_back_the_seat(world) -> None:
    from aman.registry.models import Person

    s = situation(world.crisis, households=1, bus_seats=10)
    first = run(world.crisis)
    services.plan_publish(actor=None, plan=first)
    stays = people_of(s.household(0))[1]
    Person.objects.filter(pk=stays.pk).update(intent="stay")
    second = run(world.crisis)
    item = next(
        i for i in second.result["itineraries"] if i["household"] == f"hh{s.household(0).pk}"
    )
    assert item["size"] == 1
    services.plan_publish(actor=None, plan=second)
    assert not Booking.objects.filter(person=stays, status__in=HOLDS_SEAT).exists()
    assert (
        Booking.objects.filter(person=people_of(s.household(0))[0], status__in=HOLDS_SEAT).count()
        == 3
    )


def _check_in_on_the_first_bus(s) -> None:
    from aman.transport.services import booking_check_in

    bus1 = s.legs["bus1"]
    leg_set_status(actor=None, leg=bus1, status="confirmed")
    for booking in Booking.objects.filter(leg=bus1):
        booking_check_in(actor=None, booking=booking)


def test_a_household_checked_in_for_its_first_bus_keeps_the_rest_of_what_it_was_told(
    world,
) -> None:
    """Checked in on the plan's first bus (to the border): that happened, and the rest of
    what the household was told is its itinerary — locked, even with nothing firm — not
    seats booked by hand; publishing the re-plan releases nothing."""
    s = situation(world.crisis, households=1, bus_seats=10)
    services.planning_policy_set(actor=None, crisis=world.crisis, stability_reward=0, firm_hours=0)
    first = run(world.crisis)
    services.plan_publish(actor=None, plan=first)
    _check_in_on_the_first_bus(s)
    second = run(world.crisis)
    key = f"hh{s.household(0).pk}"
    assert not [w for w in second.input_warnings if w["code"] == "household_by_hand"]
    item = next(h for h in second.scenario["households"] if h["id"] == key)
    assert [st.get("leg") for st in item["locked"] if st["type"] == "leg"] == [
        f"leg{s.legs[name].pk}" for name in ("bus1", "bus2", "flight")
    ]
    assert item["notified"] == item["locked"]
    assert services.compare(second)[key]["kind"] == services.KEPT
    before = set(Booking.objects.filter(household=s.household(0)).values_list("pk", "status"))
    services.plan_publish(actor=None, plan=second)
    after = set(Booking.objects.filter(household=s.household(0)).values_list("pk", "status"))
    assert after == before
    assert not Booking.objects.filter(household=s.household(0), status="released").exists()
    assert not PlanChange.objects.filter(plan=second).exists()


def test_a_checked_in_household_whose_flight_is_cancelled_is_told_the_change(world) -> None:
    """The rest of what it was told is no longer possible: the re-plan moves it
    deliberately (the lock dropped, with a warning) and records a change to tell."""
    s = situation(world.crisis, households=1, bus_seats=10)
    first = run(world.crisis)
    services.plan_publish(actor=None, plan=first)
    _check_in_on_the_first_bus(s)
    leg_set_status(actor=None, leg=s.legs["flight"], status="cancelled", note="airspace")
    second = run(world.crisis)
    key = f"hh{s.household(0).pk}"
    assert key in {h["id"] for h in second.scenario["households"]}
    entry = services.compare(second)[key]
    assert entry["kind"] in (services.CHANGED, services.LOST)
    assert entry["cause"] == services.DISPLACED
    services.plan_publish(actor=None, plan=second)
    change = PlanChange.objects.get(plan=second, household=s.household(0))
    assert change.before is not None
    # The bus it checked in for is what happened: its seats stay.
    assert Booking.objects.filter(leg=s.legs["bus1"], status="checked_in").count() == 2


def test_a_household_left_out_of_the_inputs_keeps_its_seats(world) -> None:
    """Crossed the border on its own with nothing saying where: the re-plan leaves it out
    (a remark says why) and decides nothing for it — publishing releases none of the
    seats it was told."""
    from aman.registry.models import Person

    s = situation(world.crisis, households=1, bus_seats=10)
    first = run(world.crisis)
    services.plan_publish(actor=None, plan=first)
    held = Booking.objects.filter(household=s.household(0), status__in=HOLDS_SEAT).count()
    assert held == 6
    Person.objects.filter(household=s.household(0)).update(status=Status.CROSSED_BORDER)
    second = run(world.crisis)
    assert {"code": "household_safe", "household": f"H{s.household(0).pk}"} in (
        second.input_warnings
    )
    services.plan_publish(actor=None, plan=second)
    assert Booking.objects.filter(household=s.household(0), status__in=HOLDS_SEAT).count() == 6


def test_publishing_refuses_a_plan_through_a_crossing_closed_since_the_run(world) -> None:
    from aman.geo.models import Place
    from aman.geo.services import place_status_set

    situation(world.crisis, households=2, bus_seats=10)
    draft = run(world.crisis)
    assert len(draft.result["itineraries"]) == 2
    norduz = Place.objects.get(code="IR-AM-NORDUZ")
    place_status_set(actor=None, place=norduz, status="closed", reason="shelling")
    with pytest.raises(Conflict) as refused:
        services.plan_publish(actor=None, plan=draft)
    message = str(refused.value.message)
    assert "Norduz" in message and "2 households" in message and "run the planner again" in message
    assert not Booking.objects.filter(crisis=world.crisis).exists()
    # Open again: the plan is as good as when it was computed.
    place_status_set(actor=None, place=norduz, status="open")
    services.plan_publish(actor=None, plan=draft)
    draft.refresh_from_db()
    assert draft.status == PlanStatus.PUBLISHED


def test_publishing_refuses_a_plan_through_an_airport_closed_since_the_run(world) -> None:
    from aman.geo.models import Place
    from aman.geo.services import place_status_set

    situation(world.crisis, households=1, bus_seats=10)
    draft = run(world.crisis)
    evn = Place.objects.get(kind="airport", iata="EVN")
    place_status_set(actor=None, place=evn, status="closed", reason="airspace")
    with pytest.raises(Conflict) as refused:
        services.plan_publish(actor=None, plan=draft)
    assert evn.name in str(refused.value.message) and "1 households" in str(refused.value.message)


def test_publishing_refuses_more_people_across_a_crossing_than_it_now_lets_through(
    world,
) -> None:
    from aman.geo.models import Place

    situation(world.crisis, households=2, bus_seats=10)
    draft = run(world.crisis)
    Place.objects.filter(code="IR-AM-NORDUZ").update(daily_capacity=3)
    with pytest.raises(Conflict) as refused:
        services.plan_publish(actor=None, plan=draft)
    message = str(refused.value.message)
    assert "Norduz now lets 3 people a day through" in message and "sends 4 across" in message
    assert not Booking.objects.filter(crisis=world.crisis).exists()
