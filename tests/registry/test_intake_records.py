"""Intake records — every submission as received — listed for officers through the API and
the operator pages, scoped and audited; a rejected one registered after correction; and the
people list's filters checked against their choices."""

from __future__ import annotations

import copy
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from aman.core.models import AuditEntry, Crisis
from aman.core.roles import Role
from aman.registry.models import IntakeRecord, Person
from tests.conftest import World


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def _submit(world: World, body: Any, persona: str = Role.OPERATOR) -> Any:
    return post(world.api(persona), f"/api/registrations?crisis={world.crisis.pk}", body)


def _bad(family: dict[str, Any], country: str) -> dict[str, Any]:
    """A registration refused for its IIN, with a phone to call back."""
    body = copy.deepcopy(family)
    body["members"][0]["iin"] = "123"
    body["location"]["country"] = country
    return body


@pytest.fixture
def records(world: World, family: dict[str, Any]) -> dict[str, IntakeRecord]:
    accepted = _submit(world, family)
    assert accepted.status_code == 201
    out = {"accepted": IntakeRecord.objects.get(pk=accepted.json()["intake_record"])}
    for country in ("IR", "IQ", "ZZ"):
        refused = _submit(world, _bad(family, country))
        assert refused.status_code == 400
        out[country] = IntakeRecord.objects.get(pk=refused.json()["extra"]["intake_record"])
    return out


def _list(world: World, persona: str, **params: Any) -> Any:
    return world.api(persona).get("/api/registrations", {"crisis": world.crisis.pk, **params})


def test_the_api_lists_rejected_submissions_with_what_was_sent(
    world: World, records: dict[str, IntakeRecord], family: dict[str, Any]
) -> None:
    response = _list(world, Role.OPERATOR, outcome="rejected")
    assert response.status_code == 200, response.content
    body = response.json()
    ids = [r["id"] for r in body["items"]]
    assert ids == [records["ZZ"].pk, records["IQ"].pk, records["IR"].pk], "newest first"
    assert body["count"] == 3 and body["count_exact"] is True
    ir = body["items"][2]
    assert ir["outcome"] == "rejected" and ir["channel"] == "api" and ir["country"] == "IR"
    assert "members.0.iin" in [e["field"] for e in ir["errors"]]
    assert ir["payload"] == json.loads(json.dumps(_bad(family, "IR")))
    assert ir["people"] == [] and ir["actor"] == Role.OPERATOR
    assert body["items"][0]["country"] is None, "ZZ is no country"
    # The accepted one: the people it matched, no payload.
    accepted = _list(world, Role.OPERATOR, outcome="accepted").json()["items"]
    mine = next(r for r in accepted if r["id"] == records["accepted"].pk)
    assert mine["payload"] is None and len(mine["people"]) == 3
    assert {p["reference_code"] for p in mine["people"]} == set(
        records["accepted"].people.values_list("reference_code", flat=True)
    )
    # Paging and the time filter.
    page = _list(world, Role.OPERATOR, outcome="rejected", limit=1, offset=1).json()
    assert [r["id"] for r in page["items"]] == [records["IQ"].pk] and page["count"] == 3
    later = (timezone.now() + timedelta(minutes=5)).isoformat()
    assert _list(world, Role.OPERATOR, since=later).json()["count"] == 0
    assert _list(world, Role.OPERATOR, channel="public_web").json()["count"] == 0


def test_every_read_of_the_list_is_audited_without_the_data(
    world: World, records: dict[str, IntakeRecord]
) -> None:
    _list(world, Role.OPERATOR, outcome="rejected")
    entry = AuditEntry.objects.filter(verb="intake_list").latest("id")
    assert entry.actor == world.users[Role.OPERATOR] and entry.action == "read"
    assert entry.changes["records"] == [records[c].pk for c in ("ZZ", "IQ", "IR")]
    assert entry.changes["filters"] == {"outcome": "rejected"}
    assert "8 701" not in json.dumps(entry.changes) and "N12345678" not in json.dumps(entry.changes)


def test_bad_filters_are_refused_with_the_allowed_values(world: World) -> None:
    response = _list(world, Role.OPERATOR, outcome="lost")
    assert response.status_code == 400
    assert response.json()["extra"] == {
        "field": "outcome",
        "allowed": ["pending", "accepted", "rejected"],
    }
    assert _list(world, Role.OPERATOR, channel="fax").status_code == 400
    assert _list(world, Role.OPERATOR, kind="x").status_code == 400


