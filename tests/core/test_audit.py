"""Every service write leaves an audit entry in the same transaction; the log cannot be
changed or deleted through the ORM or directly in the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from aman.core import services
from aman.core.audit import audit_read
from aman.core.context import origin
from aman.core.errors import ApplicationError
from aman.core.models import AuditEntry, User
from aman.core.roles import Role
from aman.dedup import merging
from aman.dedup import services as dedup_services
from aman.dedup.matching import Probe, probe_keys
from aman.dedup.models import CandidatePair
from aman.geo import services as geo_services
from aman.geo.models import Place
from aman.registry import imports
from aman.registry import services as registry_services
from aman.registry.models import Person
from aman.transport import pass_prints
from tests.conftest import World
from tests.factories import country


def entries(verb: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(verb=verb).order_by("id"))


def test_crisis_create_is_audited_with_its_fields(world: World) -> None:
    manager = world.users[Role.CRISIS_MANAGER]
    with origin(ip="10.1.2.3", via="web"):
        crisis = services.crisis_create(
            actor=manager,
            name="Lebanon 2026",
            home_country=country("KZ"),
            affected_countries=[country("IR")],
        )
    [entry] = entries("crisis_create")
    assert (entry.actor, entry.action, entry.object_id) == (manager, "create", str(crisis.pk))
    assert entry.changes["name"] == [None, "Lebanon 2026"]
    assert entry.changes["affected_countries"] == [None, [country("IR").pk]]
    assert (entry.ip, entry.via, entry.crisis) == ("10.1.2.3", "web", crisis)


def test_crisis_update_records_only_what_changed(world: World) -> None:
    manager = world.users[Role.CRISIS_MANAGER]
    services.crisis_update(
        actor=manager, crisis=world.crisis, retention_days=30, name=world.crisis.name
    )
    [entry] = entries("crisis_update")
    assert entry.changes == {"retention_days": [180, 30]}
    services.crisis_update(actor=manager, crisis=world.crisis, retention_days=30)
    assert len(entries("crisis_update")) == 1, "a no-op update writes nothing"


def test_open_and_close_are_audited_and_refused_when_senseless(world: World) -> None:
    manager = world.users[Role.CRISIS_MANAGER]
    with pytest.raises(ApplicationError, match="already open"):
        services.crisis_open(actor=manager, crisis=world.crisis)
    closed = services.crisis_close(actor=manager, crisis=world.crisis)
    assert closed.status == "closed" and closed.closed_at is not None
    assert closed.public_registration is False
    with pytest.raises(ApplicationError, match="Only an open crisis"):
        services.crisis_close(actor=manager, crisis=world.crisis)
    reopened = services.crisis_open(actor=manager, crisis=world.crisis)
    assert reopened.status == "open" and reopened.closed_at is None
    assert [e.changes["status"] for e in entries("crisis_close") + entries("crisis_open")] == [
        ["open", "closed"],
        ["closed", "open"],
    ]


def test_a_failed_service_leaves_no_audit_entry(world: World) -> None:
    manager = world.users[Role.CRISIS_MANAGER]
    before = AuditEntry.objects.count()
    with pytest.raises(ApplicationError, match="affected country"):
        services.crisis_create(
            actor=manager, name="x", home_country=country("KZ"), affected_countries=[]
        )
    with pytest.raises(ApplicationError):
        services.crisis_update(actor=manager, crisis=world.crisis, retention_days=0)
    assert AuditEntry.objects.count() == before


def _do(verb: str, world: World) -> Any:
    """Call the service named `verb` once; return the object its audit entry is about."""
    manager = world.users[Role.CRISIS_MANAGER]
    astara = Place.objects.get(code="IR-AZ-ASTARA")
    person = Person.objects.get(pk=world.people["IR"])
    calls: dict[str, Callable[[], Any]] = {
        "crisis_create": lambda: services.crisis_create(
            actor=manager, name="X", home_country=country("KZ"), affected_countries=[country("IR")]
        ),
        "crisis_update": lambda: services.crisis_update(
            actor=manager, crisis=world.crisis, retention_days=9
        ),
        "crisis_close": lambda: services.crisis_close(actor=manager, crisis=world.crisis),
        "crisis_open": lambda: services.crisis_open(
            actor=manager, crisis=services.crisis_close(actor=manager, crisis=world.crisis)
        ),
        "mission_create": lambda: services.mission_create(
            actor=manager, name="Baku", country=country("AZ")
        ),
        "mission_update": lambda: services.mission_update(
            actor=manager, mission=world.dubai, city="Dubai"
        ),
        "user_create": lambda: services.user_create(
            actor=manager, username="newbie", role=Role.OPERATOR, password="x-Very-long-1"
        ),
        "user_set_password": lambda: services.user_set_password(
            actor=manager, user=world.users[Role.OPERATOR], password="x-Very-long-2"
        ),
        "user_set_current_crisis": lambda: services.user_set_current_crisis(
            actor=manager, crisis=world.other_crisis
        ),
        "api_token_create": lambda: services.api_token_create(actor=manager, name="t")[0],
        "api_token_revoke": lambda: services.api_token_revoke(
            actor=manager, token=services.api_token_create(actor=manager, name="t")[0]
        ),
        "place_status_set": lambda: (
            geo_services.place_status_set(
                actor=manager, place=astara, status="closed", reason="strikes"
            ).place
        ),
        "crossing_update": lambda: geo_services.crossing_update(
            actor=manager, place=astara, daily_capacity=10
        ),
        "reference_data_load": lambda: geo_services.reference_data_load(
            actor=manager, cities=False
        ),
        "registration_submit": lambda: registry_services.registration_submit(
            crisis=world.crisis,
            channel="hotline",
            actor=manager,
            payload={
                "members": [{"surname": "Ли", "given_names": "Анна"}],
                "location": {"country": "IR"},
                "consent": True,
            },
        ),
        "registrations_submit": lambda: (
            registry_services.registrations_submit(
                crisis=world.crisis,
                submissions=[
                    registry_services.Submission(
                        channel="api",
                        actor=manager,
                        payload={
                            "members": [{"surname": "Ким", "given_names": "Ольга"}],
                            "location": {"country": "IR"},
                            "consent": True,
                        },
                    )
                ],
            )[0].record
        ),
        "candidates_record": lambda: (
            dedup_services.candidates_record(
                actor=manager,
                crisis=world.crisis,
                probes=[
                    Probe(
                        surname_keys=probe_keys("Сейітов"),
                        given_keys=probe_keys("Марат"),
                        birth_date=person.birth_date,
                        person_id=registry_services.registration_submit(
                            crisis=world.crisis,
                            channel="api",
                            actor=manager,
                            payload={
                                "members": [
                                    {
                                        "surname": "Сейтов",
                                        "given_names": "Марат",
                                        "birth_date": "1980-05-05",
                                    }
                                ],
                                "location": {"country": "IR"},
                                "consent": True,
                            },
                        )
                        .people.get()
                        .pk,
                    )
                ],
            ),
            CandidatePair.objects.latest("id"),
        )[1],
        "candidate_reject": lambda: dedup_services.candidate_reject(
            actor=manager, pair=CandidatePair.objects.get(crisis=world.crisis)
        ),
        "candidate_defer": lambda: dedup_services.candidate_defer(
            actor=manager, pair=CandidatePair.objects.get(crisis=world.crisis)
        ),
        "cluster_reject": lambda: dedup_services.cluster_reject(
            actor=manager, crisis=world.crisis, cluster=7, pairs=_clustered(world, 7)
        )[0],
        "cluster_defer": lambda: dedup_services.cluster_defer(
            actor=manager, crisis=world.crisis, cluster=7, pairs=_clustered(world, 7)
        )[0],
        "candidate_merge": lambda: dedup_services.candidate_merge(
            actor=manager, pair=CandidatePair.objects.get(crisis=world.crisis)
        ),
        "person_merge": lambda: merging.person_merge(
            actor=manager,
            survivor=Person.objects.get(pk=world.people["IR"]),
            absorbed=Person.objects.get(pk=world.people["IQ"]),
        ),
        "person_unmerge": lambda: merging.person_unmerge(
            actor=manager,
            merge=dedup_services.candidate_merge(
                actor=manager, pair=CandidatePair.objects.get(crisis=world.crisis)
            ),
        ),
        "person_set_status": lambda: (
            registry_services.person_set_status(
                actor=manager, person=person, status="verified"
            ).person
        ),
        "intake_reject": lambda: registry_services.intake_reject(
            crisis=world.crisis,
            channel="import",
            payload={"row": 7},
            actor=manager,
            problems={"surname": "required"},
        ),
        "person_update_self_refused": lambda: registry_services.person_update_self_refused(
            person=person,
            payload={"email": "dana@"},
            problems={"email": "not an e-mail address"},
            actor=manager,
        ),
        "person_update_self": lambda: registry_services.person_update_self(
            person=person, payload={"intent": "stay"}, actor=manager
        ).people.get(),
        "person_update": lambda: registry_services.person_update(
            actor=manager, person=person, payload={"needs_note": "wheelchair"}
        ),
        "household_update": lambda: registry_services.household_update(
            actor=manager,
            household=person.household,
            add=[Person.objects.get(pk=world.people["IQ"])],
        ),
        "batch_create": lambda: _batch(world, manager),
        "batch_start": lambda: imports.batch_start(
            actor=manager,
            batch=_batch(world, manager),
            mapping={"full_name": "name"},
            dispatch=False,
        ),
        "batch_run": lambda: imports.batch_run(
            imports.batch_start(
                actor=manager,
                batch=_batch(world, manager),
                mapping={"full_name": "name"},
                dispatch=False,
            ).pk
        ),
        "priority_policy_set": lambda: registry_services.priority_policy_set(
            actor=manager,
            crisis=world.crisis,
            mode="strict",
            rules=[{"group": "child", "weight": 2}],
        ),
        "priority_recompute_run": lambda: _recompute(world, manager),
        "priority_ages_refresh": lambda: (
            registry_services.priority_ages_refresh(
                crisis=world.crisis,
                since=date(2020, 1, 1),
                today=date(2020, 12, 31),
                actor=manager,
            ),
            world.crisis,
        )[1],
        "pass_print_start": lambda: pass_prints.pass_print_start(
            actor=manager, leg=_booked_leg(world), inline=False
        )[0],
        "pass_print_run": lambda: pass_prints.pass_print_run(
            pass_prints.pass_print_start(actor=manager, leg=_booked_leg(world), inline=False)[0].pk
        ),
        "pass_print_file": lambda: _pass_print_file(world, manager),
        "stay_move": lambda: _stay_move(world, manager),
        "gate_manifest_export": lambda: _gate_manifest(world, manager),
        "gate_scan_online": lambda: _gate_scan(world, manager),
    }
    return calls[verb]()


def _stay_move(world: World, manager: Any) -> Any:
    """A stay moved to another room of its block (shelter)."""
    from datetime import timedelta

    from aman.shelter import services as shelter_services
    from tests.shelter.conftest import make_block, make_hotel, today

    hotel = make_hotel(world)
    make_block(hotel, world)
    (stay,) = shelter_services.household_house(
        actor=None,
        crisis=world.crisis,
        household=Person.objects.get(pk=world.people["IR"]).household,
        hotel=hotel,
        first_night=today(),
        last_night=today() + timedelta(days=1),
    )
    return shelter_services.stay_move(actor=manager, stay=stay)


def _booked_leg(world: World) -> Any:
    """A leg with the world's person in Iran booked on it."""
    from datetime import timedelta

    from django.utils import timezone

    from aman.transport import services as transport_services

    leg = transport_services.leg_create(
        actor=None,
        crisis=world.crisis,
        data={
            "mode": "bus",
            "origin": Place.objects.get(kind="airport", iata="IKA"),
            "destination": Place.objects.get(code="IR-AZ-ASTARA"),
            "departure_planned": timezone.now() + timedelta(days=1),
            "capacity": 5,
        },
    )
    transport_services.leg_book(
        actor=None, leg=leg, people=[Person.objects.get(pk=world.people["IR"])]
    )
    return leg


