"""Hotel vouchers through the pages: the printable voucher in the contact person's language,
the QR code, the signed code, the public check page (no names), refusals, audit and access."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import translation

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Document, Household, Person
from aman.shelter import vouchers
from aman.shelter.models import Stay, StayStatus
from aman.shelter.services import household_house, stay_set_status
from tests.conftest import World
from tests.shelter.conftest import make_block, make_hotel, register_household, today
from tests.transport.pdftext import pdf_pages, pdf_text

pytestmark = pytest.mark.django_db

URL = re.compile(r"http://testserver/voucher/(AMANV1:\d+:[A-Z2-7]{16})/")


@pytest.fixture
def housed(world: World, logistics: Any) -> dict[str, Any]:
    hotel = make_hotel(world, name="Hotel Caspian Voucher", phone="+994 12 555 01 02")
    block = make_block(hotel, world, contract_ref="AZ-2026-077", meals="half_board")
    household = register_household(world, 3)
    members = list(Person.objects.filter(household=household).order_by("id"))
    first = members[0]
    Document.objects.filter(person=first).update(
        surname_latin="AHMETOV", given_names_latin="NURLAN"
    )
    Person.objects.filter(household=household).update(language="en")
    (stay,) = household_house(
        actor=logistics,
        crisis=world.crisis,
        household=household,
        hotel=hotel,
        first_night=today(),
        last_night=today() + timedelta(days=2),
    )
    return {
        "hotel": hotel,
        "block": block,
        "household": household,
        "members": members,
        "stay": stay,
    }


def _voucher(world: World, stay: Stay, fmt: str = "pdf", persona: str = Role.LOGISTICS) -> Any:
    return world.client(persona).get(f"/shelter/stays/{stay.pk}/voucher.{fmt}")


def _check_url(world: World, stay: Stay) -> str:
    text = pdf_text(_voucher(world, stay).content)
    found = URL.search(text)
    assert found, f"no check address in the voucher: {text[:300]}"
    return found.group(0)


def test_the_printable_voucher(world: World, housed: dict) -> None:
    stay = housed["stay"]
    response = _voucher(world, stay)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert response.content.startswith(b"%PDF-")
    assert pdf_pages(response.content) == 1
    text = pdf_text(response.content)
    assert "Ministry of Foreign Affairs" in text
    assert "Hotel Caspian Voucher" in text
    assert "+994 12 555 01 02" in text
    assert "AHMETOV NURLAN" in text  # the name as in the passport
    for member in housed["members"]:
        assert member.reference_code_display in text
    assert "AZ-2026-077" in text
    assert f"V-{stay.pk:06d}" in text
    assert today().strftime("%d.%m.%Y") in text
    assert stay.check_out_day.strftime("%d.%m.%Y") in text
    assert "State budget" in text
    assert "check this voucher by scanning the code" in text
    # The printed address opens the check page of this very stay.
    code = URL.search(text).group(1)  # type: ignore[union-attr]
    assert vouchers.stay_for_code(code) == stay
    entry = AuditEntry.objects.get(verb="stay_voucher", object_id=str(stay.pk))
    assert entry.action == AuditEntry.Action.EXPORT
    assert entry.actor == world.users[Role.LOGISTICS]
    assert entry.changes == {"format": "pdf", "guests": 3}


def test_the_voucher_is_in_the_contact_persons_language(world: World, housed: dict) -> None:
    household: Household = housed["household"]
    household.refresh_from_db()
    contact = household.contact or housed["members"][0]
    Person.objects.filter(pk=contact.pk).update(language="ru")
    response = _voucher(world, housed["stay"])
    text = pdf_text(response.content)
    assert "Министерство иностранных дел" in text  # "Ministry of Foreign Affairs"
    assert "Ministry of Foreign Affairs" not in text
    assert "AHMETOV NURLAN" in text  # names stay as in the passport
    stay = Stay.objects.select_related("block__hotel__place").get(pk=housed["stay"].pk)
    voucher = vouchers.stay_voucher(stay, url_for=lambda code: f"https://x/{code}")
    assert voucher.language == "ru"
    with translation.override("en"):
        html = vouchers.render_voucher_html(voucher)
        assert translation.get_language() == "en"  # the reader's language is left as it was
    assert 'lang="ru"' in html


def test_the_qr_code_as_png_carries_the_check_address(world: World, housed: dict) -> None:
    from PIL import Image

    stay = housed["stay"]
    response = _voucher(world, stay, "png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(response.content))
    assert image.width == image.height >= 200
    # No QR decoder here: the PNG is exactly the QR code of the check page's address.
    url = f"http://testserver/voucher/{vouchers.voucher_code(stay)}/"
    assert response.content == vouchers.qr_png(url)
    assert response.content != vouchers.qr_png(url.replace("AMANV1", "AMANV2"))


def test_the_check_page_says_valid_and_names_nobody(world: World, housed: dict) -> None:
    stay = housed["stay"]
    url = _check_url(world, stay)
    response = world.client("anonymous").get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="voucher-valid"' in html and "VALID" in html
    assert 'id="voucher-invalid"' not in html
    assert "Hotel Caspian Voucher" in html
    assert "AZ-2026-077" in html
    assert f"V-{stay.pk:06d}" in html
    assert "3 nights" in html
    assert today().strftime("%d.%m.%Y") in html
    assert stay.adults + stay.children == 3
    assert f"<dt>Adults</dt><dd>{stay.adults}</dd>" in html
    assert f"<dt>Children</dt><dd>{stay.children}</dd>" in html
    assert "<dt>Meals</dt><dd>Half board</dd>" in html
    # Nobody's name or reference code, in any script.
    for member in housed["members"]:
        for text in (
            member.surname,
            member.given_names,
            member.surname_latin,
            member.reference_code,
            member.reference_code_display,
        ):
            if text:
                assert text not in html, text
    assert "AHMETOV" not in html and "NURLAN" not in html
    assert response["Cache-Control"] == "no-store"


def test_the_check_page_works_in_the_visitors_language(world: World, housed: dict) -> None:
    url = _check_url(world, housed["stay"])
    response = world.client("anonymous").get(url, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    assert '<html lang="ru">' in response.content.decode()


def test_cancelled_stay_is_not_valid_and_has_no_voucher(
    world: World, housed: dict, logistics: Any
) -> None:
    stay = housed["stay"]
    url = _check_url(world, stay)
    stay_set_status(actor=logistics, stay=stay, status=StayStatus.CANCELLED, note="flight moved")
    response = world.client("anonymous").get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="voucher-invalid"' in html and "NOT VALID" in html
    assert "cancelled" in html
    assert 'id="voucher-valid"' not in html
    # No voucher for a stay that holds no room, with a clear word why.
    before = AuditEntry.objects.filter(verb="stay_voucher").count()
    for fmt in ("pdf", "png"):
        refused = _voucher(world, stay, fmt)
        assert refused.status_code == 409
        assert "holds no room" in refused.content.decode()
        assert "cancelled" in refused.content.decode()
    assert AuditEntry.objects.filter(verb="stay_voucher").count() == before


def test_no_show_is_not_valid(world: World, housed: dict, logistics: Any) -> None:
    stay = housed["stay"]
    url = _check_url(world, stay)
    stay_set_status(actor=logistics, stay=stay, status=StayStatus.NO_SHOW)
    html = world.client("anonymous").get(url).content.decode()
    assert "NOT VALID" in html and "no-show" in html
    assert _voucher(world, stay).status_code == 409


def test_a_checked_out_stays_voucher_prints_marked_used(
    world: World, housed: dict, logistics: Any
) -> None:
    stay = housed["stay"]
    url = _check_url(world, stay)
    stay = stay_set_status(
        actor=logistics, stay=stay, status=StayStatus.CHECKED_IN, room_number="204"
    )
    assert "VALID" in world.client("anonymous").get(url).content.decode()
    stay_set_status(actor=logistics, stay=stay, status=StayStatus.CHECKED_OUT)
    response = _voucher(world, stay)
    assert response.status_code == 200
    assert "Used: checked out" in pdf_text(response.content)
    html = world.client("anonymous").get(url).content.decode()
    assert "NOT VALID" in html and "checked out" in html


def _unknown(response: Any) -> str:
    assert response.status_code == 404
    html = response.content.decode()
    assert 'id="voucher-unknown"' in html and "not known" in html
    # The page without its CSRF token (per render) and the address it was asked at (the
    # language switcher's way back), to compare two answers.
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r'name="next" value="[^"]*"', "", html)


def test_forged_or_moved_codes_are_not_known(world: World, housed: dict, logistics: Any) -> None:
    stay = housed["stay"]
    other = household_house(
        actor=logistics,
        crisis=world.crisis,
        household=register_household(world, 2),
        hotel=housed["hotel"],
        first_night=today(),
        last_night=today() + timedelta(days=1),
    )[0]
    code = vouchers.voucher_code(stay)
    stay_id, signature = vouchers.parse_voucher(code)
    client = world.client("anonymous")
    assert client.get(f"/voucher/{code}/").status_code == 200
    assert client.get(f"/voucher/{code.lower()}/").status_code == 200  # typed in lower case
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    forged = _unknown(client.get(f"/voucher/AMANV1:{stay_id}:{flipped}/"))
    # Another stay's number with this stay's signature: refused.
    moved = _unknown(client.get(f"/voucher/AMANV1:{other.pk}:{signature}/"))
    # A stay number that does not exist answers exactly as a forged signature.
    unknown = _unknown(client.get(f"/voucher/AMANV1:{other.pk + 1000}:{signature}/"))
    assert forged == moved == unknown
    _unknown(client.get("/voucher/AMANV1:12/"))
    _unknown(client.get("/voucher/hello/"))
    _unknown(client.get(f"/voucher/AMAN1:{stay_id}:1:{signature}/"))  # a boarding pass
    # The signature covers the room and the first night: the same stay moved is refused.
    Stay.objects.filter(pk=stay.pk).update(room=stay.room + 1)
    _unknown(client.get(f"/voucher/{code}/"))
    Stay.objects.filter(pk=stay.pk).update(room=stay.room, first_night=today() + timedelta(1))
    _unknown(client.get(f"/voucher/{code}/"))


def test_who_may_print_a_voucher(world: World, housed: dict) -> None:
    stay = housed["stay"]
    for persona in (Role.CONSUL, Role.OBSERVER, Role.OPERATOR):
        assert _voucher(world, stay, persona=persona).status_code == 403
    assert _voucher(world, stay, persona="anonymous").status_code == 302
    assert _voucher(world, stay, persona=Role.CRISIS_MANAGER).status_code == 200
    assert _voucher(world, stay, "txt").status_code == 404
    # A stay of another crisis is not found.
    world.users[Role.LOGISTICS].current_crisis = world.other_crisis
    world.users[Role.LOGISTICS].save()
    assert _voucher(world, stay).status_code == 404


def test_codes_parse_strictly() -> None:
    with pytest.raises(vouchers.BadVoucher):
        vouchers.parse_voucher("AMANV1:１２:AAAAAAAAAAAAAAAA")  # full-width digits
    with pytest.raises(vouchers.BadVoucher):
        vouchers.parse_voucher("AMANV1:1:AAAAAAAAAAAAAAA1")
    with pytest.raises(vouchers.BadVoucher):
        vouchers.parse_voucher("AMANV1:1234567890123:AAAAAAAAAAAAAAAA")
    assert vouchers.parse_voucher(" amanv1:7:abcdefghijklmnop ") == (7, "ABCDEFGHIJKLMNOP")


def test_guessing_codes_from_one_address_is_slowed_down(
    world: World, housed: dict, settings: Any
) -> None:
    settings.AMAN_PUBLIC_LOOKUPS_PER_15_MINUTES = 3
    code = vouchers.voucher_code(housed["stay"])
    stay_id, signature = vouchers.parse_voucher(code)
    client = world.client("anonymous")
    assert client.get(f"/voucher/{code}/").status_code == 200  # genuine codes do not count
    for n in range(3):
        guess = f"AMANV1:{stay_id + 1 + n}:{signature}"
        assert client.get(f"/voucher/{guess}/").status_code == 404
    blocked = client.get(f"/voucher/{code}/")
    assert blocked.status_code == 429 and blocked["Retry-After"] == "900"
    assert "Too many unknown vouchers" in blocked.content.decode()
    assert "VALID" not in blocked.content.decode()