def test_only_those_who_see_personal_data_list_them_and_a_consul_their_countries(
    world: World, records: dict[str, IntakeRecord]
) -> None:
    assert _list(world, Role.OBSERVER).status_code == 403
    assert _list(world, Role.PARTNER_LIAISON).status_code == 403
    manager = {r["id"] for r in _list(world, Role.CRISIS_MANAGER).json()["items"]}
    assert {records[k].pk for k in ("accepted", "IR", "IQ", "ZZ")} <= manager
    # The Tehran consul: Iran only — the accepted household (in Iran) and the refused one
    # naming Iran; not Iraq's, not the one naming no known country.
    consul = {r["id"] for r in _list(world, Role.CONSUL).json()["items"]}
    assert records["accepted"].pk in consul and records["IR"].pk in consul
    assert records["IQ"].pk not in consul and records["ZZ"].pk not in consul


def test_a_consul_sees_a_record_whose_people_moved_into_their_area(
    world: World, family: dict[str, Any]
) -> None:
    body = copy.deepcopy(family)
    body["location"]["country"] = "IQ"
    record = IntakeRecord.objects.get(pk=_submit(world, body).json()["intake_record"])
    assert record.pk not in {r["id"] for r in _list(world, Role.CONSUL).json()["items"]}
    Person.objects.filter(intake_records=record).update(
        country=record.crisis.affected_countries.get(code="IR")
    )
    seen = [r for r in _list(world, Role.CONSUL).json()["items"] if r["id"] == record.pk]
    assert len(seen) == 1 and len(seen[0]["people"]) == 3


def test_the_page_lists_opens_and_corrects_a_rejected_registration(
    world: World, records: dict[str, IntakeRecord]
) -> None:
    client = world.client(Role.OPERATOR)
    page = client.get("/people/intake/", {"outcome": "rejected"})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('href="/people/intake/') >= 3 and "members.0.iin" in html
    assert "Submissions" in html
    detail = client.get(f"/people/intake/{records['IR'].pk}/").content.decode()
    assert "N12345678" in detail and "Why it was rejected" in detail
    assert f"/people/new/?from_intake={records['IR'].pk}" in detail
    assert AuditEntry.objects.filter(verb="intake_detail", object_id=str(records["IR"].pk)).exists()
    form = client.get(f"/people/new/?from_intake={records['IR'].pk}").content.decode()
    assert 'value="Жұмабек"' in form and 'value="N12345678"' in form and 'value="123"' in form
    assert re.search(r'<option value="IR" selected>', form)
    assert AuditEntry.objects.filter(verb="intake_correct").count() == 1
    # A consul does not open another country's record.
    assert world.client(Role.CONSUL).get(f"/people/intake/{records['IQ'].pk}/").status_code == 404
    assert world.client(Role.OBSERVER).get("/people/intake/").status_code == 403


def test_a_refused_public_form_can_be_registered_from_the_hotline_form(world: World) -> None:
    cache.clear()
    Crisis.objects.filter(pk=world.crisis.pk).update(public_registration=True)
    public = Client()
    page = public.get("/register/").content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    refused = {
        **{k: v for k, v in hidden.items() if k != "csrfmiddlewaretoken"},
        "country": "IR",
        "city": "Tehran",
        "address": "Hotel Azadi",
        "phone": "+7 701 555 66 77",
        "intent": "leave",
        "m-TOTAL_FORMS": "1",
        "m-INITIAL_FORMS": "0",
        "m-MIN_NUM_FORMS": "1",
        "m-MAX_NUM_FORMS": "10",
        "m-0-surname": "Сейітова",
        "m-0-given_names": "Дана",
        "m-0-birth_date": "1988-02-29",
        "m-0-pregnant": "on",
    }  # no consent: refused by the form
    assert public.post("/register/", refused).status_code == 200
    record = IntakeRecord.objects.get(outcome="rejected", channel="public_web")
    assert record.country is not None and record.country.code == "IR"
    client = world.client(Role.OPERATOR)
    form = client.get(f"/people/new/?from_intake={record.pk}").content.decode()
    assert 'value="Сейітова"' in form and 'value="+7 701 555 66 77"' in form
    assert 'name="m-0-pregnant" id="id_m-0-pregnant" checked' in form or re.search(
        r'name="m-0-pregnant"[^>]*checked', form
    )
    token = re.search(r'name="form_token" value="([^"]+)"', form)
    assert token is not None
    assert f'name="corrects" value="{record.pk}"' in form and 'id="correcting"' in form
    data = {
        "form_token": token.group(1),
        "corrects": str(record.pk),
        "country": "IR",
        "city": "Tehran",
        "address": "Hotel Azadi",
        "phone": "+7 701 555 66 77",
        "intent": "leave",
        "language": "kk",
        "consent": "on",
        "m-TOTAL_FORMS": "1",
        "m-INITIAL_FORMS": "1",
        "m-MIN_NUM_FORMS": "1",
        "m-MAX_NUM_FORMS": "20",
        "m-0-surname": "Сейітова",
        "m-0-given_names": "Дана",
        "m-0-birth_date": "1988-02-29",
        "m-0-eligibility": "citizen",
        "m-0-pregnant": "on",
    }
    response = client.post("/people/new/", data, follow=True)
    assert "Registered. Reference codes" in response.content.decode()
    dana = Person.objects.get(given_names="Дана")
    assert dana.pregnant and dana.phones.get().number == "+77015556677"
    record.refresh_from_db()
    assert record.outcome == "rejected", "the refused submission stays as it was received"
    # The correction names the refused submission, which lists it and is no longer offered
    # for correction nor listed among those still to correct.
    correction = IntakeRecord.objects.get(outcome="accepted", people=dana)
    assert correction.corrects_id == record.pk
    detail = client.get(f"/people/intake/{record.pk}/").content.decode()
    assert 'id="intake-corrections"' in detail and f"submission {correction.pk}" in detail
    assert 'id="intake-correct"' not in detail
    listed = client.get("/people/intake/", {"to_correct": "on"}).content.decode()
    assert f'href="/people/intake/{record.pk}/"' not in listed
    assert f"corrects #{record.pk}" in client.get("/people/intake/").content.decode()