def _pass_print_file(world: World, manager: Any) -> Any:
    """A print's file handed out: audited as an export of the leg's boarding passes."""
    job, _created = pass_prints.pass_print_start(actor=None, leg=_booked_leg(world), inline=True)
    pass_prints.pass_print_file(actor=manager, job=job)
    return job.leg


def _gate_manifest(world: World, manager: Any) -> Any:
    """The leg's passenger list for a gate device: audited as an export."""
    from aman.transport import gate

    leg = _booked_leg(world)
    gate.gate_manifest_export(actor=manager, leg=leg)
    return leg


def _gate_scan(world: World, manager: Any) -> Any:
    """One scan at the gate, online: the answer shows the person, its read is audited."""
    from aman.transport import gate
    from aman.transport.models import Booking

    leg = _booked_leg(world)
    booking = Booking.objects.get(leg=leg)
    gate.gate_scan_online(
        actor=manager, leg=leg, scan={"id": "audit-1", "booking": booking.pk, "action": "lookup"}
    )
    return booking


def _clustered(world: World, cluster: int) -> list[int]:
    """The world's pair, put in a cluster as a batch run would."""
    CandidatePair.objects.filter(crisis=world.crisis).update(cluster=cluster)
    return list(CandidatePair.objects.filter(crisis=world.crisis).values_list("pk", flat=True))


