"""Every role × every view and endpoint gets exactly the access it should.

ROUTES lists each UI URL and each API operation with the status every persona must get.
`test_every_route_is_in_the_matrix` fails when a view or endpoint is added without a row
here, so nothing new ships unguarded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

from aman.api.api import api
from aman.core.roles import Role
from aman.geo.models import Place
from tests.conftest import PERSONA_ROLES, World
from tests.planning.access import planning_rows
from tests.shelter.access import shelter_rows

R = Role
EVERY_ROLE = {*Role.values, "superuser"}
MANAGERS = {R.CRISIS_MANAGER, "superuser"}
GEO_EDITORS = {R.CRISIS_MANAGER, R.LOGISTICS, "superuser"}
TOKEN_HOLDERS = EVERY_ROLE - {R.OBSERVER, R.PARTNER_LIAISON} | {R.PARTNER_LIAISON}
TOKEN_HOLDERS = EVERY_ROLE - {R.OBSERVER}


@dataclass
class Route:
    name: str  # URL name (UI) or "METHOD /api/path" as in the OpenAPI document
    method: str
    path: Callable[[World], str]
    allowed: set[str]
    ok: int = 200
    denied: int = 403
    anonymous: int = 302
    data: Callable[[World], dict[str, Any]] | None = None
    api: bool = False
    # An API operation that takes a multipart form (a file upload), not JSON.
    multipart: bool = False
    # Personas that get this status instead (object outside their scope).
    special: dict[str, int] = field(default_factory=dict)


def crossing(w: World) -> int:
    return Place.objects.get(code="IR-AZ-ASTARA").pk


def crisis_form(w: World) -> dict[str, Any]:
    from tests.factories import country

    return {
        "name": "New crisis",
        "home_country": country("KZ").pk,
        "affected_countries": [country("IR").pk],
        "retention_days": 90,
    }


def mission_form(w: World) -> dict[str, Any]:
    from tests.factories import country

    return {
        "name": "Embassy in Baku",
        "kind": "embassy",
        "country": country("AZ").pk,
        "active": "on",
    }


REGISTRARS = {R.CRISIS_MANAGER, R.OPERATOR, R.CONSUL, R.DUTY_OFFICER, "superuser"}
PERSONAL = REGISTRARS | {R.LOGISTICS}
# Deciding on possible duplicates (merge, undo, "not the same", a whole-crisis search): not
# the gate's duty officers, who register people but do not merge records.
DEDUP = REGISTRARS - {R.DUTY_OFFICER}
TRANSPORT = {R.CRISIS_MANAGER, R.LOGISTICS, "superuser"}
GATE = TRANSPORT | {R.DUTY_OFFICER}

UI: list[Route] = [
    Route("healthz", "get", lambda w: "/healthz", EVERY_ROLE, anonymous=200),
    Route("login", "get", lambda w: "/login/", set(), denied=302, anonymous=200),
    Route("logout", "post", lambda w: "/logout/", EVERY_ROLE, ok=302, anonymous=302),
    Route(
        "set_language",
        "post",
        lambda w: "/i18n/setlang/",
        EVERY_ROLE,
        ok=302,
        anonymous=302,
        data=lambda w: {"language": "ru"},
    ),
    Route("home", "get", lambda w: "/", EVERY_ROLE),
    # Public pages: no account, the same for everyone.
    Route("public_register", "get", lambda w: "/register/", EVERY_ROLE, anonymous=200),
    Route("public_register_done", "get", lambda w: "/register/done/", EVERY_ROLE, anonymous=200),
    Route("public_status", "get", lambda w: "/status/", EVERY_ROLE, anonymous=200),
    Route("public_status_me", "get", lambda w: "/status/me/", EVERY_ROLE, ok=302, anonymous=302),
    Route(
        "public_status_leave", "get", lambda w: "/status/leave/", EVERY_ROLE, ok=302, anonymous=302
    ),
    Route("crisis_list", "get", lambda w: "/crises/", EVERY_ROLE),
    Route("crisis_create", "get", lambda w: "/crises/new/", MANAGERS),
    Route("crisis_create", "post", lambda w: "/crises/new/", MANAGERS, ok=302, data=crisis_form),
    Route(
        "crisis_switch",
        "post",
        lambda w: "/crises/switch/",
        EVERY_ROLE,
        ok=302,
        data=lambda w: {"crisis": w.crisis.pk},
    ),
    Route(
        "crisis_switch",
        "post",
        lambda w: "/crises/switch/",
        EVERY_ROLE,
        ok=302,
        data=lambda w: {"crisis": w.other_crisis.pk},
        special={R.CONSUL: 404},
    ),
    Route("crisis_detail", "get", lambda w: f"/crises/{w.crisis.pk}/", EVERY_ROLE),
    Route(
        "crisis_detail",
        "get",
        lambda w: f"/crises/{w.other_crisis.pk}/",
        EVERY_ROLE,
        special={R.CONSUL: 404},
    ),
    Route("crisis_edit", "get", lambda w: f"/crises/{w.crisis.pk}/edit/", MANAGERS),
    Route(
        "crisis_edit",
        "post",
        lambda w: f"/crises/{w.crisis.pk}/edit/",
        MANAGERS,
        ok=302,
        data=crisis_form,
    ),
    Route("crisis_open", "post", lambda w: f"/crises/{w.crisis.pk}/open/", MANAGERS, ok=302),
    Route("crisis_close", "post", lambda w: f"/crises/{w.crisis.pk}/close/", MANAGERS, ok=302),
    Route("mission_list", "get", lambda w: "/missions/", EVERY_ROLE),
    Route("mission_create", "get", lambda w: "/missions/new/", MANAGERS),
    Route(
        "mission_create", "post", lambda w: "/missions/new/", MANAGERS, ok=302, data=mission_form
    ),
    Route("mission_edit", "get", lambda w: f"/missions/{w.tehran.pk}/edit/", MANAGERS),
    Route(
        "mission_edit",
        "post",
        lambda w: f"/missions/{w.dubai.pk}/edit/",
        MANAGERS,
        ok=302,
        data=mission_form,
    ),
    Route("audit_list", "get", lambda w: "/audit/", MANAGERS),
    Route("token_list", "get", lambda w: "/account/tokens/", TOKEN_HOLDERS),
    Route(
        "token_list",
        "post",
        lambda w: "/account/tokens/",
        TOKEN_HOLDERS,
        data=lambda w: {"name": "dialler"},
    ),
    # Every persona tries to revoke the operator's token: only the operator may.
    Route(
        "token_revoke",
        "post",
        lambda w: f"/account/tokens/{operator_token(w)}/revoke/",
        {R.OPERATOR},
        ok=302,
        denied=404,
        special={R.OBSERVER: 403},
    ),
    Route("crossing_list", "get", lambda w: "/geo/crossings/", EVERY_ROLE),
    Route("person_list", "get", lambda w: "/people/?q=marat", PERSONAL),
    Route("person_create", "get", lambda w: "/people/new/", REGISTRARS),
    Route("priority_policy", "get", lambda w: "/people/policy/", EVERY_ROLE),
    Route(
        "priority_policy",
        "post",
        lambda w: "/people/policy/",
        MANAGERS,
        ok=302,
        data=lambda w: {
            "mode": "weights",
            "elderly_min_age": "65",
            "child_max_age": "15",
            "weight_pregnant": "4",
            "weight_child": "2",
        },
    ),
    Route("import_list", "get", lambda w: "/people/imports/", REGISTRARS),
    Route("import_detail", "get", lambda w: f"/people/imports/{import_batch(w)}/", REGISTRARS),
    Route(
        "import_rejected",
        "get",
        lambda w: f"/people/imports/{import_batch(w)}/rejected.csv",
        REGISTRARS,
    ),
    Route("intake_list", "get", lambda w: "/people/intake/", PERSONAL),
    Route(
        "intake_detail",
        "get",
        lambda w: f"/people/intake/{intake_record(w, country='IR')}/",
        PERSONAL,
    ),
    Route(
        "intake_detail",
        "get",
        lambda w: f"/people/intake/{intake_record(w, country='IQ')}/",
        PERSONAL,
        special={R.CONSUL: 404},
    ),
    Route("person_detail", "get", lambda w: f"/people/{w.people['IR']}/", PERSONAL),
    Route(
        "person_detail",
        "get",
        lambda w: f"/people/{w.people['IQ']}/",
        PERSONAL,
        special={R.CONSUL: 404},
    ),
    Route("person_edit", "get", lambda w: f"/people/{w.people['IR']}/edit/", REGISTRARS),
    Route(
        "person_edit",
        "get",
        lambda w: f"/people/{w.people['IQ']}/edit/",
        REGISTRARS,
        special={R.CONSUL: 404},
    ),
    Route(
        "person_household",
        "post",
        lambda w: f"/people/{w.people['IR']}/household/",
        REGISTRARS,
        ok=302,
        data=lambda w: {"action": "nothing"},
    ),
    Route(
        "person_household",
        "post",
        lambda w: f"/people/{w.people['IQ']}/household/",
        REGISTRARS,
        ok=302,
        data=lambda w: {"action": "nothing"},
        special={R.CONSUL: 404},
    ),
    Route(
        "person_status",
        "post",
        lambda w: f"/people/{w.people['IR']}/status/",
        REGISTRARS,
        ok=302,
        data=lambda w: {"status": "verified"},
    ),
    Route(
        "person_status",
        "post",
        lambda w: f"/people/{w.people['IQ']}/status/",
        REGISTRARS,
        ok=302,
        data=lambda w: {"status": "verified"},
        special={R.CONSUL: 404},
    ),
    Route("candidate_list", "get", lambda w: "/people/duplicates/", PERSONAL),
    Route(
        "candidate_reject",
        "post",
        lambda w: f"/people/duplicates/{world_pair(w)}/reject/",
        DEDUP,
        ok=302,
        special={R.CONSUL: 404},  # one of the two is in Iraq, outside the consul's mission
    ),
    Route(
        "candidate_defer",
        "post",
        lambda w: f"/people/duplicates/{world_pair(w)}/defer/",
        DEDUP,
        ok=302,
        special={R.CONSUL: 404},
    ),
    Route(
        "candidate_merge",
        "get",
        lambda w: f"/people/duplicates/{world_pair(w)}/merge/",
        DEDUP,
        special={R.CONSUL: 404},
    ),
    Route(
        "candidate_merge",
        "post",
        lambda w: f"/people/duplicates/{world_pair(w)}/merge/",
        DEDUP,
        ok=302,
        special={R.CONSUL: 404},
    ),
    Route(
        "merge_undo",
        "post",
        lambda w: f"/people/duplicates/merges/{world_merge(w)}/undo/",
        DEDUP,
        ok=302,
        special={R.CONSUL: 404},  # the merged record was in Iraq, outside the consul's area
    ),
    Route("linkage_run_create", "post", lambda w: "/people/duplicates/runs/", DEDUP, ok=302),
    Route("linkage_policy", "post", lambda w: "/people/duplicates/policy/", MANAGERS, ok=302),
    Route("clusters_export", "get", lambda w: "/people/duplicates/clusters.csv", MANAGERS),
    # A consul sees no pair of the world's cluster (one of its two is in Iraq): the page
    # says there is nothing to decide (a message, the same redirect).
    Route(
        "cluster_reject",
        "post",
        lambda w: f"/people/duplicates/clusters/{world_cluster(w)}/reject/",
        DEDUP,
        ok=302,
    ),
    Route(
        "cluster_defer",
        "post",
        lambda w: f"/people/duplicates/clusters/{world_cluster(w)}/defer/",
        DEDUP,
        ok=302,
    ),
    # Transport: legs and bookings (logistics); the leg pages are open to the gate too.
    # The gate's service worker: a script with no data, public like static files.
    Route("gate_worker", "get", lambda w: "/transport/gate-sw.js", EVERY_ROLE, anonymous=200),
    Route("leg_list", "get", lambda w: "/transport/", GATE),
    Route("leg_create", "get", lambda w: "/transport/legs/new/", TRANSPORT),
    Route(
        "leg_create",
        "post",
        lambda w: "/transport/legs/new/",
        TRANSPORT,
        ok=302,
        data=lambda w: leg_form(w),
    ),
    Route("leg_import", "get", lambda w: "/transport/legs/import/", TRANSPORT),
    Route(
        "leg_import_detail",
        "get",
        lambda w: f"/transport/legs/import/{leg_import(w)}/",
        TRANSPORT,
    ),
    Route("leg_detail", "get", lambda w: f"/transport/legs/{world_leg(w)}/", GATE),
    Route("leg_edit", "get", lambda w: f"/transport/legs/{world_leg(w)}/edit/", TRANSPORT),
    Route(
        "leg_status",
        "post",
        lambda w: f"/transport/legs/{world_leg(w)}/status/",
        TRANSPORT,
        ok=302,
        data=lambda w: {"status": "confirmed"},
    ),
    Route(
        "leg_allocation",
        "post",
        lambda w: f"/transport/legs/{world_leg(w)}/allocations/",
        TRANSPORT,
        ok=302,
        data=lambda w: {"country": "UZ", "seats": 2},
    ),
    Route(
        "leg_book",
        "post",
        lambda w: f"/transport/legs/{world_leg(w)}/book/",
        TRANSPORT,
        ok=302,
        data=lambda w: {"household": household_of(w, "IQ")},
    ),
    Route(
        "leg_release_no_shows",
        "post",
        lambda w: f"/transport/legs/{world_boarding_leg(w)}/no-shows/",
        TRANSPORT,
        ok=302,
    ),
    Route(
        "booking_action",
        "post",
        lambda w: f"/transport/bookings/{world_booking(w)}/action/",
        TRANSPORT,
        ok=302,
        data=lambda w: {"status": "confirmed"},
    ),
    Route(
        "booking_action",
        "post",
        lambda w: f"/transport/bookings/{world_booking(w)}/action/",
        GATE,
        ok=302,
        data=lambda w: {"status": "boarded"},
    ),
    # Transit permits (names and documents: transport and personal data); cost recovery.
    Route("permit_list", "get", lambda w: "/transport/permits/", TRANSPORT),
    Route(
        "permit_list",
        "post",
        lambda w: "/transport/permits/",
        TRANSPORT,
        ok=302,
        data=lambda w: {"crossing": crossing(w), "day": "2026-12-01"},
    ),
    Route("permit_detail", "get", lambda w: f"/transport/permits/{permits(w)}/", TRANSPORT),
    Route(
        "permit_detail",
        "get",
        lambda w: f"/transport/permits/{permits(w, w.other_crisis)}/",
        TRANSPORT,
        ok=404,  # another crisis's list
    ),
    Route(
        "permit_detail",
        "post",
        lambda w: f"/transport/permits/{permits(w)}/",
        TRANSPORT,
        ok=302,
        data=lambda w: {"action": "submit", "reference": "AZ-1"},
    ),
    Route(
        "permit_export", "get", lambda w: f"/transport/permits/{permits(w)}/export.csv", TRANSPORT
    ),
    Route(
        "permit_export", "get", lambda w: f"/transport/permits/{permits(w)}/export.xlsx", TRANSPORT
    ),
    Route("transport_policy", "get", lambda w: "/transport/policy/", GATE),
    Route(
        "transport_policy",
        "post",
        lambda w: "/transport/policy/",
        MANAGERS,
        ok=302,
        data=lambda w: {"cost_recovery": "on", "amount_rule": "fare", "currency": "KZT"},
    ),
    Route(
        "undertaking_pdf",
        "get",
        lambda w: f"/transport/bookings/{undertaking_booking(w)}/undertaking.pdf",
        GATE,
    ),
    # The gate: check-in and boarding by scan (people's data: personal data as well).
    Route("gate", "get", lambda w: f"/transport/legs/{world_leg(w)}/gate/", GATE),
    Route(
        "gate_manifest", "get", lambda w: f"/transport/legs/{world_leg(w)}/gate/manifest.json", GATE
    ),
    Route(
        "gate_scan",
        "post",
        lambda w: f"/transport/legs/{world_leg(w)}/gate/scan",
        GATE,
        data=lambda w: {"id": "matrix", "text": gate_pass(w), "action": "check_in"},
    ),
    Route("gate_sync", "post", lambda w: f"/transport/legs/{world_leg(w)}/gate/sync", GATE),
    # Manifests and boarding passes (logistics: transport and personal data).
    Route(
        "leg_manifest", "get", lambda w: f"/transport/legs/{booked_leg(w)}/manifest.csv", TRANSPORT
    ),
    Route(
        "leg_manifest", "get", lambda w: f"/transport/legs/{booked_leg(w)}/manifest.pdf", TRANSPORT
    ),
    Route(
        "leg_manifest",
        "get",
        lambda w: f"/transport/legs/{other_crisis_leg(w)}/manifest.paxlst",
        TRANSPORT,
        ok=404,  # a leg of another crisis than the user's current one
    ),
    Route("leg_passes", "get", lambda w: f"/transport/legs/{booked_leg(w)}/passes/", TRANSPORT),
    Route(
        "leg_passes",
        "post",
        lambda w: f"/transport/legs/{booked_leg(w)}/passes/",
        TRANSPORT,
        ok=302,  # one pass: printed at once, the answer leads to the file
    ),
    Route(
        "pass_print_pdf",
        "get",
        lambda w: f"/transport/legs/{booked_leg(w)}/passes/{pass_print(w)}.pdf",
        TRANSPORT,
    ),
    Route(
        "booking_pass",
        "get",
        lambda w: f"/transport/bookings/{world_booking(w)}/pass.png",
        TRANSPORT,
    ),
    Route("place_list", "get", lambda w: "/geo/places/?q=astara", EVERY_ROLE),
    Route("place_detail", "get", lambda w: f"/geo/places/{crossing(w)}/", EVERY_ROLE),
    Route(
        "place_status",
        "post",
        lambda w: f"/geo/places/{crossing(w)}/status/",
        GEO_EDITORS,
        ok=302,
        data=lambda w: {"status": "closed", "reason": "shelling"},
    ),
    Route(
        "crossing_edit",
        "post",
        lambda w: f"/geo/places/{crossing(w)}/crossing/",
        GEO_EDITORS,
        ok=302,
        data=lambda w: {"hours": "24h", "daily_capacity": 250, "transit_permit": "yes"},
    ),
]


def world_pair(w: World) -> int:
    """The world's two `Сейітов Марат`, found as a possible duplicate when registered."""
    from aman.dedup.models import CandidatePair

    return CandidatePair.objects.get(crisis=w.crisis).pk