def test_the_api_names_the_rejected_registration_a_correction_corrects(
    world: World, family: dict[str, Any], records: dict[str, IntakeRecord]
) -> None:
    to_correct = _list(world, Role.OPERATOR, to_correct=True).json()["items"]
    assert {r["id"] for r in to_correct} == {records[c].pk for c in ("IR", "IQ", "ZZ")}
    api = world.api(Role.OPERATOR)
    path = f"/api/registrations?crisis={world.crisis.pk}&corrects="
    # Still wrong: kept, rejected again, naming what it corrects; still to correct.
    again = post(api, path + str(records["IR"].pk), _bad(family, "IR"))
    assert again.status_code == 400
    retried = IntakeRecord.objects.get(pk=again.json()["extra"]["intake_record"])
    assert retried.corrects_id == records["IR"].pk
    assert records["IR"].pk in {
        r["id"] for r in _list(world, Role.OPERATOR, to_correct=True).json()["items"]
    }
    fixed = copy.deepcopy(family)
    fixed["members"][0]["documents"][0]["number"] = "N55554444"
    response = post(api, path + str(records["IR"].pk), fixed)
    assert response.status_code == 201, response.content
    record = IntakeRecord.objects.get(pk=response.json()["intake_record"])
    assert record.corrects_id == records["IR"].pk
    items = _list(world, Role.OPERATOR, to_correct=True).json()["items"]
    assert {r["id"] for r in items} == {records["IQ"].pk, records["ZZ"].pk}
    listed = {r["id"]: r for r in _list(world, Role.OPERATOR).json()["items"]}
    assert listed[record.pk]["corrects"] == records["IR"].pk
    # Only a rejected registration the user may see can be corrected.
    bad = post(api, path + str(records["accepted"].pk), family)
    assert bad.status_code == 400 and bad.json()["extra"] == {"corrects": records["accepted"].pk}
    assert post(api, path + "999999", family).status_code == 404
    consul = post(world.api(Role.CONSUL), path + str(records["IQ"].pk), family)
    assert consul.status_code == 404


def test_people_filters_are_checked_against_their_choices(world: World) -> None:
    api = world.api(Role.OPERATOR)
    response = api.get("/api/people", {"crisis": world.crisis.pk, "intent": "zz"})
    assert response.status_code == 400
    body = response.json()
    assert body["extra"] == {"field": "intent", "allowed": ["leave", "stay", "undecided"]}
    assert "leave, stay, undecided" in body["message"]
    for field in ("status", "channel", "eligibility"):
        assert api.get("/api/people", {field: "zz"}).status_code == 400, field
    ok = api.get(
        "/api/people", {"crisis": world.crisis.pk, "intent": "leave", "status": "registered"}
    )
    assert ok.status_code == 200 and ok.json()["count"] == 2


def test_a_refused_iin_is_not_repeated_in_the_reasons_kept(
    world: World, family: dict[str, Any]
) -> None:
    """The reasons are kept with the rejected input and shown on pages and in files: they
    say what is wrong with the IIN without the number itself, in the reader's language."""
    body = copy.deepcopy(family)
    body["members"][0]["iin"] = "88022945012"  # eleven digits
    refused = _submit(world, body)
    assert refused.status_code == 400
    record = IntakeRecord.objects.get(pk=refused.json()["extra"]["intake_record"])
    reason = record.rejection_reasons["members.0.iin"]
    assert "88022945012" not in json.dumps(record.rejection_reasons)
    assert "88022945012" not in refused.content.decode()
    assert "12 digits; this one has 11" in str(reason)
    body["members"][0]["iin"] = "540302300002"  # a wrong check digit
    russian = world.api(Role.OPERATOR).post(
        f"/api/registrations?crisis={world.crisis.pk}",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Accept-Language": "ru"},
    )
    assert russian.status_code == 400
    text = json.dumps(russian.json(), ensure_ascii=False)
    assert "540302300002" not in text and "контрольн" in text.lower()


