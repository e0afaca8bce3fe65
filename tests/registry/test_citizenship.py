"""The citizenship a person is registered with against their eligibility — a citizen holds the
home country's, a family member of a citizen or a partner-state national another one — on every
channel, as on the forms: the API (now and queued), the queue's background run, the check
before saving, an officer's correction and imports."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from aman.core.roles import Role
from aman.registry.models import IntakeRecord, Person
from tests.conftest import World
from tests.registry.test_registration_checks import errors, one, patch, post

ASYNC = {"Prefer": "respond-async"}
CITIZEN = (
    "A citizen's citizenship is Kazakhstan. For someone of another citizenship, choose "
    "“Family member of a citizen” or “Partner-state national” above."
)
NOT_A_CITIZEN = (
    "Choose this person's citizenship: not Kazakhstan, since they are not a citizen (or "
    "choose “Citizen” above)."
)


def register(world: World, body: Any, **headers: str) -> Any:
    return post(
        world.api(Role.OPERATOR), f"/api/registrations?crisis={world.crisis.pk}", body, **headers
    )


@pytest.mark.parametrize("headers", [{}, ASYNC], ids=["now", "queued"])
@pytest.mark.parametrize(
    ("member", "message"),
    [
        ({"nationalities": ["RU"]}, CITIZEN),  # no eligibility sent: a citizen's
        ({"eligibility": "citizen", "nationalities": ["ir", "TR"]}, CITIZEN),
        ({"eligibility": "family_member", "nationalities": ["KZ"]}, NOT_A_CITIZEN),
        ({"eligibility": "partner_national", "nationalities": ["kz", "KZ"]}, NOT_A_CITIZEN),
    ],
    ids=["citizen-by-default", "citizen", "family-member", "partner-national"],
)
def test_a_citizenship_that_contradicts_the_eligibility_is_refused_on_its_field(
    world: World,
    family: dict[str, Any],
    member: dict[str, Any],
    message: str,
    headers: dict[str, str],
) -> None:
    family["members"][1].update(member)
    response = register(world, family, **headers, **{"Idempotency-Key": "citizenship"})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"] == (
        f"The registration was not accepted: members.1.nationalities: {message}"
    )
    assert errors(response) == {"members.1.nationalities": message}
    record = IntakeRecord.objects.get(pk=body["extra"]["intake_record"])
    assert record.outcome == "rejected" and record.reference_codes == []
    assert record.rejection_reasons == {"members.1.nationalities": message}
    assert not Person.objects.filter(surname=family["members"][0]["surname"]).exists()
    again = register(world, family, **headers, **{"Idempotency-Key": "citizenship"})
    assert again.status_code == 400
    assert again.json()["extra"]["intake_record"] == record.pk, "a retry keeps nothing new"


@pytest.mark.parametrize("headers", [{}, ASYNC], ids=["now", "queued"])
def test_what_agrees_with_the_eligibility_or_is_not_sent_is_registered(
    world: World,
    family: dict[str, Any],
    headers: dict[str, str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    members = family["members"]
    members[0].update(eligibility="citizen", nationalities=["KZ", "RU"])  # a second one
    members[1].update(eligibility="family_member", nationalities=["IR", "kz"])
    members[2].update(eligibility="partner_national", nationalities=["UZ"])
    members += [
        # None sent: the registry's default, never refused — a citizen's is the home
        # country's, a family member's none.
        {"surname": "Жұмабек", "given_names": "Дана", "eligibility": "family_member"},
        {"surname": "Жұмабек", "given_names": "Ерлан"},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = register(world, family, **headers)
    assert response.status_code == (202 if headers else 201), response.content
    record = IntakeRecord.objects.get(pk=response.json()["intake_record"])
    assert record.outcome == "accepted", record.rejection_reasons
    read = {p.given_names: (p.eligibility, p.nationalities) for p in record.people.all()}
    assert read == {
        "Нұрлан": ("citizen", ["KZ", "RU"]),
        "Айгүл": ("family_member", ["IR", "KZ"]),
        "Әлихан": ("partner_national", ["UZ"]),
        "Дана": ("family_member", []),
        "Ерлан": ("citizen", ["KZ"]),
    }


def test_the_queues_background_run_refuses_it_too(
    world: World, family: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = register(world, family, **ASYNC)
    assert response.status_code == 202, response.content
    # Queued before the rule held at the door (or by an older process): the run refuses it.
    record = IntakeRecord.objects.get(pk=response.json()["intake_record"])
    record.payload["members"][2].update(eligibility="family_member", nationalities=["KZ"])
    record.save(update_fields=["payload"])
    for callback in callbacks:
        callback()
    state = world.api(Role.OPERATOR).get(f"/api/registrations/{record.pk}").json()
    assert state["status"] == "rejected" and state["people"] == []
    # In the words of the registration's language (Kazakh), as the run says every reason.
    assert state["errors"] == [
        {
            "field": "members.2.nationalities",
            "message": "Бұл адамның азаматтығын таңдаңыз: ол азамат болмағандықтан, Қазақстан "
            "емес (немесе жоғарыда «Азамат» дегенді таңдаңыз).",
        }
    ]


def test_an_unknown_country_is_said_instead_when_the_look_up_is_made(world: World) -> None:
    # As on the forms: the unknown country, not the rule, when the registration is checked
    # whole; the queue's door (no look-up) says the rule at once.
    now = register(world, one(nationalities=["QQ"]))
    assert now.status_code == 400
    assert errors(now) == {"members.0.nationalities": "Unknown country QQ."}
    queued = register(world, one(nationalities=["QQ"]), **ASYNC)
    assert queued.status_code == 400
    assert errors(queued) == {"members.0.nationalities": CITIZEN}


def test_the_rule_is_said_in_the_language_asked_for(world: World, family: dict[str, Any]) -> None:
    family["members"][0]["nationalities"] = ["RU"]
    response = register(world, family, **{"Accept-Language": "ru"})
    assert response.status_code == 400
    assert errors(response)["members.0.nationalities"] == (
        "Гражданство гражданина — Казахстан. Для человека с другим гражданством выберите "
        "выше «Член семьи гражданина» или «Гражданин государства-партнёра»."
    )


def test_the_check_before_saving_refuses_it_as_the_registration_would(
    world: World, family: dict[str, Any]
) -> None:
    family["members"][1].update(eligibility="partner_national", nationalities=["KZ"])
    records = IntakeRecord.objects.count()
    api = world.api(Role.OPERATOR)
    response = post(api, f"/api/registrations/check?crisis={world.crisis.pk}", family)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"] == (
        f"The registration would not be accepted: members.1.nationalities: {NOT_A_CITIZEN}"
    )
    assert body["extra"]["errors"] == [
        {"field": "members.1.nationalities", "message": NOT_A_CITIZEN}
    ]
    assert IntakeRecord.objects.count() == records, "the check keeps nothing"
    family["members"][1]["nationalities"] = ["UZ"]
    response = post(api, f"/api/registrations/check?crisis={world.crisis.pk}", family)
    assert response.status_code == 200, response.content


def test_a_correction_of_eligibility_or_citizenship_is_held_to_the_rule(
    world: World,
) -> None:
    api = world.api(Role.OPERATOR)
    response = register(world, one())  # a citizen, the home country's by default
    pk = response.json()["people"][0]["id"]
    path = f"/api/people/{pk}"

    def refused(body: dict[str, Any], message: str) -> None:
        response = patch(api, path, body)
        assert response.status_code == 400, response.content
        assert response.json()["message"] == (
            f"The correction was not accepted: nationalities: {message}"
        )
        assert errors(response) == {"nationalities": message}

    # A family member with the home country's citizenship alone: the eligibility alone
    # changed keeps the citizen's KZ.
    refused({"eligibility": "family_member"}, NOT_A_CITIZEN)
    refused({"eligibility": "partner_national", "nationalities": ["kz"]}, NOT_A_CITIZEN)
    refused({"nationalities": ["RU"]}, CITIZEN)
    assert Person.objects.get(pk=pk).nationalities == ["KZ"], "nothing changed"
    kept = IntakeRecord.objects.filter(kind="update", outcome="rejected").order_by("id")
    assert [r.rejection_reasons for r in kept][-1] == {"nationalities": CITIZEN}

    ok = patch(api, path, {"eligibility": "family_member", "nationalities": ["IR"]})
    assert ok.status_code == 200, ok.content
    assert (ok.json()["eligibility"], ok.json()["nationalities"]) == ("family_member", ["IR"])
    refused({"eligibility": "citizen"}, CITIZEN)
    refused({"nationalities": ["KZ"]}, NOT_A_CITIZEN)
    ok = patch(api, path, {"nationalities": ["IR", "KZ"]})  # a second citizenship is fine
    assert ok.status_code == 200, ok.content
    ok = patch(api, path, {"nationalities": []})  # none known
    assert ok.status_code == 200 and ok.json()["nationalities"] == []
    # An unknown country is said instead.
    response = patch(api, path, {"eligibility": "citizen", "nationalities": ["QQ"]})
    assert response.status_code == 400
    assert errors(response) == {"nationalities": "Unknown country QQ."}


def test_a_record_kept_as_it_came_is_corrected_without_the_rule(world: World) -> None:
    """Recorded before the rule held on every channel: a correction that leaves the
    eligibility and the citizenship as they are is not refused for them."""
    api = world.api(Role.OPERATOR)
    pk = register(world, one()).json()["people"][0]["id"]
    Person.objects.filter(pk=pk).update(eligibility="family_member", nationalities=["KZ"])
    response = patch(
        api,
        f"/api/people/{pk}",
        {"surname": "Ли", "eligibility": "family_member", "nationalities": ["KZ"]},
    )
    assert response.status_code == 200, response.content
    assert response.json()["surname"] == "Ли"
    same = patch(api, f"/api/people/{pk}", {"nationalities": ["KZ", "KZ", "kz"]})
    assert same.status_code == 200, "the same list, written otherwise: no change"
    refused = patch(api, f"/api/people/{pk}", {"eligibility": "partner_national"})
    assert refused.status_code == 400
    assert errors(refused) == {"nationalities": NOT_A_CITIZEN}


def test_an_imported_row_that_breaks_the_rule_is_kept_rejected_with_its_reason(
    world: World, tmp_path: Path
) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        "ФИО;Гражданство;Категория;Бронь\n"
        "Иванов Сергей;KZ;член семьи гражданина;\n"
        "Smith John;United Kingdom;;\n"  # no eligibility: a citizen
        "Ахметов Ерлан;Казахстан;;B-1\n"
        "Ахметова Сәуле;Казахстан;Гражданин государства-партнёра;B-1\n"
        "Али Реза;Iran;Гражданин государства-партнёра;\n"
        "Ким Ольга;kz;;\n"
        "Ли Анна;;член семьи гражданина;\n",  # none given: none known
        encoding="utf-8",
    )
    out = io.StringIO()
    call_command(
        "import", str(path), "--crisis", world.crisis.code, "--source", "Embassy list",
        "--country", "IR", stdout=out,
    )  # fmt: skip
    assert "3 accepted, 4 rejected" in out.getvalue(), out.getvalue()
    imported = Person.objects.filter(intake_records__batch__isnull=False)
    assert {p.given_names: (p.eligibility, p.nationalities) for p in imported} == {
        "Реза": ("partner_national", ["IR"]),
        "Ольга": ("citizen", ["KZ"]),
        "Анна": ("family_member", []),
    }
    kept = IntakeRecord.objects.filter(channel="import", outcome="rejected")
    assert {r.row_number: r.rejection_reasons for r in kept} == {
        2: {"nationalities": NOT_A_CITIZEN},
        3: {"nationalities": CITIZEN},
        4: {"household": "Refused with its household: row 5 has problems."},
        5: {"nationalities": NOT_A_CITIZEN},
    }
    batch = kept.first().batch  # type: ignore[union-attr]
    download = world.client(Role.OPERATOR).get(f"/people/imports/{batch.pk}/rejected.csv")
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert [(r["row"], r["reasons"], r["ФИО"]) for r in rows] == [
        ("2", f"nationalities: {NOT_A_CITIZEN}", "Иванов Сергей"),
        ("3", f"nationalities: {CITIZEN}", "Smith John"),
        ("4", "household: Refused with its household: row 5 has problems.", "Ахметов Ерлан"),
        ("5", f"nationalities: {NOT_A_CITIZEN}", "Ахметова Сәуле"),
    ]
    assert rows[0]["Гражданство"] == "KZ" and rows[0]["Категория"] == "член семьи гражданина"