def world_cluster(w: World) -> int:
    """The world's pair, as a batch run would have clustered it."""
    from aman.dedup.models import CandidatePair

    pair = CandidatePair.objects.get(crisis=w.crisis)
    CandidatePair.objects.filter(pk=pair.pk).update(cluster=pair.person_a_id)
    return pair.person_a_id


def world_merge(w: World) -> int:
    """The world's pair merged (the person in Iraq into the one in Iran)."""
    from aman.dedup.merging import person_merge
    from aman.dedup.models import CandidatePair, Merge

    merge = Merge.objects.filter(crisis=w.crisis, undone_at__isnull=True).first()
    if merge is None:
        pair = CandidatePair.objects.get(crisis=w.crisis)
        merge = person_merge(
            actor=w.users[R.CRISIS_MANAGER],
            survivor=pair.person_a,
            absorbed=pair.person_b,
            pair=pair,
        )
    return merge.pk


def leg_api_body() -> dict[str, Any]:
    return {
        "mode": "bus",
        "origin": "IKA",
        "destination": "IR-AZ-ASTARA",
        "departure_planned": "2026-12-01T08:00:00+00:00",
        "capacity": 40,
    }


def legs_file() -> Any:
    """A list of one leg, as a file upload."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = b"from,to,departure,seats,reference\nIKA,IR-AZ-ASTARA,2026-12-01 08:00,40,M-1\n"
    return SimpleUploadedFile("legs.csv", content, content_type="text/csv")


def leg_form(w: World) -> dict[str, Any]:
    return {**leg_api_body(), "departure_planned": "2026-12-01T08:00"}


def world_leg(w: World) -> int:
    """A bus from Tehran's airport to Astara in the world's crisis."""
    from aman.transport.models import Leg
    from aman.transport.services import leg_create

    leg = Leg.objects.filter(crisis=w.crisis, source_ref="matrix").first()
    if leg is None:
        leg = leg_create(actor=None, crisis=w.crisis, data=leg_api_body(), source_ref="matrix")
    return leg.pk


def world_boarding_leg(w: World) -> int:
    """A leg of the world's crisis that is boarding (no-shows are released then)."""
    from aman.transport.models import Leg
    from aman.transport.services import leg_create, leg_set_status

    leg = Leg.objects.filter(crisis=w.crisis, source_ref="matrix-boarding").first()
    if leg is None:
        leg = leg_create(
            actor=None, crisis=w.crisis, data=leg_api_body(), source_ref="matrix-boarding"
        )
        for status in ("confirmed", "boarding"):
            leg_set_status(actor=None, leg=leg, status=status)
    return leg.pk


