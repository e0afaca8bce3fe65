"""The bus pools page: change a pool on its own page (the form filled in with it, the
service's refusals on the fields they name), beside the list, add and delete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from aman.core.models import AuditEntry
from aman.geo.models import Place
from aman.planning.models import BusPool

pytestmark = pytest.mark.django_db


def make_pool(crisis) -> BusPool:
    today = timezone.localdate()
    return BusPool.objects.create(
        crisis=crisis,
        origin=Place.objects.get(kind="city", name="Tehran"),
        destination=Place.objects.get(code="IR-AZ-ASTARA"),
        buses_per_day=2,
        seats=40,
        travel_minutes=90,
        departures="07:00,15:00",
        first_day=today,
        last_day=today + timedelta(days=2),
        carrier="Tabriz Bus",
    )


def form_of(pool: BusPool, **changes) -> dict:
    return {
        "origin": str(pool.origin_id),
        "destination": "IR-AZ-ASTARA",
        "buses_per_day": pool.buses_per_day,
        "seats": pool.seats,
        "travel_hours": "1.5",
        "departures": pool.departures,
        "first_day": pool.first_day.isoformat(),
        "last_day": pool.last_day.isoformat(),
        "carrier": pool.carrier,
        **changes,
    }


def test_the_list_links_each_pool_to_its_page(world) -> None:
    pool = make_pool(world.crisis)
    page = world.client("logistics").get("/planning/pools/").content.decode()
    assert f'href="/planning/pools/{pool.pk}/"' in page


def test_the_page_shows_the_pool_in_its_form(world) -> None:
    pool = make_pool(world.crisis)
    page = world.client("logistics").get(f"/planning/pools/{pool.pk}/").content.decode()
    assert 'value="IR-AZ-ASTARA"' in page and f'value="{pool.origin_id}"' in page
    assert 'name="travel_hours" value="1.5"' in page
    assert 'value="07:00,15:00"' in page and 'value="Tabriz Bus"' in page
    assert 'id="pool-legs"' not in page  # no trip of it is a leg yet


def test_a_valid_change_is_saved_and_audited(world) -> None:
    pool = make_pool(world.crisis)
    client = world.client("logistics")
    response = client.post(
        f"/planning/pools/{pool.pk}/",
        form_of(pool, destination="GYD", seats=45, travel_hours="10.25", departures="6:00, 18:30"),
    )
    assert response.status_code == 302 and response["Location"] == "/planning/pools/"
    pool.refresh_from_db()
    assert pool.destination.iata == "GYD" and pool.seats == 45
    assert pool.travel_minutes == 615 and pool.departures == "06:00,18:30"
    entry = AuditEntry.objects.get(verb="pool_update")
    assert entry.changes["seats"] == [40, 45] and entry.changes["travel_minutes"] == [90, 615]
    assert "Bus pool saved" in client.get("/planning/pools/").content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"destination": "__origin__"}, "destination", "must differ from the origin"),
        ({"destination": "ALA"}, "destination", "is not a place of this crisis for buses"),
        ({"last_day": "__yesterday__"}, "last_day", "Not before the first day."),
        ({"travel_hours": "0.25"}, "travel_hours", "From 30 minutes to 72 hours"),
        ({"seats": "0"}, "seats", "From 1 to 100."),
        ({"departures": "07:00, 7pm"}, "departures", "“7pm” is not a time like 06:00."),
        ({"buses_per_day": "many"}, "buses_per_day", "Enter a whole number."),
    ],
)
def test_a_refused_change_is_shown_on_its_field(world, changes, field, says) -> None:
    pool = make_pool(world.crisis)
    data = form_of(pool, **changes)
    if data["destination"] == "__origin__":
        data["destination"] = data["origin"]
    if data["last_day"] == "__yesterday__":
        data["last_day"] = (pool.first_day - timedelta(days=1)).isoformat()
    response = world.client("logistics").post(f"/planning/pools/{pool.pk}/", data)
    assert response.status_code == 200
    page = response.content.decode()
    errors = page[page.index(f'id="id_{field}_errors"') :]
    assert says in errors[: errors.index("</div>")]
    # What was typed stays in the form; nothing changed.
    assert f'name="{field}"' in page
    before = {f: getattr(pool, f) for f in ("destination_id", "seats", "last_day", "departures")}
    pool.refresh_from_db()
    assert {f: getattr(pool, f) for f in before} == before
    assert not AuditEntry.objects.filter(verb="pool_update").exists()


def test_the_add_form_takes_the_same_rules(world) -> None:
    client = world.client("logistics")
    today = timezone.localdate()
    response = client.post(
        "/planning/pools/",
        {
            "origin": "IR-AZ-ASTARA",
            "destination": "IR-AZ-ASTARA",
            "buses_per_day": 100,
            "seats": 30,
            "travel_hours": "5",
            "departures": "08:00",
            "first_day": today.isoformat(),
            "last_day": today.isoformat(),
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and not BusPool.objects.exists()
    assert "must differ from the origin" in page[page.index('id="id_destination_errors"') :]
    assert "At most 2,000 seats a day" in page[page.index('id="id_buses_per_day_errors"') :]


def test_another_crisis_s_pool_has_no_page(world) -> None:
    theirs = make_pool(world.other_crisis)
    client = world.client("crisis_manager")
    assert client.get(f"/planning/pools/{theirs.pk}/").status_code == 404
    assert client.post(f"/planning/pools/{theirs.pk}/", form_of(theirs)).status_code == 404
    assert client.get("/planning/pools/999999/").status_code == 404
