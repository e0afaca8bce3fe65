"""The citizen-facing pages through Django's test client: register a household without
JavaScript, come back with the code, update, and the abuse guards."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from aman.core.models import AuditEntry, Crisis
from aman.core.roles import Role
from aman.registry.models import IntakeRecord, Person
from aman.registry.services import registration_submit
from tests.conftest import World


@pytest.fixture(autouse=True)
def _public(world: World) -> None:
    cache.clear()
    Crisis.objects.filter(pk=world.crisis.pk).update(public_registration=True)


def form_data(client: Client, members: list[dict[str, str]], **extra: str) -> dict[str, Any]:
    page = client.get("/register/").content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    assert "form_token" in hidden and "crisis" in hidden
    data: dict[str, Any] = {
        **{k: v for k, v in hidden.items() if k != "csrfmiddlewaretoken"},
        "country": "IR",
        "city": "Tehran",
        "address": "Hotel Azadi",
        "phone": "+7 701 555 66 77",
        "email": "",
        "intent": "leave",
        "consent": "on",
        "m-TOTAL_FORMS": str(len(members)),
        "m-INITIAL_FORMS": "0",
        "m-MIN_NUM_FORMS": "1",
        "m-MAX_NUM_FORMS": "10",
        "submit": "1",
    }
    for i, member in enumerate(members):
        data.update({f"m-{i}-{k}": v for k, v in member.items()})
    data.update(extra)
    return data


MOTHER = {
    "surname": "Сейітова",
    "given_names": "Дана",
    "birth_date": "1988-02-29",
    "sex": "F",
    "passport": "N7654321",
    "pregnant": "on",
}
SON = {"surname": "Сейітов", "given_names": "Ерлан", "birth_date": "2016-06-01", "sex": "M"}


def test_a_family_registers_and_gets_codes(world: World) -> None:
    client = Client()
    response = client.post("/register/", form_data(client, [MOTHER, SON]))
    assert response.status_code == 302 and response["Location"] == "/register/done/"
    done = client.get("/register/done/").content.decode()
    codes = re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4})</code>", done)
    assert len(codes) == 2
    dana = Person.objects.get(given_names="Дана")
    assert dana.channel == "public_web" and dana.surname_latin == "SEIITOVA"
    assert dana.phones.get().number == "+77015556677"
    assert dana.priority == 5 and dana.household.members.count() == 2
    assert codes[0].replace("-", "") == dana.reference_code


def test_a_resubmitted_form_creates_nothing_new(world: World) -> None:
    client = Client()
    data = form_data(client, [MOTHER])
    client.post("/register/", data)
    client.post("/register/", data)
    assert Person.objects.filter(given_names="Дана").count() == 1


def test_adding_a_person_works_without_javascript(world: World) -> None:
    client = Client()
    data = form_data(client, [MOTHER])
    data.pop("submit")
    data["add_member"] = "1"
    page = client.post("/register/", data).content.decode()
    assert 'name="m-1-surname"' in page and 'value="Сейітова"' in page
    assert "This field is required" not in page
    assert not Person.objects.filter(given_names="Дана").exists()


def test_errors_are_shown_and_the_submission_is_kept(world: World) -> None:
    client = Client()
    data = form_data(client, [{**MOTHER, "birth_date": "2090-01-01"}], consent="")
    page = client.post("/register/", data).content.decode()
    assert page.count('class="error"') >= 2
    assert "between 1900 and today" in page
    assert not Person.objects.filter(given_names="Дана").exists()
    kept = IntakeRecord.objects.get(channel="public_web", outcome="rejected")
    assert {"form.consent", "members.0.birth_date"} <= set(kept.rejection_reasons)
    assert kept.payload["m-0-surname"] == "Сейітова"
    # Structural checks pass but the service refuses: kept as well; then the corrected form
    # goes through with the same form token.
    data = form_data(client, [{**MOTHER, "passport": "N7"}])
    page = client.post("/register/", data).content.decode()
    assert 'class="error"' in page
    rejected = IntakeRecord.objects.filter(channel="public_web", outcome="rejected").latest("id")
    assert "members.0.documents.0.number" in rejected.rejection_reasons
    assert rejected.payload["members"][0]["documents"][0]["number"] == "N7"
    data["m-0-passport"] = "N7654321"
    assert client.post("/register/", data).status_code == 302
    assert Person.objects.filter(given_names="Дана").count() == 1


def test_the_honeypot_registers_no_one_and_keeps_a_cut_rejected_record(world: World) -> None:
    client = Client()
    spam = {**MOTHER, "needs_note": "buy now " * 2000}
    data = form_data(client, [spam], website="http://spam", **{"x" * 300: "y"})
    response = client.post("/register/", data)
    assert response.status_code == 200, "a form too long comes back with its errors"
    valid = client.post("/register/", form_data(client, [SON], website="http://spam"))
    assert valid.status_code == 302, "a valid one is answered as if accepted"
    assert not Person.objects.filter(channel="public_web").exists()
    assert IntakeRecord.objects.filter(rejection_reasons__has_key="honeypot").count() == 2
    kept = IntakeRecord.objects.filter(channel="public_web").earliest("id")
    assert kept.outcome == "rejected" and "honeypot" in kept.rejection_reasons
    assert "website" not in kept.payload and kept.payload["m-0-surname"] == "Сейітова"
    assert len(kept.payload["m-0-needs_note"]) == 500
    assert all(len(k) <= 40 and len(v) <= 500 for k, v in kept.payload.items())


def test_registrations_are_rate_limited_per_address(world: World, settings: Any) -> None:
    settings.AMAN_PUBLIC_REGISTRATIONS_PER_HOUR = 2
    client = Client()
    for i in range(2):
        assert (
            client.post(
                "/register/", form_data(client, [{**SON, "given_names": f"A{i}"}])
            ).status_code
            == 302
        )
    assert client.post("/register/", form_data(client, [SON])).status_code == 429


def test_only_registrations_sent_count_and_one_over_the_limit_is_kept(
    world: World, settings: Any
) -> None:
    settings.AMAN_PUBLIC_REGISTRATIONS_PER_HOUR = 2
    client = Client()
    for _ in range(3):  # a family behind one address, correcting its form
        refused = client.post("/register/", form_data(client, [MOTHER], consent=""))
        assert refused.status_code == 200
    for i in range(2):
        sent = client.post("/register/", form_data(client, [{**SON, "given_names": f"A{i}"}]))
        assert sent.status_code == 302
    data = form_data(client, [{**SON, "given_names": "Нұрлан"}])
    over = client.post("/register/", data)
    assert over.status_code == 429
    assert 0 < int(over["Retry-After"]) <= 3600
    page = over.content.decode()
    assert 'value="Нұрлан"' in page and f'value="{data["form_token"]}"' in page
    minutes = int(re.search(r"send it again in (\d+) minute", page).group(1))  # type: ignore[union-attr]
    assert 1 <= minutes <= 60 and "hotline" in page
    kept = IntakeRecord.objects.get(outcome="rejected", rejection_reasons__has_key="rate_limit")
    assert kept.payload["m-0-given_names"] == "Нұрлан"
    assert not Person.objects.filter(given_names="Нұрлан").exists()
    # Sent again while still over the limit: the same record, nothing new.
    assert client.post("/register/", data).status_code == 429
    assert IntakeRecord.objects.filter(outcome="rejected").count() == 3 + 1
    # After the hour, the same form (same token) registers them.
    cache.clear()
    assert client.post("/register/", data).status_code == 302
    assert Person.objects.filter(given_names="Нұрлан").count() == 1


def test_a_refused_form_sent_twice_is_kept_once(world: World) -> None:
    client = Client()
    data = form_data(client, [MOTHER], consent="")
    client.post("/register/", data)
    client.post("/register/", data)
    assert IntakeRecord.objects.filter(channel="public_web", outcome="rejected").count() == 1


def test_status_page_needs_code_and_birth_date_and_allows_updates(world: World) -> None:
    client = Client()
    client.post("/register/", form_data(client, [MOTHER, SON]))
    dana = Person.objects.get(given_names="Дана")
    wrong = client.post(
        "/status/", {"reference_code": dana.reference_code, "birth_date": "1988-03-01"}
    )
    assert "No registration matches" in wrong.content.decode()
    code = f"{dana.reference_code[:4].lower()}-{dana.reference_code[4:].lower()}"
    response = client.post("/status/", {"reference_code": code, "birth_date": "1988-02-29"})
    assert response["Location"] == "/status/me/"
    page = client.get("/status/me/").content.decode()
    assert "Дана" in page and "Registered" in page and "Ерлан" not in page
    client.post(
        "/status/me/",
        {
            "city": "Tabriz",
            "address": "Hotel Gostaresh",
            "intent": "leave",
            "medical_need": "on",
            "pregnant": "on",
            "phone": "+98 912 345 6789",
        },
    )
    dana.refresh_from_db()
    # Tabriz is a city of the reference data: chosen, with the hotel as the address.
    assert dana.city is not None and dana.city.name == "Tabriz"
    assert dana.address == "Hotel Gostaresh" and dana.medical_need and dana.priority == 9
    assert sorted(p.number for p in dana.phones.all()) == ["+77015556677", "+989123456789"]
    update = IntakeRecord.objects.get(kind="update")
    assert update.payload["city"] == "Tabriz" and list(update.people.all()) == [dana]
    client.get("/status/leave/")
    assert client.get("/status/me/")["Location"] == "/status/"


def test_status_guessing_is_rate_limited(world: World, settings: Any) -> None:
    settings.AMAN_PUBLIC_LOOKUPS_PER_15_MINUTES = 3
    client = Client()
    for _ in range(3):
        client.post("/status/", {"reference_code": "AAAA-BBBB", "birth_date": "1980-01-01"})
    assert (
        client.post(
            "/status/", {"reference_code": "AAAA-BBBB", "birth_date": "1980-01-01"}
        ).status_code
        == 429
    )


def test_registration_closed_when_no_crisis_takes_it(world: World) -> None:
    Crisis.objects.update(public_registration=False)
    assert "Registration is not open" in Client().get("/register/").content.decode()


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_pages_are_small_and_in_each_language(world: World, lang: str) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    page = client.get("/register/")
    assert f'<html lang="{lang}">' in page.content.decode()
    assert len(page.content) < 30_000 and "<script" not in page.content.decode()


def test_in_surge_mode_the_form_answers_with_codes_before_the_registry_has_them(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.AMAN_INTAKE_QUEUE = True
    client = Client()
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/register/", form_data(client, [MOTHER, SON]))
    assert response.status_code == 302 and response["Location"] == "/register/done/"
    done = client.get("/register/done/").content.decode()
    codes = re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4})</code>", done)
    assert len(codes) == 2 and "Дана Сейітова" in done
    assert not Person.objects.filter(given_names="Дана").exists(), "still in the queue"
    lookup = client.post("/status/", {"reference_code": codes[0], "birth_date": "1988-02-29"})
    assert "It is being processed" in lookup.content.decode()
    for callback in callbacks:
        callback()
    dana = Person.objects.get(given_names="Дана")
    assert dana.reference_code == codes[0].replace("-", "") and dana.channel == "public_web"
    lookup = client.post("/status/", {"reference_code": codes[0], "birth_date": "1988-02-29"})
    assert lookup.status_code == 302


def test_in_surge_mode_what_needs_no_look_up_is_refused_on_the_form_at_once(
    world: World, settings: Any
) -> None:
    settings.AMAN_INTAKE_QUEUE = True
    client = Client()
    data = form_data(client, [MOTHER, SON], email="dana@company.local")
    response = client.post("/register/", data)
    assert response.status_code == 200, "the form again, not the codes"
    assert "Not a valid email address" in response.content.decode()
    kept = IntakeRecord.objects.get(channel="public_web", outcome="rejected")
    assert kept.reference_codes == [] and "members.0.email" in kept.rejection_reasons


def test_in_surge_mode_a_registration_the_run_refuses_says_so_on_the_codes_page(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.AMAN_INTAKE_QUEUE = True
    client = Client()
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/register/", form_data(client, [MOTHER, SON]))
    assert response.status_code == 302
    assert len(re.findall(r"<code>", client.get("/register/done/").content.decode())) == 2
    # What only the run checks (a look-up) fails: here a member's nationality that is no
    # country, as if the reference data had changed since the form was sent.
    record = IntakeRecord.objects.get(outcome="pending")
    record.payload["members"][1]["nationalities"] = ["QQ"]
    record.save(update_fields=["payload"])
    for callback in callbacks:
        callback()
    done = client.get("/register/done/").content.decode()
    assert "Your registration could not be taken" in done and "<code>" not in done
    assert "Register again" in done
    assert "Person 2: Unknown country QQ." in done, "which person, as the form says it"
    assert not Person.objects.filter(given_names="Дана").exists()


def test_in_surge_mode_the_run_says_what_is_wrong_in_the_language_of_the_form(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.AMAN_INTAKE_QUEUE = True
    client = Client(HTTP_ACCEPT_LANGUAGE="ru")
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post("/register/", form_data(client, [MOTHER])).status_code == 302
    record = IntakeRecord.objects.get(outcome="pending")
    record.payload["members"][0]["nationalities"] = ["QQ"]
    record.save(update_fields=["payload"])
    for callback in callbacks:
        callback()
    done = client.get("/register/done/").content.decode()
    assert "Вашу регистрацию не удалось принять" in done
    assert "Unknown country" not in done, "the reason in Russian, as the form was"


def _queued_then_refused(client: Client, callbacks_capture: Any) -> list[str]:
    """A family registered in surge mode, then refused by the background run (a member's
    nationality that is no country, as if the reference data had changed since): the codes
    the page gave them."""
    with callbacks_capture() as callbacks:
        assert client.post("/register/", form_data(client, [MOTHER, SON])).status_code == 302
    done = client.get("/register/done/").content.decode()
    codes = re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4})</code>", done)
    record = IntakeRecord.objects.get(outcome="pending")
    record.payload["members"][1]["nationalities"] = ["QQ"]
    record.save(update_fields=["payload"])
    for callback in callbacks:
        callback()
    assert IntakeRecord.objects.get(pk=record.pk).outcome == "rejected"
    return codes


def _look_up(client: Client, code: str, birth_date: str) -> Any:
    return client.post("/status/", {"reference_code": code, "birth_date": birth_date})


def test_in_surge_mode_the_status_page_says_a_queued_registration_is_being_processed(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.AMAN_INTAKE_QUEUE = True
    settings.AMAN_PUBLIC_LOOKUPS_PER_15_MINUTES = 2
    client = Client()
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post("/register/", form_data(client, [MOTHER, SON])).status_code == 302
    done = client.get("/register/done/").content.decode()
    codes = re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4})</code>", done)
    # The son's code with his birth date, typed as people type it: received, in the works.
    for _ in range(3):  # a look-up that finds the registration is no failed one
        page = _look_up(client, codes[1].lower(), SON["birth_date"])
        html = page.content.decode()
        assert page.status_code == 200 and "Your registration is received" in html
        assert "It is being processed" in html and "No registration matches" not in html
        assert "Ерлан" not in html and "Дана" not in html, "no names of the registration"
    record = IntakeRecord.objects.get(outcome="pending")
    entry = AuditEntry.objects.filter(verb="public_status_view").latest("id")
    assert (entry.object_type, entry.object_id) == ("registry.intakerecord", str(record.pk))
    assert entry.actor is None and entry.crisis_id == world.crisis.pk
    # His code with his mother's birth date: as if there were no such code, and counted.
    wrong = _look_up(client, codes[1], MOTHER["birth_date"]).content.decode()
    assert "No registration matches this code and birth date." in wrong
    assert "It is being processed" not in wrong
    assert _look_up(client, "AAAA-BBBB", SON["birth_date"]).status_code == 200
    assert _look_up(client, codes[1], SON["birth_date"]).status_code == 429, "two failed"
    for callback in callbacks:
        callback()
    cache.clear()
    assert _look_up(client, codes[1], SON["birth_date"])["Location"] == "/status/me/"


def test_in_surge_mode_the_status_page_says_why_a_refused_registration_was_refused(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.AMAN_INTAKE_QUEUE = True
    settings.AMAN_PUBLIC_LOOKUPS_PER_15_MINUTES = 2
    Crisis.objects.filter(pk=world.crisis.pk).update(hotline_phone="+77172720000")
    client = Client()
    codes = _queued_then_refused(client, django_capture_on_commit_callbacks)
    record = IntakeRecord.objects.get(outcome="rejected")
    for code, member in ((codes[0], MOTHER), (codes[1], SON), (codes[0], MOTHER)):
        page = _look_up(client, code, member["birth_date"])
        html = page.content.decode()
        assert page.status_code == 200, "a code with its birth date is no failed look-up"
        assert "Your registration could not be taken" in html
        assert "was not accepted, so this code is not valid" in html
        assert "<li>Person 2: Unknown country QQ.</li>" in html, "as the codes page says it"
        assert '<a href="/register/">Register again</a>' in html
        assert 'href="tel:+77172720000"' in html, "the crisis's hotline"
        assert "No registration matches" not in html
        assert "Ерлан" not in html and "Дана" not in html, "no names of the registration"
    entries = AuditEntry.objects.filter(verb="public_status_view", object_id=str(record.pk))
    assert entries.count() == 3
    assert entries.latest("id").changes == {"outcome": "rejected"}
    # The code with another member's birth date, or a day off: as if there were no code.
    for code, birth_date in ((codes[1], MOTHER["birth_date"]), (codes[0], "1988-03-01")):
        html = _look_up(client, code, birth_date).content.decode()
        assert "No registration matches this code and birth date." in html
        assert "could not be taken" not in html and "Unknown country" not in html
    assert _look_up(client, codes[0], MOTHER["birth_date"]).status_code == 429


def test_the_status_page_says_a_refused_registration_in_the_language_of_the_page(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.AMAN_INTAKE_QUEUE = True
    codes = _queued_then_refused(Client(), django_capture_on_commit_callbacks)
    for lang, heading in (
        ("ru", "Вашу регистрацию не удалось принять"),
        ("kk", '<html lang="kk">'),
    ):
        html = _look_up(Client(HTTP_ACCEPT_LANGUAGE=lang), codes[1], SON["birth_date"])
        page = html.content.decode()
        assert heading in page and "/register/" in page
        assert "Your registration could not be taken" not in page


def test_a_refused_registration_an_officer_registered_corrected_says_so(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.AMAN_INTAKE_QUEUE = True
    client = Client()
    codes = _queued_then_refused(client, django_capture_on_commit_callbacks)
    refused = IntakeRecord.objects.get(outcome="rejected")
    payload = dict(refused.payload)
    payload["members"] = [dict(m, nationalities=["KZ"]) for m in payload["members"]]
    registration_submit(
        crisis=world.crisis,
        channel="officer",
        payload=payload,
        actor=world.users[Role.OPERATOR],
        corrects=refused,
    )
    html = _look_up(client, codes[0], MOTHER["birth_date"]).content.decode()
    assert "The embassy has since registered it, corrected, with new reference codes" in html
    assert "Unknown country" not in html and "Register again" not in html
    assert not Person.objects.filter(reference_code__in=[c.replace("-", "") for c in codes])


def test_a_registration_queued_through_the_api_is_found_by_its_codes(
    world: World, settings: Any
) -> None:
    client = world.api(Role.OPERATOR)
    response = client.post(
        f"/api/registrations?crisis={world.crisis.pk}",
        data={
            "members": [
                {"surname": "Ли", "given_names": "Анна", "birth_date": "1990-05-17"},
                {"surname": "Ли", "given_names": "Марк", "birth_date": "2019-11-02"},
            ],
            "location": {"country": "IR", "city": "Tehran", "address": "Hotel Azadi"},
            "consent": True,
        },
        content_type="application/json",
        headers={"Prefer": "respond-async", "Idempotency-Key": "queued-1"},
    )
    assert response.status_code == 202, response.content
    codes = response.json()["reference_codes"]
    html = _look_up(Client(), codes[1], "2019-11-02").content.decode()
    assert "It is being processed" in html
    with CaptureQueriesContext(connection) as lookup:
        html = _look_up(Client(), codes[1], "1990-05-17").content.decode()
    assert "No registration matches" in html
    # The queue is found through the codes' index, never read through.
    reads = [q["sql"] for q in lookup.captured_queries if "registry_intakerecord" in q["sql"]]
    assert reads and all(
        'FROM "registry_reservedcode" U0 WHERE U0."code" = ' in q for q in reads
    ), reads


@pytest.mark.parametrize("queued", [False, True], ids=["now", "queued"])
def test_a_form_sent_again_with_changes_is_kept_and_the_person_told(
    world: World, settings: Any, queued: bool
) -> None:
    settings.AMAN_INTAKE_QUEUE = queued
    client = Client()
    data = form_data(client, [MOTHER, SON])
    assert client.post("/register/", data).status_code == 302
    first = IntakeRecord.objects.get(channel="public_web")
    # Back in the browser, a name corrected, the same form sent again.
    data["m-1-given_names"] = "Ерболат"
    again = client.post("/register/", data)
    assert again.status_code == 200, "the form again, with what happened"
    assert "This form was sent already" in again.content.decode()
    kept = IntakeRecord.objects.exclude(pk=first.pk).get(channel="public_web")
    assert kept.outcome == "rejected" and str(first.pk) in kept.rejection_reasons["form_token"]
    assert kept.payload["members"][1]["given_names"] == "Ерболат", "nothing sent is lost"
    # Sent once more unchanged: nothing new is kept.
    client.post("/register/", data)
    assert IntakeRecord.objects.filter(channel="public_web").count() == 2
    # The same form sent again unchanged is the first registration's answer.
    data["m-1-given_names"] = SON["given_names"]
    assert client.post("/register/", data).status_code == 302


def test_the_blank_form_is_rendered_once_per_language_and_crisis_list(world: World) -> None:
    from aman.core.services import crisis_update

    def page(lang: str) -> str:
        html = Client(HTTP_ACCEPT_LANGUAGE=lang).get("/register/").content.decode()
        return re.sub(r'value="[^"]*"', "", html.split('name="website"', 1)[1])

    first, again = page("ru"), page("ru")
    assert first == again, "the second page comes from the kept fields"
    assert "Ваше местонахождение" in first and "Where you are" in page("en")
    assert "Gulf 2026" not in first
    Crisis.objects.filter(pk=world.other_crisis.pk).update(status="open")
    crisis_update(
        actor=world.users["crisis_manager"], crisis=world.other_crisis, public_registration=True
    )
    assert "Gulf 2026" in page("ru"), "a crisis opened to the public shows at once"


def test_the_kept_blank_form_gives_each_visitor_working_tokens_of_their_own(
    world: World,
) -> None:
    """The blank page is kept rendered, but each visitor's copy carries a CSRF token of
    their own session that the check accepts, and a new idempotency token: two people
    never send the same form token (the second would be taken for a retry of the first)."""

    def tokens(client: Client) -> tuple[str, str]:
        page = client.get("/register/").content.decode()
        assert "token-mark" not in page  # (Denmark is in the list of countries)
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
        return hidden["csrfmiddlewaretoken"], hidden["form_token"]

    one, two = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    (csrf_1, token_1), (csrf_2, token_2) = tokens(one), tokens(two)
    assert token_1 != token_2 and len(token_1) >= 20 and csrf_1 != csrf_2
    assert one.cookies["csrftoken"].value != two.cookies["csrftoken"].value
    data = form_data(one, [MOTHER])
    data["csrfmiddlewaretoken"] = tokens(one)[0]
    assert one.post("/register/", data).status_code == 302
    assert Person.objects.filter(given_names="Дана").count() == 1
    # The other visitor's token is refused for this one's session.
    data = form_data(one, [SON])
    data["csrfmiddlewaretoken"] = csrf_2
    assert one.post("/register/", data).status_code == 403
    assert not Person.objects.filter(given_names=SON["given_names"]).exists()


def test_the_form_sees_a_crisis_closed_or_its_countries_changed_at_once(world: World) -> None:
    """The open crises come from the process's copy (core.hot): a change through the
    services renews it for the next request."""
    from aman.core.services import crisis_close, crisis_update
    from aman.geo.models import Country

    client = Client()
    assert 'value="IQ"' in client.get("/register/").content.decode()
    crisis_update(
        actor=world.users["crisis_manager"],
        crisis=world.crisis,
        affected_countries=[Country.objects.get(code="IR")],
    )
    page = client.get("/register/").content.decode()
    assert 'value="IR"' in page and 'value="IQ"' not in page
    data = form_data(client, [SON])
    crisis_close(actor=None, crisis=world.crisis)
    refused = client.post("/register/", data)
    assert "Registration is not open" in refused.content.decode()
    assert not Person.objects.filter(given_names="Ерлан").exists()


def test_a_crisis_the_form_did_not_offer_is_refused(world: World) -> None:
    client = Client()
    data = form_data(client, [SON], crisis=str(world.other_crisis.pk))
    response = client.post("/register/", data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Person.objects.filter(given_names="Ерлан").exists()


def test_a_registration_writes_no_session_and_only_its_own_cookie_shows_codes(
    world: World,
) -> None:
    from django.contrib.sessions.models import Session

    client = Client()
    response = client.post("/register/", form_data(client, [SON]))
    assert response.status_code == 302
    assert Session.objects.count() == 0, "the codes' page is found by a signed cookie"
    cookie = response.cookies["aman_registration"]
    assert cookie["httponly"] and cookie["path"] == "/register/"
    done = client.get("/register/done/").content.decode()
    assert len(re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4})</code>", done)) == 1
    forged = Client()
    record = cookie.value.split(":")[0]
    forged.cookies["aman_registration"] = f"{int(record) - 1}:forged:signature"
    page = forged.get("/register/done/").content.decode()
    assert "<code>" not in page


def test_someone_who_crossed_over_land_registers_where_they_wait(world: World) -> None:
    """The form offers the crisis's countries, not only the affected ones: where its
    crossings lead (Armenia, for Iran) and what its missions cover — at once when a
    mission's area grows (core.hot) — never the home country."""
    from aman.geo.models import Country

    client = Client()
    page = client.get("/register/").content.decode()
    offered = set(re.findall(r'<option value="([A-Z]{2})"', page.split('name="country"')[1]))
    assert {"IR", "AM", "AZ", "TR"} <= offered and "KZ" not in offered and "GE" not in offered
    response = client.post("/register/", form_data(client, [MOTHER], country="AM", city="Yerevan"))
    assert response.status_code == 302, response.content.decode()[:2000]
    dana = Person.objects.get(given_names="Дана")
    assert dana.country.code == "AM" and dana.crisis_id == world.crisis.pk
    mission = world.crisis.missions.first()
    assert mission is not None
    mission.area.add(Country.objects.get(code="GE"))
    assert 'value="GE"' in client.get("/register/").content.decode()