def world_booking(w: World) -> int:
    """The person in Iran booked on the world's leg."""
    from aman.registry.models import Person
    from aman.transport.models import Booking, Leg
    from aman.transport.services import leg_book

    booking = Booking.objects.filter(leg_id=world_leg(w)).first()
    if booking is None:
        (booking,) = leg_book(
            actor=None,
            leg=Leg.objects.get(pk=world_leg(w)),
            people=[Person.objects.get(pk=w.people["IR"])],
        )
    return booking.pk


def gate_pass(w: World) -> str:
    """The boarding-pass code of the world's booking."""
    from aman.transport.models import Booking
    from aman.transport.passes import pass_code

    booking = Booking.objects.get(pk=world_booking(w))
    return pass_code(booking_id=booking.pk, leg_id=booking.leg_id, person_id=booking.person_id)


def leg_import(w: World) -> int:
    from aman.transport.models import LegImport

    return LegImport.objects.get_or_create(crisis=w.crisis, file_name="legs.csv", total=0)[0].pk


def permits(w: World, crisis: Any = None) -> int:
    """The transit permit list for Astara on the day of the world's leg (in another crisis:
    an empty list)."""
    from datetime import date

    from aman.geo.models import Place
    from aman.transport.services import permit_list_build

    if crisis is None:
        world_booking(w)
    return permit_list_build(
        actor=None,
        crisis=crisis or w.crisis,
        crossing=Place.objects.get(code="IR-AZ-ASTARA"),
        day=date(2026, 12, 1),
    ).pk


