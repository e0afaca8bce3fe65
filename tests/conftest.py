"""Fixtures shared by every test: real reference data, personas for every role, clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from hypothesis import settings as hypothesis_settings

from aman.core.models import Crisis, Mission, User
from aman.core.roles import Role
from aman.core.services import api_token_create
from aman.registry.services import registration_submit
from tests.factories import CrisisFactory, MissionFactory, UserFactory, country

# Property tests check outcomes, not speed: on two shared cores a generated example can take
# longer than Hypothesis's default 200 ms deadline (seen: the IIN round trip under xdist).
hypothesis_settings.register_profile("aman", deadline=None)
hypothesis_settings.load_profile("aman")

TEST_COUNTRIES = {"KZ", "IR", "AZ", "AM", "TR", "TM", "AE", "QA", "IQ"}


@pytest.fixture(autouse=True)
def _fast_hasher(settings: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _imports_inline(settings: Any) -> None:
    """Imports run inside the request in tests, so their outcome can be asserted."""
    settings.AMAN_IMPORTS_RUN = "inline"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Each test starts in English: LocaleMiddleware leaves the last request's language
    active in the thread, which would leak from one test into the next."""
    from django.utils import translation

    with translation.override("en"):
        yield


def load_reference_data() -> None:
    """Countries, the shipped border crossings, and the airports and big cities of the
    countries the tests use — loaded by the real loaders."""
    from django.conf import settings

    from aman.geo import loaders
    from aman.geo.models import Country

    if Country.objects.exists():
        return
    loaders.load_countries()
    loaders.load_airports(only_countries=TEST_COUNTRIES)
    loaders.load_cities(min_population=200000, only_countries=TEST_COUNTRIES)
    loaders.load_crossings(settings.AMAN_REFERENCE_DATA_DIR / "border_crossings.csv")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """Reference data is committed once per test database."""
    with django_db_blocker.unblock():
        load_reference_data()


@pytest.fixture
def geo(db: None) -> None:
    # A transactional test empties every table when it ends; load again if so.
    load_reference_data()


PERSONA_ROLES = [
    "anonymous",
    Role.CRISIS_MANAGER,
    Role.OPERATOR,
    Role.CONSUL,
    Role.LOGISTICS,
    Role.DUTY_OFFICER,
    Role.PARTNER_LIAISON,
    Role.OBSERVER,
    "superuser",
]


@dataclass
class World:
    """Two crises: `crisis` involves the Tehran mission (the consul's), `other_crisis` only
    the Dubai mission. One user per role; `users["consul"]` works at the Tehran mission."""

    crisis: Crisis
    other_crisis: Crisis
    tehran: Mission
    dubai: Mission
    users: dict[str, User] = field(default_factory=dict)
    # A person in Iran (the consul's area) and one in Iraq (not), both in `crisis`.
    people: dict[str, int] = field(default_factory=dict)

    def client(self, persona: str) -> Client:
        client = Client()
        if persona != "anonymous":
            client.force_login(self.users[persona])
        return client

    def api(self, persona: str) -> Client:
        if persona == "anonymous":
            return Client()
        _token, secret = api_token_create(actor=self.users[persona], name="test")
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture
def world(geo: None) -> World:
    tehran = MissionFactory(name="Embassy in Tehran", country=country("IR"), area=[country("IR")])
    dubai = MissionFactory(name="Consulate in Dubai", country=country("AE"), area=[country("AE")])
    crisis = CrisisFactory(
        name="Iran 2026",
        affected_countries=[country("IR"), country("IQ")],
        missions=[tehran, dubai],
    )
    other = CrisisFactory(name="Gulf 2026", affected_countries=[country("AE")], missions=[dubai])
    w = World(crisis=crisis, other_crisis=other, tehran=tehran, dubai=dubai)
    for role in Role.values:
        w.users[role] = UserFactory(
            username=role, role=role, mission=tehran if role == Role.CONSUL else None
        )
    w.users["superuser"] = UserFactory(
        username="root", role=Role.OBSERVER, is_superuser=True, is_staff=True
    )
    User.objects.filter(pk__in=[u.pk for u in w.users.values()]).update(current_crisis=crisis)
    for user in w.users.values():
        user.current_crisis = crisis
    for where in ("IR", "IQ"):
        record = registration_submit(
            crisis=crisis,
            channel="hotline",
            payload={
                "members": [
                    {"surname": "Сейітов", "given_names": "Марат", "birth_date": "1980-05-05"}
                ],
                "location": {"country": where},
                "consent": True,
            },
        )
        w.people[where] = record.people.get().pk
    return w


@pytest.fixture
def manager(world: World) -> User:
    return world.users[Role.CRISIS_MANAGER]