def test_a_refused_registration_corrected_keeps_the_passport_spelling(
    world: World, family: dict[str, Any]
) -> None:
    """The names as printed in the passport (the citizen's own spelling) and its issuing
    state come back in the form that corrects a refused registration: saving it must not
    regenerate them from the Cyrillic."""
    body = copy.deepcopy(family)
    body["members"][0]["documents"][0].update(
        surname_latin="JUMABEK", given_names_latin="NURLAN", issuing_state="KAZ"
    )
    body["members"][0]["iin"] = "123"
    refused = _submit(world, body)
    assert refused.status_code == 400
    record = refused.json()["extra"]["intake_record"]
    form = world.client(Role.OPERATOR).get(f"/people/new/?from_intake={record}").content.decode()
    assert re.search(r'name="m-0-surname_latin"[^>]*value="JUMABEK"', form), form[:3000]
    assert re.search(r'name="m-0-given_names_latin"[^>]*value="NURLAN"', form)
    assert re.search(r'name="m-0-passport_issuing_state"[^>]*value="KAZ"', form)
    assert re.search(r'name="m-0-passport"[^>]*value="N12345678"', form)


def test_a_refused_registration_corrected_keeps_each_citizenship_sent(
    world: World, family: dict[str, Any]
) -> None:
    """The form that corrects a refused registration shows the citizenship sent, by its
    name; a person sent without one comes without one (the registry's default), not with
    the form's; saved, they are recorded as sent."""
    body = copy.deepcopy(family)
    body["members"][0]["iin"] = "123"
    body["members"][1].update(eligibility="family_member", nationalities=["IR"])
    refused = _submit(world, body)
    assert refused.status_code == 400
    record = refused.json()["extra"]["intake_record"]
    client = world.client(Role.OPERATOR)
    form = client.get(f"/people/new/?from_intake={record}").content.decode()
    assert re.search(r'name="m-1-nationality" value="Iran[^"]*"', form), form
    assert re.search(r'name="m-0-nationality" list="countries"', form), "none: none shown"
    token = re.search(r'name="form_token" value="([^"]+)"', form)
    assert token is not None
    posted = dict(
        re.findall(r'<input type="(?:text|date|hidden)" name="([^"]+)" value="([^"]*)"', form)
    )
    posted.update(
        {
            "form_token": token.group(1),
            "corrects": str(record),
            "m-0-iin": "",
            "m-0-eligibility": "citizen",
            "m-1-eligibility": "family_member",
            "m-2-eligibility": "citizen",
            "country": "IR",
            "intent": "leave",
            "language": "kk",
            "consent": "on",
        }
    )
    posted.pop("csrfmiddlewaretoken", None)
    response = client.post("/people/new/", posted, follow=True)
    assert "Registered. Reference codes" in response.content.decode(), response.content.decode()
    people = {
        p.given_names: p.nationalities for p in Person.objects.filter(surname__startswith="Жұмабек")
    }
    assert people == {"Нұрлан": ["KZ"], "Айгүл": ["IR"], "Әлихан": ["KZ"]}


def test_a_refused_dual_citizen_is_refilled_with_the_citizenship_that_agrees(
    world: World, family: dict[str, Any]
) -> None:
    """Of two citizenships sent (the API takes several, in any order), the correcting form
    shows the one that agrees with the eligibility — the home one for a citizen, the other
    for a family member — and says the other was sent, so that it is not lost unseen."""
    body = copy.deepcopy(family)
    body["members"][0].update(iin="123", nationalities=["TR", "KZ"])
    body["members"][1].update(eligibility="family_member", nationalities=["KZ", "IR"])
    refused = _submit(world, body)
    assert refused.status_code == 400
    record = refused.json()["extra"]["intake_record"]
    form = world.client(Role.OPERATOR).get(f"/people/new/?from_intake={record}").content.decode()
    assert re.search(r'name="m-0-nationality" value="Kazakhstan"', form), form
    assert re.search(r'name="m-1-nationality" value="Iran[^"]*"', form), form
    assert "Person 1 was sent with more than one citizenship" in form
    said = re.search(r"Person 1 was sent with more than one citizenship[^<]*", form)
    assert said is not None and "Add Türkiye on the person" in said.group(0), said
    assert "Person 2 was sent with more than one citizenship" in form
    assert "Person 3 was sent with more than one citizenship" not in form