def undertaking_booking(w: World) -> int:
    """The world's booking, in a crisis whose policy asks for an undertaking on every leg."""
    from aman.transport.services import transport_policy_set

    transport_policy_set(
        actor=None,
        crisis=w.crisis,
        cost_recovery=True,
        amount_rule="fixed",
        fixed_amount="50000",
        flights_only=False,
    )
    return world_booking(w)


def household_contact(w: World, where: str) -> int:
    from aman.registry.models import Household

    return Household.objects.get(pk=household_of(w, where)).contact_id


def person_code(w: World, where: str) -> str:
    from aman.registry.models import Person

    return Person.objects.get(pk=w.people[where]).reference_code


def run(w: World) -> int:
    """A finished linkage run of the world's crisis."""
    from aman.dedup.models import LinkageRun

    return LinkageRun.objects.get_or_create(crisis=w.crisis, status="done")[0].pk


def household_of(w: World, where: str) -> int:
    from aman.registry.models import Person

    return Person.objects.get(pk=w.people[where]).household_id or 0


def import_batch(w: World) -> int:
    from aman.registry.imports import batch_create
    from aman.registry.models import ImportBatch

    batch = ImportBatch.objects.filter(crisis=w.crisis).first() or batch_create(
        actor=None,
        crisis=w.crisis,
        source_name="matrix",
        file_name="l.csv",
        data=b"surname,given_names\nLi,Anna\n",
        country=w.crisis.affected_countries.first(),
    )
    return batch.pk


