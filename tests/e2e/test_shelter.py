"""Shelter in the browser: the logistics officer adds a hotel and contracts rooms, has rooms
suggested for two households and confirms them, checks one household in and out, prints its
voucher (which the hotel checks by its code, seeing no names), records an exchange rate and
reads the cost ledger; then houses a third household in the room the officer chooses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from aman.registry.models import Person
from aman.shelter.models import Hotel, Stay, StayNight, StayStatus
from aman.shelter.vouchers import voucher_code
from tests.conftest import World
from tests.transport.conftest import register_household

pytestmark = pytest.mark.browser


def test_from_a_room_block_to_the_ledger(
    world: World, new_page: Callable[[], Page], sign_in: Callable[..., None]
) -> None:
    big, small = register_household(world, 4), register_household(world, 2)
    today = timezone.localdate()
    office = new_page()
    sign_in(office, "logistics")

    # 1. The hotel.
    office.goto("/shelter/")
    office.get_by_role("link", name="New hotel").click()
    office.fill("#id_name", "Hotel Caspian Baku")
    office.fill("#id_country", "AZ")
    office.fill("#id_address", "28 Neftchilar Avenue")
    office.fill("#id_latitude", "40.37")
    office.fill("#id_longitude", "49.84")
    office.get_by_role("button", name="Save").click()
    expect(office.locator(".alert-success")).to_contain_text("Hotel created.")
    hotel = Hotel.objects.get(place__name="Hotel Caspian Baku")
    assert hotel.place.timezone == "Asia/Baku"

    # 2. A room block: a wrong one first (last night before the first), then the right one.
    office.get_by_role("link", name="Add rooms").first.click()
    office.select_option("#id_room_type", "family")
    office.fill("#id_beds", "4")
    office.fill("#id_rooms", "2")
    office.fill("#id_first_night", today.isoformat())
    office.fill("#id_last_night", (today - timedelta(days=1)).isoformat())
    office.fill("#id_rate", "80")
    office.fill("#id_currency", "USD")
    office.select_option("#id_meals", "breakfast")
    office.select_option("#id_payer", "state")
    office.fill("#id_contract_ref", "MFA-AZ-001")
    office.get_by_role("button", name="Save").click()
    expect(office.locator("#block-form")).to_contain_text("Before the first night.")
    assert not hotel.blocks.exists()
    office.fill("#id_last_night", (today + timedelta(days=3)).isoformat())
    office.get_by_role("button", name="Save").click()
    expect(office.locator(".alert-success")).to_contain_text("Rooms added.")
    block = hotel.blocks.get()
    expect(office.locator(f"#block-{block.pk}")).to_contain_text("8")  # capacity, room-nights

    # 3. Rooms suggested for both households, then confirmed.
    office.get_by_role("link", name="Assign rooms").first.click()
    office.fill("#a-households", f"H{big.pk} H{small.pk}")
    office.fill("#a-first", today.isoformat())
    office.fill("#a-last", (today + timedelta(days=1)).isoformat())
    office.get_by_role("button", name="Suggest", exact=True).click()
    expect(office.locator(f"#suggestion-{big.pk}")).to_contain_text("Hotel Caspian Baku")
    expect(office.locator(f"#suggestion-{small.pk}")).to_contain_text("Hotel Caspian Baku")
    assert not Stay.objects.exists()  # a suggestion writes nothing
    office.locator("#confirm").click()
    expect(office.locator("#housed li")).to_have_count(2)
    assert StayNight.objects.filter(block=block).count() == 4  # 2 rooms × 2 nights
    stay = Stay.objects.get(household=big)
    assert (stay.adults + stay.children, stay.status) == (4, StayStatus.PLANNED)

    # 4. Check-in with the hotel's room number, the voucher, the hotel's check of its code.
    office.locator(f"#housed-{big.pk} a").first.click()
    office.locator("#action-checked_in input[name=room_number]").fill("204")
    office.locator("#action-checked_in button").click()
    expect(office.locator("#stay-status")).to_have_text("Checked in")
    expect(office.locator("#room-number")).to_have_text("204")
    assert set(Person.objects.filter(household=big).values_list("status", flat=True)) == {
        "accommodated"
    }
    pdf = office.request.get(office.locator("#voucher-pdf").get_attribute("href") or "")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    png = office.request.get(office.locator("#voucher-png").get_attribute("href") or "")
    assert png.ok and png.body().startswith(b"\x89PNG")
    hotel_desk = new_page()  # nobody signed in: the hotel scanning the code
    hotel_desk.goto(f"/voucher/{voucher_code(stay)}/")
    expect(hotel_desk.locator("#voucher-valid")).to_be_visible()
    expect(hotel_desk.locator("body")).to_contain_text("Hotel Caspian Baku")
    for person in Person.objects.filter(household=big):
        expect(hotel_desk.locator("body")).not_to_contain_text(person.surname)
        expect(hotel_desk.locator("body")).not_to_contain_text(person.reference_code)

    # 5. Check-out on the first day: the first night is kept, the second goes back.
    office.locator("#action-checked_out button").click()
    expect(office.locator("#stay-status")).to_have_text("Checked out")
    assert StayNight.objects.filter(stay=stay).count() == 1
    hotel_desk.reload()
    expect(hotel_desk.locator("#voucher-invalid")).to_be_visible()

    # 6. The ledger: without a rate the USD nights are flagged; with one they convert.
    office.goto("/shelter/")
    office.get_by_role("link", name="Cost ledger").first.click()
    expect(office.locator("#ledger-missing")).to_contain_text("USD")
    expect(office.locator("#ledger-grand")).to_contain_text("240.00 USD")  # 3 room-nights × 80
    office.get_by_role("link", name="Exchange rates").first.click()
    office.fill("#id_currency", "USD")
    office.fill("#id_rate", "520")
    office.fill("#id_valid_from", (today - timedelta(days=7)).isoformat())
    office.get_by_role("button", name="Record").click()
    expect(office.locator("#rates")).to_contain_text("USD")
    office.get_by_role("link", name="Cost ledger").first.click()
    expect(office.locator("#ledger-missing")).to_have_count(0)
    expect(office.locator("#ledger-grand")).to_contain_text("124,800.00 KZT")
    expect(office.locator("#ledger-hotels")).to_contain_text("Hotel Caspian Baku")
    xlsx = office.request.get(office.locator("#ledger-xlsx").get_attribute("href") or "")
    assert xlsx.ok and xlsx.body().startswith(b"PK")

    # 7. A third household housed by hand in the room the officer chooses (plain form).
    third = register_household(world, 2)
    office.goto("/shelter/assign/")
    office.fill("#id_household", f"H{third.pk}")
    office.select_option("#id_hotel", str(hotel.pk))
    office.fill("#id_first_night", (today + timedelta(days=2)).isoformat())
    office.fill("#id_last_night", (today + timedelta(days=3)).isoformat())
    office.locator("#choose-rooms").click()
    expect(office.locator("#rooms-blocks")).to_contain_text("Room 1")
    expect(office.locator("#id_room_1")).to_contain_text("free rooms: 2")
    office.select_option("#id_room_1", str(block.pk))
    for person in Person.objects.filter(household=third):
        office.select_option(f"#id_guest_{person.pk}", "1")
    office.locator("#house-in-rooms").click()
    expect(office.locator(".alert-success")).to_contain_text("Household housed in")
    (chosen,) = Stay.objects.filter(household=third)
    assert chosen.block == block and StayNight.objects.filter(stay=chosen).count() == 2
