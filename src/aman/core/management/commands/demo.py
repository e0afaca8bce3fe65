import secrets
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aman.core import services
from aman.core.commands import AmanCommand
from aman.core.models import Crisis, Mission, User
from aman.core.roles import Role
from aman.geo.models import Country

DEMO_MISSIONS = [
    # name, kind, host country, city, countries covered
    ("Embassy of Kazakhstan in Tehran", Mission.Kind.EMBASSY, "IR", "Tehran", ["IR"]),
    ("Embassy of Kazakhstan in Baku", Mission.Kind.EMBASSY, "AZ", "Baku", ["AZ"]),
    ("Embassy of Kazakhstan in Abu Dhabi", Mission.Kind.EMBASSY, "AE", "Abu Dhabi", ["AE", "OM"]),
    ("Consulate General of Kazakhstan in Dubai", Mission.Kind.CONSULATE, "AE", "Dubai", ["AE"]),
    ("Embassy of Kazakhstan in Doha", Mission.Kind.EMBASSY, "QA", "Doha", ["QA", "BH"]),
]
DEMO_USERS = [
    ("manager", Role.CRISIS_MANAGER, None),
    ("operator", Role.OPERATOR, None),
    ("consul", Role.CONSUL, "Embassy of Kazakhstan in Tehran"),
    ("logistics", Role.LOGISTICS, None),
    ("duty", Role.DUTY_OFFICER, None),
    ("liaison", Role.PARTNER_LIAISON, None),
    ("observer", Role.OBSERVER, None),
]
DEMO_CRISIS = "middle-east-2026"