def intake_record(w: World, crisis: Any = None, country: str = "") -> int:
    from aman.registry.services import intake_reject

    payload: dict[str, Any] = {"location": {"country": country}} if country else {"x": 1}
    return intake_reject(
        crisis=crisis or w.crisis, channel="api", payload=payload, problems={"x": "no"}
    ).pk


def operator_token(w: World) -> int:
    from aman.core.models import ApiToken
    from aman.core.services import api_token_create

    token = ApiToken.objects.filter(user=w.users[R.OPERATOR], name="matrix").first()
    if token is None:
        token, _ = api_token_create(actor=w.users[R.OPERATOR], name="matrix")
    return token.pk


def A(name: str, allowed: set[str], path: Callable[[World], str] | None = None, **kw: Any) -> Route:
    method, template = name.split(" ", 1)
    return Route(
        name, method.lower(), path or (lambda w: template), allowed, anonymous=401, api=True, **kw
    )


API: list[Route] = [
    A("GET /api/me", EVERY_ROLE),
    A("GET /api/legs", GATE),
    A("POST /api/legs", TRANSPORT, ok=201, data=lambda w: leg_api_body()),
    A(
        "POST /api/legs/import",
        TRANSPORT,
        ok=201,
        data=lambda w: {"file": legs_file()},
        multipart=True,
    ),
    A("GET /api/legs/{leg_id}", GATE, lambda w: f"/api/legs/{world_leg(w)}"),
    A(
        "PATCH /api/legs/{leg_id}",
        TRANSPORT,
        lambda w: f"/api/legs/{world_leg(w)}",
        data=lambda w: {"capacity": 40},
    ),
    A(
        "POST /api/legs/{leg_id}/status",
        TRANSPORT,
        lambda w: f"/api/legs/{world_leg(w)}/status",
        data=lambda w: {"status": "confirmed"},
    ),
    A(
        "PUT /api/legs/{leg_id}/allocations/{country}",
        TRANSPORT,
        lambda w: f"/api/legs/{world_leg(w)}/allocations/UZ",
        data=lambda w: {"seats": 2},
    ),
    A(
        "GET /api/legs/{leg_id}/bookings",
        GATE,
        lambda w: f"/api/legs/{world_leg(w)}/bookings",
    ),
    A(
        "GET /api/legs/{leg_id}/scan-conflicts",
        GATE,
        lambda w: f"/api/legs/{world_leg(w)}/scan-conflicts",
    ),
    # The gate through the API: as the gate page (GATE, and people's data).
    A(
        "GET /api/legs/{leg_id}/gate-manifest",
        GATE,
        lambda w: f"/api/legs/{world_leg(w)}/gate-manifest",
    ),
    A(
        "POST /api/legs/{leg_id}/scan",
        GATE,
        lambda w: f"/api/legs/{world_leg(w)}/scan",
        data=lambda w: {"id": "matrix-api", "text": gate_pass(w), "action": "check_in"},
    ),
    A(
        "POST /api/legs/{leg_id}/scans",
        GATE,
        lambda w: f"/api/legs/{world_leg(w)}/scans",
        data=lambda w: {
            "scans": [{"id": "matrix-sync", "booking": world_booking(w), "action": "board"}]
        },
    ),
    A(
        "POST /api/legs/{leg_id}/bookings",
        TRANSPORT,
        lambda w: f"/api/legs/{world_leg(w)}/bookings",
        ok=201,
        data=lambda w: {"households": [household_of(w, "IQ")]},
    ),
    A(
        "POST /api/bookings/{booking_id}/status",
        GATE,
        lambda w: f"/api/bookings/{world_booking(w)}/status",
        data=lambda w: {"status": "boarded"},
    ),
    A(
        "POST /api/legs/{leg_id}/release-no-shows",
        TRANSPORT,
        lambda w: f"/api/legs/{world_boarding_leg(w)}/release-no-shows",
    ),
    A("GET /api/permits", TRANSPORT, lambda w: f"/api/permits?crisis={w.crisis.pk}"),
    A(
        "POST /api/permits",
        TRANSPORT,
        lambda w: f"/api/permits?crisis={w.crisis.pk}",
        ok=201,
        data=lambda w: {"crossing": "IR-AZ-ASTARA", "day": "2026-12-01"},
    ),
    A("GET /api/permits/{permit_list_id}", TRANSPORT, lambda w: f"/api/permits/{permits(w)}"),
    A(
        "POST /api/permits/{permit_list_id}/submit",
        TRANSPORT,
        lambda w: f"/api/permits/{permits(w)}/submit",
        data=lambda w: {"reference": "AZ-1"},
    ),
    A(
        "POST /api/permits/{permit_list_id}/answers",
        TRANSPORT,
        lambda w: f"/api/permits/{permits(w)}/answers",
        data=lambda w: {"answers": [{"person": person_code(w, "IR"), "decision": "approved"}]},
    ),
    A(
        "GET /api/crises/{crisis_id}/transport-policy",
        GATE,
        lambda w: f"/api/crises/{w.crisis.pk}/transport-policy",
    ),
    A(
        "PUT /api/crises/{crisis_id}/transport-policy",
        MANAGERS,
        lambda w: f"/api/crises/{w.crisis.pk}/transport-policy",
        data=lambda w: {"cost_recovery": True},
    ),
    A("GET /api/crises", EVERY_ROLE),
    A(
        "POST /api/crises",
        MANAGERS,
        ok=201,
        data=lambda w: {"name": "API crisis", "affected_countries": ["IR"]},
    ),
    A("GET /api/crises/{crisis_id}", EVERY_ROLE, lambda w: f"/api/crises/{w.crisis.pk}"),
    A(
        "GET /api/crises/{crisis_id}",
        EVERY_ROLE,
        lambda w: f"/api/crises/{w.other_crisis.pk}",
        special={R.CONSUL: 404},
    ),
    A(
        "PATCH /api/crises/{crisis_id}",
        MANAGERS,
        lambda w: f"/api/crises/{w.crisis.pk}",
        data=lambda w: {"retention_days": 30},
    ),
    A(
        "POST /api/crises/{crisis_id}/open",
        MANAGERS,
        lambda w: f"/api/crises/{w.crisis.pk}/open",
        ok=409,
    ),
    A("POST /api/crises/{crisis_id}/close", MANAGERS, lambda w: f"/api/crises/{w.crisis.pk}/close"),
    A("GET /api/missions", EVERY_ROLE),
    A("POST /api/missions", MANAGERS, ok=201, data=lambda w: {"name": "Baku", "country": "AZ"}),
    A("GET /api/missions/{mission_id}", EVERY_ROLE, lambda w: f"/api/missions/{w.tehran.pk}"),
    A(
        "GET /api/missions/{mission_id}",
        EVERY_ROLE,
        lambda w: f"/api/missions/{w.dubai.pk}",
        special={R.CONSUL: 404},
    ),
    A(
        "PATCH /api/missions/{mission_id}",
        MANAGERS,
        lambda w: f"/api/missions/{w.dubai.pk}",
        data=lambda w: {"city": "Dubai"},
    ),
    A("GET /api/geo/countries", EVERY_ROLE),
    A("GET /api/geo/countries/{code}", EVERY_ROLE, lambda w: "/api/geo/countries/kz"),
    A("GET /api/geo/places", EVERY_ROLE, lambda w: "/api/geo/places?kind=crossing"),
    A("GET /api/geo/places/{place_id}", EVERY_ROLE, lambda w: f"/api/geo/places/{crossing(w)}"),
    A(
        "POST /api/geo/places/{place_id}/status",
        GEO_EDITORS,
        lambda w: f"/api/geo/places/{crossing(w)}/status",
        data=lambda w: {"status": "restricted", "reason": "queue of 2 days"},
    ),
    A(
        "PATCH /api/geo/crossings/{place_id}",
        GEO_EDITORS,
        lambda w: f"/api/geo/crossings/{crossing(w)}",
        data=lambda w: {"daily_capacity": 500},
    ),
    A("GET /api/audit", MANAGERS),
    A(
        "POST /api/registrations",
        REGISTRARS,
        lambda w: f"/api/registrations?crisis={w.crisis.pk}",
        ok=201,
        data=lambda w: {
            "members": [{"surname": "Ли", "given_names": "Анна"}],
            "location": {"country": "IR"},
            "consent": True,
        },
    ),
    A(
        "POST /api/registrations/check",
        REGISTRARS,
        lambda w: f"/api/registrations/check?crisis={w.crisis.pk}",
        data=lambda w: {
            "members": [{"surname": "Ли", "given_names": "Анна"}],
            "location": {"country": "IR"},
            "consent": True,
        },
    ),
    A(
        "GET /api/registrations/{intake_record_id}",
        REGISTRARS,
        lambda w: f"/api/registrations/{intake_record(w, country='IR')}",
    ),
    A(
        # Another mission's country (or none): not the consul's, as in the list.
        "GET /api/registrations/{intake_record_id}",
        REGISTRARS,
        lambda w: f"/api/registrations/{intake_record(w, country='IQ')}",
        special={R.CONSUL: 404},
    ),
    A(
        "GET /api/registrations/{intake_record_id}",
        REGISTRARS,
        lambda w: f"/api/registrations/{intake_record(w, w.other_crisis)}",
        special={R.CONSUL: 404},
    ),
    A("GET /api/registrations", PERSONAL, lambda w: f"/api/registrations?crisis={w.crisis.pk}"),
    A("GET /api/duplicates", PERSONAL, lambda w: f"/api/duplicates?crisis={w.crisis.pk}"),
    A(
        "GET /api/duplicates/clusters.csv",
        MANAGERS,
        lambda w: f"/api/duplicates/clusters.csv?crisis={w.crisis.pk}",
    ),
    A(
        "POST /api/duplicates/{pair_id}/reject",
        DEDUP,
        lambda w: f"/api/duplicates/{world_pair(w)}/reject",
        special={R.CONSUL: 404},
    ),
    A(
        "POST /api/duplicates/{pair_id}/defer",
        DEDUP,
        lambda w: f"/api/duplicates/{world_pair(w)}/defer",
        special={R.CONSUL: 404},
    ),
    A(
        "POST /api/duplicates/{pair_id}/merge",
        DEDUP,
        lambda w: f"/api/duplicates/{world_pair(w)}/merge",
        ok=201,
        data=lambda w: {"keep": "a"},
        special={R.CONSUL: 404},
    ),
    A(
        "POST /api/duplicates/clusters/{cluster}/reject",
        DEDUP,
        lambda w: f"/api/duplicates/clusters/{world_cluster(w)}/reject?crisis={w.crisis.pk}",
        special={R.CONSUL: 409},  # none of the cluster's pairs is the consul's to decide
    ),
    A(
        "POST /api/duplicates/clusters/{cluster}/defer",
        DEDUP,
        lambda w: f"/api/duplicates/clusters/{world_cluster(w)}/defer?crisis={w.crisis.pk}",
        special={R.CONSUL: 409},
    ),
    A("GET /api/merges", PERSONAL, lambda w: f"/api/merges?crisis={w.crisis.pk}"),
    A(
        "POST /api/merges/{merge_id}/undo",
        DEDUP,
        lambda w: f"/api/merges/{world_merge(w)}/undo",
        special={R.CONSUL: 404},
    ),
    A(
        "POST /api/duplicates/runs",
        DEDUP,
        lambda w: f"/api/duplicates/runs?crisis={w.crisis.pk}",
        ok=202,
    ),
    A("GET /api/duplicates/runs/{run_id}", PERSONAL, lambda w: f"/api/duplicates/runs/{run(w)}"),
    A(
        "GET /api/duplicates/policy",
        EVERY_ROLE,
        lambda w: f"/api/duplicates/policy?crisis={w.crisis.pk}",
    ),
    A(
        "PUT /api/duplicates/policy",
        MANAGERS,
        lambda w: f"/api/duplicates/policy?crisis={w.crisis.pk}",
        data=lambda w: {"auto_merge": True, "auto_merge_probability": 0.999},
    ),
    A("GET /api/people", PERSONAL, lambda w: f"/api/people?crisis={w.crisis.pk}"),
    A("GET /api/people/{person_id}", PERSONAL, lambda w: f"/api/people/{w.people['IR']}"),
    A(
        "GET /api/people/{person_id}",
        PERSONAL,
        lambda w: f"/api/people/{w.people['IQ']}",
        special={R.CONSUL: 404},
    ),
    A(
        "PATCH /api/people/{person_id}",
        REGISTRARS,
        lambda w: f"/api/people/{w.people['IR']}",
        data=lambda w: {"intent": "stay"},
    ),
    A(
        "PATCH /api/people/{person_id}",
        REGISTRARS,
        lambda w: f"/api/people/{w.people['IQ']}",
        data=lambda w: {"intent": "stay"},
        special={R.CONSUL: 404},
    ),
    A("GET /api/households", PERSONAL, lambda w: f"/api/households?crisis={w.crisis.pk}"),
    A(
        "GET /api/households/{household_id}",
        PERSONAL,
        lambda w: f"/api/households/{household_of(w, 'IR')}",
    ),
    A(
        "GET /api/households/{household_id}",
        PERSONAL,
        lambda w: f"/api/households/{household_of(w, 'IQ')}",
        special={R.CONSUL: 404},
    ),
    A(
        "POST /api/people/{person_id}/status",
        REGISTRARS,
        lambda w: f"/api/people/{w.people['IR']}/status",
        data=lambda w: {"status": "verified"},
    ),
    A(
        "GET /api/crises/{crisis_id}/priority-policy",
        EVERY_ROLE,
        lambda w: f"/api/crises/{w.crisis.pk}/priority-policy",
    ),
    A(
        "PUT /api/crises/{crisis_id}/priority-policy",
        MANAGERS,
        lambda w: f"/api/crises/{w.crisis.pk}/priority-policy",
        data=lambda w: {"mode": "strict", "rules": [{"group": "child", "weight": 3}]},
    ),
    A(
        "GET /api/legs/{leg_id}/manifest",
        TRANSPORT,
        lambda w: f"/api/legs/{booked_leg(w)}/manifest?format=paxlst",
    ),
    A(
        "GET /api/legs/{leg_id}/manifest",
        TRANSPORT,
        lambda w: f"/api/legs/{other_crisis_leg(w)}/manifest",
        ok=404,
    ),
    A(
        "POST /api/legs/{leg_id}/passes",
        TRANSPORT,
        lambda w: f"/api/legs/{booked_leg(w)}/passes",
        ok=202,
    ),
    A(
        "GET /api/legs/{leg_id}/passes/{print_id}",
        TRANSPORT,
        lambda w: f"/api/legs/{booked_leg(w)}/passes/{pass_print(w)}",
    ),
    A(
        "GET /api/legs/{leg_id}/passes/{print_id}/pdf",
        TRANSPORT,
        lambda w: f"/api/legs/{booked_leg(w)}/passes/{pass_print(w)}/pdf",
    ),
    A(
        "GET /api/legs/{leg_id}/passes/{print_id}/pdf",
        TRANSPORT,
        lambda w: f"/api/legs/{other_crisis_leg(w)}/passes/{pass_print(w)}/pdf",
        ok=404,  # a print is found only through its own leg
    ),
    A(
        "GET /api/bookings/{booking_id}/pass",
        TRANSPORT,
        lambda w: f"/api/bookings/{world_booking(w)}/pass?format=png",
    ),
    A(
        "GET /api/bookings/{booking_id}/undertaking",
        GATE,
        lambda w: f"/api/bookings/{undertaking_booking(w)}/undertaking",
    ),
    A(
        "PATCH /api/households/{household_id}",
        REGISTRARS,
        lambda w: f"/api/households/{household_of(w, 'IR')}",
        data=lambda w: {"contact_id": household_contact(w, "IR")},
    ),
    A(
        "PATCH /api/households/{household_id}",
        REGISTRARS,
        lambda w: f"/api/households/{household_of(w, 'IQ')}",
        data=lambda w: {"contact_id": household_contact(w, "IQ")},
        special={R.CONSUL: 404},
    ),
    A(
        "POST /api/identity/mrz",
        EVERY_ROLE,
        data=lambda w: {
            "lines": [
                "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
            ]
        },
    ),
]