def _batch(world: World, actor: Any) -> Any:
    return imports.batch_create(
        actor=actor,
        crisis=world.crisis,
        source_name="s",
        file_name="l.csv",
        data="name\nЛи Анна\n".encode(),
        country=country("IR"),
    )


def _recompute(world: World, manager: Any) -> Any:
    """The background recompute after a policy change, run as its task runs it."""
    policy = registry_services.priority_policy_set(
        actor=manager, crisis=world.crisis, mode="strict", rules=[{"group": "child", "weight": 2}]
    )
    registry_services.priority_recompute_run(
        crisis_id=world.crisis.pk, run=policy.recompute_run, actor_id=manager.pk
    )
    return policy


VERB_OF = {
    "batch_create": "import_upload",
    "batch_start": "import_start",
    "batch_run": "import_finish",
    "registrations_submit": "registration_submit",
    "candidate_merge": "person_merge",
    "priority_recompute_run": "priority_recompute",
    "pass_print_run": "pass_print_finish",
    "pass_print_file": "boarding_pass",
    "person_update_self_refused": "intake_reject",
    "gate_manifest_export": "gate_manifest",
    "gate_scan_online": "gate_scan",
}

AUDITED_VERBS = [
    "crisis_create",
    "crisis_update",
    "crisis_open",
    "crisis_close",
    "mission_create",
    "mission_update",
    "user_create",
    "user_set_password",
    "user_set_current_crisis",
    "api_token_create",
    "api_token_revoke",
    "place_status_set",
    "crossing_update",
    "reference_data_load",
    "registration_submit",
    "registrations_submit",
    "candidates_record",
    "candidate_reject",
    "candidate_defer",
    "cluster_reject",
    "cluster_defer",
    "candidate_merge",
    "person_merge",
    "person_unmerge",
    "person_set_status",
    "priority_policy_set",
    "priority_recompute_run",
    "priority_ages_refresh",
    "intake_reject",
    "person_update_self_refused",
    "person_update_self",
    "person_update",
    "household_update",
    "batch_create",
    "batch_start",
    "batch_run",
    "pass_print_start",
    "pass_print_run",
    "pass_print_file",
    "stay_move",
    "gate_manifest_export",
    "gate_scan_online",
]
# Public functions of the services modules that write nothing themselves, with the reason.
NOT_AUDITED = {
    "country_names": "a lookup of reference data (an import's nationality column)",
    "eligibility_names": "a lookup of the eligibility labels (an import's column)",
    "households": "groups an import's rows in memory",
    "refuse_households": "marks an import's rows refused in memory; batch_run keeps them "
    "as rejected intake records (audited as intake_reject) and audits import_finish",
    "member_problems": "checks a member without writing",
    "iin_problem_text": "words for an IIN's problem",
    "rejected_key": "computes the key a refused submission is kept under",
    "canonical_payload": "a submission as one text, to tell a retry from a change",
    "registration_accept": "keeps the submission as a pending intake record, itself the "
    "record of who sent what when; registering it is audited by registrations_submit "
    "(test_registrations_api checks both), a refusal by intake_reject",
    "registrations_process_pending": "calls registrations_submit, which audits",
    "people_recompute_priority": "called by priority_recompute_run, which audits",
    "person_status_step": "the step of person_set_status inside another service's transaction: "
    "it returns its audit entry, which that service writes with its own (booking_board; "
    "test_gate checks both entries of a boarding)",
    "merge_conflicts": "reads what two records hold (stays, seats) for the merge page and "
    "person_merge, whose merge is audited; the page's read is audited as "
    "candidate_merge_page",
    "new_reference_code": "a pure helper",
    "normalize_reference_code": "a pure helper",
    "document_hash": "a pure helper",
    "phone_hash": "a pure helper",
    "iin_hash": "a pure helper",
    "person_lookup_public": "a read",
    "city_named": "a read of reference data",
    "payload_country_code": "a pure helper",
    "payload_place": "a pure helper",
    "problem_reasons": "a pure helper: a refusal's reasons as kept",
    "registration_problems": "a check without writing: what a registration would be refused "
    "for (the check before saving; its read is audited as registration_check)",
    "email_problem": "a pure helper: words for an e-mail address's problem",
    "citizenship_problem": "a pure helper: words for a citizenship the eligibility contradicts",
    "crisis_country_ids": "a read of reference data (crisis_countries as a query)",
    "crisis_countries": "a read of reference data: the countries a crisis's people may be in",
    "country_allowed": "a check (crisis_countries) without writing",
    "country_refused": "words for a refused country",
    "priority_policy": "a read",
    "guess_mapping": "a pure helper",
    "check_mapping": "a pure helper",
    "read_table": "a pure helper",
    "convert": "a pure helper",
    "household_payloads": "a pure helper",
    "batch_table": "a read",
    "batch_preview": "a read",
    "rejected_csv": "a read; the download view audits it as an export",
    "plan": "a pure helper: what a merge would take from where",
    "later_merges": "a read",
    "rejection_between": "a read: the decision that refuses a merge (person_merge, audited)",
    "household_conflicts": "reads the seats and rooms a merge would leave behind, for the "
    "merge page and person_merge, whose merge is audited; the page's read is audited as "
    "candidate_merge_page",
    "group_times": "a read: when each group of a record's fields was set, for the merge rule",
    "pass_prints_tidy": "housekeeping of the prints' own rows: deletes the files of boarding "
    "passes past their time and fails prints whose worker died; each row keeps when and why "
    "(cleared, cleared_at, error), no personal record is read or changed",
    "pass_prints_of": "a read (without the files)",
    "changed_since": "a read",
}