class Command(AmanCommand):
    help = gettext_lazy(
        "Set up the demo (migrate, reference data, a demo crisis, a login per role) and serve it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help=_("set up only"))
        parser.add_argument(
            "--password", help=_("one password for every demo login (default: random)")
        )
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if not Country.objects.exists():
            self.stdout.write(_("Loading reference geography (first run only)…"))
            call_command("loadgeo", verbosity=0)
        credentials = self._populate(options["password"])
        self._ages_refresh()
        self.stdout.write("")
        self.stdout.write(
            _("Demo logins (one per role), at %(url)s")
            % {"url": f"http://127.0.0.1:{options['port']}/login/"}
        )
        for username, password, role in credentials:
            self.stdout.write(f"  {username:<10} {password:<16} {role}")
        self.stdout.write("  " + _("(manager may also use the Django admin at /admin/)"))
        self.stdout.write("")
        if not options["no_serve"]:
            call_command("serve", port=options["port"])

    def _ages_refresh(self) -> None:
        """The demo has no worker, whose scheduler assesses ages again every night: each
        start does it, for the birthdays since the last start (the demo's data is kept
        between starts, which may be weeks apart)."""
        from django.utils import timezone

        from aman.core.models import AuditEntry
        from aman.registry.services import priority_ages_refresh

        today = timezone.localdate()
        for crisis in Crisis.objects.filter(status=Crisis.Status.OPEN).order_by("pk"):
            last = (
                AuditEntry.objects.filter(verb="priority_ages_refresh", crisis=crisis)
                .order_by("-at")
                .values_list("at", flat=True)
                .first()
            )
            since = timezone.localdate(last or crisis.created_at)
            priority_ages_refresh(crisis=crisis, since=min(since, today), today=today)

    @transaction.atomic
    def _populate(self, password: str | None) -> list[tuple[str, str, str]]:
        countries = {c.code: c for c in Country.objects.all()}
        missions = {}
        for name, kind, host, city, area in DEMO_MISSIONS:
            mission = Mission.objects.filter(name=name).first() or services.mission_create(
                actor=None,
                name=name,
                kind=kind,
                country=countries[host],
                city=city,
                area=[countries[c] for c in area],
            )
            missions[name] = mission
        crisis = Crisis.objects.filter(code=DEMO_CRISIS).first()
        if crisis is None:
            crisis = services.crisis_create(
                actor=None,
                name="Middle East escalation 2026",
                code=DEMO_CRISIS,
                description="Airspace closed over Iran and the Gulf; citizens leave overland "
                "through Azerbaijan, Armenia, Turkey and Turkmenistan and by charter "
                "from the Gulf.",
                home_country=countries["KZ"],
                affected_countries=[
                    countries[c] for c in ("IR", "IL", "AE", "QA", "BH", "KW", "IQ", "OM")
                ],
                missions=list(missions.values()),
                public_registration=True,
                # A made-up number of the demo (Astana's area code), shown on the public pages.
                hotline_phone="+7 7172 000 000",
                hotline_note="Around the clock, in Kazakh, Russian and English.",
            )
            crisis = services.crisis_open(actor=None, crisis=crisis)
        if not crisis.people.exists():
            _demo_people(crisis)
        if not crisis.legs.exists():
            _demo_transport(crisis)
        if not crisis.hotels.exists():
            _demo_shelter(crisis)
        rows = []
        for username, role, mission_name in DEMO_USERS:
            secret = password or secrets.token_urlsafe(9)
            user = User.objects.filter(username=username).first()
            if user is None:
                user = services.user_create(
                    actor=None,
                    username=username,
                    role=role,
                    password=secret,
                    mission=missions.get(mission_name or ""),
                    is_superuser=username == "manager",
                )
            else:
                services.user_set_password(actor=None, user=user, password=secret)
            if user.current_crisis_id is None:
                services.user_set_current_crisis(actor=user, crisis=crisis)
            rows.append((username, secret, str(Role(role).label)))
        return rows


SURNAMES = [
    "Жұмабек",
    "Сейітов",
    "Әбдірахман",
    "Нұрланов",
    "Қасымов",
    "Омарова",
    "Ахметова",
    "Серікбаев",
    "Төлеуова",
    "Бекова",
    "Иванов",
    "Ким",
]
MEN = ["Нұрлан", "Ерлан", "Әлихан", "Қайрат", "Бауыржан", "Марат", "Данияр", "Сергей"]
WOMEN = ["Айгүл", "Дана", "Жанар", "Сәуле", "Гүлнар", "Мадина", "Әсел", "Ольга"]
CITIES = [
    ("IR", "Tehran"),
    ("IR", "Tabriz"),
    ("IR", "Shiraz"),
    ("AE", "Dubai"),
    ("AE", "Abu Dhabi"),
    ("QA", "Doha"),
    ("IL", "Tel Aviv"),
    ("BH", "Manama"),
]


def _demo_people(crisis: Crisis) -> None:
    """Forty households registered through the same service as the public form."""
    import random
    from datetime import date, timedelta

    from aman.registry.services import registration_submit

    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    for n in range(40):
        surname = rng.choice(SURNAMES)
        country, city = rng.choice(CITIES)
        members = []
        for i in range(rng.choice([1, 1, 2, 3, 4])):
            female = rng.random() < 0.5
            age = (
                rng.choice([rng.randint(20, 55), rng.randint(60, 85), rng.randint(1, 16)])
                if i
                else rng.randint(20, 75)
            )
            members.append(
                {
                    "surname": surname + ("а" if female and surname[-2:] in ("ов", "ев") else ""),
                    "given_names": rng.choice(WOMEN if female else MEN),
                    "birth_date": (
                        date(2026, 3, 1) - timedelta(days=365 * age + rng.randint(0, 364))
                    ).isoformat(),
                    "sex": "F" if female else "M",
                    "phones": [f"+7701{rng.randint(1000000, 9999999)}"] if i == 0 else [],
                    "documents": [
                        {"number": f"N{rng.randint(10000000, 99999999)}", "issuing_state": "KAZ"}
                    ],
                    "medical_need": rng.random() < 0.08,
                    "pregnant": female and 20 <= age <= 40 and rng.random() < 0.1,
                }
            )
        registration_submit(
            crisis=crisis,
            channel=rng.choice(["public_web", "hotline", "api"]),
            payload={
                "members": members,
                "location": {"country": country, "city": city},
                "intent": rng.choice(["leave"] * 8 + ["undecided", "stay"]),
                "consent": True,
            },
            idempotency_key=f"demo-{n}",
            source="demo",
        )
    _demo_repeats(crisis)


def _demo_repeats(crisis: Crisis) -> None:
    """Three of the people registered again, as happens: on a tour operator's list in
    passport Latin with the same passport, by a relative in Russian spelling, and with a
    birth date mistyped — for the duplicates queue and the whole-crisis search."""
    from datetime import timedelta

    from aman.registry.models import Person
    from aman.registry.services import registration_submit

    russian = str.maketrans("ӘәҒғҚқҢңӨөҰұҮүҺһІі", "АаГгКкНнОоУуУуХхИи")
    people = list(
        Person.objects.filter(crisis=crisis, birth_date__isnull=False)
        .prefetch_related("documents", "phones")
        .order_by("id")[:30:10]
    )
    for n, person in enumerate(people):
        document = person.documents.first()
        member: dict[str, object] = {
            "surname": person.surname.translate(russian),
            "given_names": person.given_names.translate(russian),
            "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        }
        if n == 0 and document is not None:
            member = {
                "surname": person.surname_latin,
                "given_names": person.given_names_latin,
                "birth_date": member["birth_date"],
                "documents": [{"number": document.number, "issuing_state": "KAZ"}],
            }
        elif n == 2 and person.birth_date:
            member["birth_date"] = (person.birth_date + timedelta(days=1)).isoformat()
            member["phones"] = [p.number for p in person.phones.all()][:1]
        registration_submit(
            crisis=crisis,
            channel="import" if n == 0 else "hotline",
            payload={
                "members": [member],
                "location": {"country": person.country.code},
                "consent": True,
            },
            idempotency_key=f"demo-repeat-{n}",
            source="Demo Tour" if n == 0 else "demo",
            source_ref=f"DT-2026-{100 + n}" if n == 0 else "",
        )


def _demo_transport(crisis: Crisis) -> None:
    """The overland corridor out of Tehran (bus to Astara, bus on to Baku's airport, a
    charter home) and a charter from Dubai, with the first households booked."""
    from datetime import timedelta

    from django.utils import timezone

    from aman.geo.models import Place
    from aman.registry.models import Household
    from aman.transport import services as transport

    def airport(iata: str) -> Place | None:
        return Place.objects.filter(kind=Place.Kind.AIRPORT, iata=iata).first()

    astara = Place.objects.filter(kind=Place.Kind.CROSSING, code="IR-AZ-ASTARA").first()
    ika, gyd, ala, dxb, nqz = (airport(c) for c in ("IKA", "GYD", "ALA", "DXB", "NQZ"))
    if not all((astara, ika, gyd, ala, dxb, nqz)):
        return
    morning = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
    day1 = morning + timedelta(days=1)
    plan = [
        ("bus", ika, astara, day1, 9, 50, "Tehran Transit Co.", "BUS-01", None),
        ("bus", astara, gyd, day1 + timedelta(hours=10), 4, 50, "Baku Express", "BUS-02", None),
        ("charter", gyd, ala, day1 + timedelta(days=1), 4, 180, "Air Astana", "KC 7002", "95000"),
        ("charter", dxb, nqz, day1 + timedelta(hours=3), 4, 160, "SCAT", "DV 5402", "120000"),
    ]
    legs = []
    for mode, origin, destination, departs, hours, seats, carrier, number, fare in plan:
        legs.append(
            transport.leg_create(
                actor=None,
                crisis=crisis,
                data={
                    "mode": mode,
                    "origin": origin,
                    "destination": destination,
                    "departure_planned": departs,
                    "arrival_planned": departs + timedelta(hours=hours),
                    "capacity": seats,
                    "carrier": carrier,
                    "number": number,
                    "fare": fare,
                    "currency": "KZT" if fare else "",
                },
            )
        )
    iran = list(Household.objects.filter(crisis=crisis, members__country__code="IR").distinct()[:4])
    for leg in legs[:3]:
        transport.leg_book(actor=None, leg=leg, households=iran)
    gulf = list(Household.objects.filter(crisis=crisis, members__country__code="AE").distinct()[:3])
    if gulf:
        transport.leg_book(actor=None, leg=legs[3], households=gulf)


def _demo_shelter(crisis: Crisis) -> None:
    """A hotel in Baku by the airport (a state-paid block, the night between the bus from
    Astara and the charter home) and one in Dubai through a tour operator, with the
    households booked on those legs housed."""
    from datetime import timedelta

    from django.utils import timezone

    from aman.core.errors import ApplicationError
    from aman.registry.models import Household
    from aman.shelter import services as shelter

    operator = shelter.tour_operator_create(
        actor=None,
        data={"name": "Kompas Tour", "contact": "Duty desk", "phone": "+7 727 258 00 00"},
    )
    tomorrow = timezone.localdate() + timedelta(days=1)
    baku = shelter.hotel_create(
        actor=None,
        crisis=crisis,
        data={
            "name": "Airport Hotel Baku",
            "country": "AZ",
            "address": "Heydar Aliyev International Airport, Baku",
            "latitude": 40.4675,
            "longitude": 50.0467,
            "contact": "Front desk",
            "phone": "+994 12 497 27 27",
        },
    )
    dubai = shelter.hotel_create(
        actor=None,
        crisis=crisis,
        data={
            "name": "Deira Palace Hotel",
            "country": "AE",
            "address": "Al Rigga Road, Deira, Dubai",
            "latitude": 25.2644,
            "longitude": 55.3217,
            "tour_operator": operator,
        },
    )
    for room_type, beds, rooms, rate in (("family", 4, 10, "95"), ("double", 2, 20, "70")):
        shelter.block_create(
            actor=None,
            hotel=baku,
            data={
                "room_type": room_type,
                "beds": beds,
                "rooms": rooms,
                "first_night": tomorrow,
                "last_night": tomorrow + timedelta(days=6),
                "rate": rate,
                "currency": "AZN",
                "meals": "half_board",
                "payer": "state",
                "contract_ref": "MFA-AZ-2026-014",
            },
        )
    shelter.block_create(
        actor=None,
        hotel=dubai,
        data={
            "room_type": "double",
            "beds": 2,
            "rooms": 40,
            "first_night": timezone.localdate(),
            "last_night": timezone.localdate() + timedelta(days=4),
            "rate": "310",
            "currency": "AED",
            "meals": "breakfast",
            "payer": "guarantee_fund",
            "contract_ref": "KT-GF-0311",
        },
    )
    shelter.exchange_rate_set(
        actor=None,
        crisis=crisis,
        data={
            "currency": "AZN",
            "rate": "300",
            "valid_from": timezone.localdate(),
            "source": "NBK",
        },
    )
    households = Household.objects.filter(crisis=crisis, bookings__isnull=False).distinct()
    for household in households[:4]:
        try:
            shelter.household_house(
                actor=None,
                crisis=crisis,
                household=household,
                hotel=baku,
                first_night=tomorrow,
                last_night=tomorrow,
            )
        except ApplicationError:  # demo data: a household that does not fit is left out
            continue