def booked_leg(w: World) -> int:
    """The world's leg with the world's booking on it."""
    world_booking(w)
    return world_leg(w)


def pass_print(w: World) -> int:
    """A finished print of the boarding passes of the world's booked leg."""
    from aman.transport.models import Leg, PassPrint
    from aman.transport.pass_prints import pass_print_start

    leg = Leg.objects.get(pk=booked_leg(w))
    job = PassPrint.objects.filter(leg=leg, status="done").first()
    if job is None:
        job, _created = pass_print_start(actor=None, leg=leg, inline=True)
    return job.pk


def other_crisis_leg(w: World) -> int:
    from aman.transport.models import Leg
    from aman.transport.services import leg_create

    leg = Leg.objects.filter(crisis=w.other_crisis, source_ref="matrix").first()
    if leg is None:
        leg = leg_create(
            actor=None, crisis=w.other_crisis, data=leg_api_body(), source_ref="matrix"
        )
    return leg.pk


# Shelter's rows live beside its tests (tests/shelter/access_*.py) as keyword dicts.
UI += [Route(**row) for row in shelter_rows(api=False)]
API += [Route(**row) for row in shelter_rows(api=True)]
UI += [Route(**row) for row in planning_rows()]
API += [Route(**row) for row in planning_rows(api=True)]