def test_every_service_function_is_in_the_audit_test() -> None:
    import inspect

    from aman.core import services as core_services

    public = {
        name
        for module in (
            core_services,
            geo_services,
            registry_services,
            imports,
            dedup_services,
            merging,
            pass_prints,
        )
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__ and not name.startswith("_")
    }
    assert public - set(AUDITED_VERBS) - set(NOT_AUDITED) == set()


@pytest.mark.parametrize("verb", AUDITED_VERBS)
def test_every_service_write_is_audited(world: World, verb: str) -> None:
    obj = _do(verb, world)
    entry = AuditEntry.objects.filter(verb=VERB_OF.get(verb, verb)).latest("id")
    assert entry.actor == world.users[Role.CRISIS_MANAGER]
    if verb not in ("reference_data_load", "candidates_record"):  # about many objects
        assert entry.object_type == obj._meta.label_lower and entry.object_id == str(obj.pk)
    assert entry.changes


def test_new_user_password_is_never_in_the_log(world: World) -> None:
    services.user_create(actor=None, username="x1", role=Role.OBSERVER, password="Secret-Pass-991")
    assert "Secret-Pass-991" not in str(list(AuditEntry.objects.values()))


def test_reads_and_exports_are_recorded(world: World) -> None:
    audit_read(
        actor=world.users[Role.CONSUL],
        verb="person_detail",
        object_type="registry.person",
        object_id=7,
    )
    audit_read(
        actor=world.users[Role.CONSUL],
        verb="manifest",
        object_type="transport.leg",
        object_id=3,
        export=True,
    )
    assert list(
        AuditEntry.objects.filter(verb__in=["person_detail", "manifest"])
        .values_list("action", flat=True)
        .order_by("id")
    ) == ["read", "export"]