ROUTES = UI + API
# Pages outside the matrix on purpose, each with its reason.
EXEMPT_UI = {
    "admin": "Django admin: superusers only, guarded by Django (test_admin_is_for_superusers)",
    "api": "the API's operations are listed one by one in API",
}
EXEMPT_API = {
    "GET /api/openapi.json": "public description of the API, no data",
    "GET /api/docs": "public description of the API, no data",
}


def expected(route: Route, persona: str) -> int:
    if persona in route.special:
        return route.special[persona]
    if persona == "anonymous":
        return route.anonymous
    return route.ok if persona in route.allowed else route.denied


def call(w: World, route: Route, persona: str) -> int:
    client = w.api(persona) if route.api else w.client(persona)
    data = route.data(w) if route.data else {}
    path = route.path(w)
    if route.api and route.multipart:
        response = getattr(client, route.method)(path, data=data)
    elif route.api:
        response = (
            getattr(client, route.method)(
                path, data=json.dumps(data), content_type="application/json"
            )
            if route.method != "get"
            else client.get(path)
        )
    else:
        response = getattr(client, route.method)(path, data=data)
    return response.status_code


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method.upper()} {r.name}" for r in ROUTES])
def test_role_gets_exactly_its_access(world: World, route: Route) -> None:
    wrong = []
    for persona in PERSONA_ROLES:
        # Each persona's request runs in a savepoint rolled back afterwards, so a write by
        # one persona does not change what the next one sees.
        sid = transaction.savepoint()
        try:
            got = call(world, route, persona)
        finally:
            transaction.savepoint_rollback(sid)
        if got != expected(route, persona):
            wrong.append(f"{persona}: got {got}, expected {expected(route, persona)}")
    assert not wrong, f"{route.method.upper()} {route.path(world)}\n" + "\n".join(wrong)


def _url_names(patterns: list[Any], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            top = str(p.pattern)
            if top.startswith("admin/"):
                names.add("admin")
            elif top.startswith("api/"):
                names.add("api")
            else:
                names |= _url_names(p.url_patterns, prefix + top)
        elif isinstance(p, URLPattern):
            names.add(p.name or f"<unnamed {prefix}{p.pattern}>")
    return names


def test_every_route_is_in_the_matrix() -> None:
    covered_ui = {r.name for r in UI} | set(EXEMPT_UI)
    assert _url_names(get_resolver().url_patterns) - covered_ui == set()

    schema = api.get_openapi_schema(path_prefix="/api")
    operations = {
        f"{method.upper()} {path.rstrip('/')}"
        for path, ops in schema["paths"].items()
        for method in ops
    }
    covered_api = {r.name for r in API} | set(EXEMPT_API)
    assert operations - covered_api == set(), "API operations missing from the access matrix"
    assert {r.name for r in API} - operations == set(), (
        "matrix rows for operations that do not exist"
    )


def test_admin_is_for_superusers(world: World) -> None:
    assert world.client("superuser").get("/admin/").status_code == 200
    for persona in ("anonymous", R.CRISIS_MANAGER, R.OPERATOR):
        response = world.client(persona).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