def test_the_log_refuses_changes_through_the_orm(world: World) -> None:
    entry = audit_read(actor=None, verb="x", object_type="t")
    entry.verb = "y"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).update(verb="y")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()


@pytest.mark.parametrize(
    "sql", ["UPDATE core_auditentry SET verb = 'forged'", "DELETE FROM core_auditentry"]
)
def test_the_database_refuses_changes_to_the_log(world: World, sql: str) -> None:
    if sql.startswith("DELETE") and connection.vendor == "sqlite":
        pytest.skip("SQLite (embedded demo) refuses deletes in the model layer only")
    audit_read(actor=None, verb="x", object_type="t")
    with (
        pytest.raises((DatabaseError, IntegrityError)),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEntry.objects.filter(verb="x").exists()


def test_sign_in_sign_out_and_failed_attempts_are_logged(world: World, client) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import PASSWORD

    assert client.post("/login/", {"username": "operator", "password": "wrong"}).status_code == 200
    assert client.post("/login/", {"username": "operator", "password": PASSWORD}).status_code == 302
    assert client.post("/logout/").status_code == 302
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor_name"))
    assert actions[-3:] == [
        ("login_failed", "system"),
        ("login", "operator"),
        ("logout", "operator"),
    ]
    failed = AuditEntry.objects.get(action="login_failed")
    assert failed.changes == {"username": "operator"} and failed.ip == "127.0.0.1"


def test_admin_saves_are_audited_without_passwords(world: World) -> None:
    client = world.client("superuser")
    response = client.post(
        "/admin/core/user/add/",
        {
            "username": "newconsul",
            "password1": "Very-Secret-774",
            "password2": "Very-Secret-774",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    entry = AuditEntry.objects.get(verb="admin_add", object_type="core.user")
    assert entry.actor == world.users["superuser"] and entry.action == "create"
    assert "Very-Secret-774" not in str(list(AuditEntry.objects.values()))
    user = User.objects.get(username="newconsul")
    response = client.post(
        f"/admin/core/user/{user.pk}/password/",
        {"password1": "Other-Secret-9913", "password2": "Other-Secret-9913"},
    )
    assert response.status_code == 302
    changed = AuditEntry.objects.get(verb="admin_change", object_id=str(user.pk))
    assert "Other-Secret-9913" not in str(changed.changes)
