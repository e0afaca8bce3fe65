"""Planning: start a plan or a what-if (solved in the background), read plans with their
result (`aman.plan/1`) and inputs (`aman.scenario/1`), compare two plans, publish or
discard a draft; bus pools, the planner's buses whose trips are not fixed yet."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from aman.api.idempotency import idempotent
from aman.api.routers.registry import ERRORS, _choice, _crisis, _user
from aman.api.routers.transport import PlaceRef
from aman.core import access
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError
from aman.core.models import User
from aman.core.roles import Cap
from aman.planning import services
from aman.planning.inputs import pk_of
from aman.planning.models import BusPool, Plan, PlanChange
from aman.registry.models import Household

router = Router(tags=["planning"])


class PlanOut(Schema):
    id: int
    crisis: int = Field(alias="crisis_id")
    number: int
    kind: str = Field(description="plan, or what_if (never published)")
    status: str = Field(
        description="running, failed, draft, publishing, published, superseded, discarded"
    )
    title: str = Field(description="a what-if's changes in words, in the request's language")

    @staticmethod
    def resolve_title(obj: Plan) -> str:
        return services.plan_title(obj)

    changes: list[dict[str, Any]]
    days: int
    method: str
    base: int | None = Field(alias="base_id", description="the plan published when it started")
    progress: str
    error: str = Field(
        description="why it failed, or (a draft) why it could not be published, in the "
        "request's language"
    )

    @staticmethod
    def resolve_error(obj: Plan) -> str:
        return services.error_text(obj)

    people: int | None
    people_safe: int | None
    unassigned: int | None = Field(description="households without an itinerary")
    gap: float | None = Field(description="to the LP bound, a share (0.001 = 0.1 %)")
    seconds: float | None
    input_warnings: list[str] = Field(description="remarks on the inputs, in words")

    @staticmethod
    def resolve_input_warnings(obj: Plan) -> list[str]:
        from aman.planning.inputs import warning_text

        return [warning_text(w) for w in obj.input_warnings]

    created_at: datetime
    finished_at: datetime | None
    published_at: datetime | None


class PlanDetailOut(PlanOut):
    result: dict[str, Any] | None = Field(description="the plan (aman.plan/1, docs/planning.md)")


class ChangeIn(Schema):
    type: Literal["close_crossing", "cancel_leg", "add_flight"]
    crossing: int | None = Field(None, description="close_crossing: the crossing's place id")
    leg: int | None = Field(None, description="cancel_leg: the leg's id")
    from_: str | None = Field(
        None,
        alias="from",
        description="close_crossing: closed from (ISO date-time); add_flight: airport code",
    )
    to: str | None = Field(
        None, description="close_crossing: closed until; add_flight: airport code"
    )
    departure: datetime | None = Field(None, description="add_flight")
    arrival: datetime | None = Field(None, description="add_flight")
    seats: int | None = Field(None, ge=1, le=1000, description="add_flight")


class PlanIn(Schema):
    kind: Literal["plan", "what_if"] = "plan"
    days: int = Field(7, ge=1, le=services.MAX_DAYS)
    method: Literal["auto", "lp", "greedy"] = "auto"
    changes: list[ChangeIn] = Field(default_factory=list, max_length=services.MAX_CHANGES)


def _planner(request: HttpRequest, cap: str = Cap.PLAN) -> User:
    user = _user(request)
    access.require(user, cap)
    return user


def _plan(user: User, plan_id: int) -> Plan:
    plan = Plan.objects.filter(pk=plan_id).select_related("crisis").first()
    if plan is None:
        raise Http404
    access.crisis_for_user(user, plan.crisis_id)
    return plan


@router.get(
    "/plans", response=list[PlanOut], summary="The crisis's plans and what-ifs, newest first"
)
@paginate(LimitOffsetPagination)
def plan_list(request: HttpRequest, crisis: int | None = None) -> Any:
    user = _planner(request)
    return Plan.objects.filter(crisis=_crisis(user, crisis)).defer("scenario", "result")


@router.post(
    "/plans",
    response={202: PlanOut, **ERRORS},
    summary="Run the planner on the crisis as it is now (send Idempotency-Key)",
    description="The situation is taken now as the plan's inputs and solved in the "
    "background: poll GET /api/plans/{id} until its status is draft (or failed). A what-if "
    "applies its changes to a copy; nothing real is touched.",
)
def plan_create(request: HttpRequest, payload: PlanIn, crisis: int | None = None) -> Any:
    user = _planner(request)
    the_crisis = _crisis(user, crisis)

    def create() -> tuple[int, Any]:
        changes = [
            {k: v for k, v in c.model_dump(mode="json", by_alias=True).items() if v is not None}
            for c in payload.changes
        ]
        plan = services.plan_start(
            actor=user,
            crisis=the_crisis,
            kind=payload.kind,
            changes=changes,
            days=payload.days,
            method=payload.method,
        )
        plan.refresh_from_db()
        return 202, PlanOut.from_orm(plan).model_dump(mode="json", by_alias=False)

    return idempotent(request, user, payload.model_dump(mode="json", by_alias=True), create)


@router.get(
    "/plans/{plan_id}",
    response={200: PlanDetailOut, **ERRORS},
    summary="One plan with its result (itineraries, reasons, bound, limits)",
)
def plan_detail(request: HttpRequest, plan_id: int) -> Any:
    user = _planner(request)
    plan = _plan(user, plan_id)
    audit_read(actor=user, verb="plan_view", obj=plan, crisis=plan.crisis)
    return plan


@router.get(
    "/plans/{plan_id}/scenario",
    response={200: dict[str, Any], **ERRORS},
    summary="The plan's inputs as they were taken (aman.scenario/1)",
)
def plan_scenario(request: HttpRequest, plan_id: int) -> Any:
    user = _planner(request)
    plan = _plan(user, plan_id)
    audit_read(actor=user, verb="plan_scenario", obj=plan, crisis=plan.crisis, export=True)
    return plan.scenario


@router.post(
    "/plans/{plan_id}/publish",
    response={202: PlanOut, **ERRORS},
    summary="Publish a draft: its bookings and stays are made in the background",
    description="409 for a what-if, a plan that is not a draft, or one started before the "
    "plan published since. Poll GET /api/plans/{id}: published, or draft again with the "
    "reason in `error` (nothing made).",
)
def plan_publish(request: HttpRequest, plan_id: int) -> Any:
    user = _planner(request, Cap.PLAN_PUBLISH)
    plan = services.plan_publish_start(actor=user, plan=_plan(user, plan_id))
    plan.refresh_from_db()
    return Status(202, plan)


@router.post(
    "/plans/{plan_id}/discard",
    response={200: PlanOut, **ERRORS},
    summary="Discard a draft, failed or running plan",
)
def plan_discard(request: HttpRequest, plan_id: int) -> Any:
    user = _planner(request)
    return services.plan_discard(actor=user, plan=_plan(user, plan_id))


class PlanChangeOut(Schema):
    household: int = Field(alias="household_id")
    kind: str = Field(description="new, changed or cancelled (lost its itinerary)")
    cause: str = Field(
        description="changed or cancelled: displaced (its itinerary no longer possible) or "
        "reassigned (moved to bring others out)"
    )
    reason: dict[str, Any] | None = Field(description="cancelled: why it has none now")
    before: dict[str, Any] | None = Field(description="what it was told (steps)")
    after: dict[str, Any] | None = Field(
        description="what to tell it: steps (each firm or not), and firm: whether any "
        "step falls within the firm hours"
    )
    told_at: datetime | None


@router.get(
    "/plans/{plan_id}/changes",
    response=list[PlanChangeOut],
    summary="What publishing the plan changed for each household, to be told (paginated)",
    description="`kind`: new, changed or cancelled (any other value: 400 naming them).",
)
@paginate(LimitOffsetPagination)
def plan_changes(request: HttpRequest, plan_id: int, kind: str | None = None) -> Any:
    user = _planner(request)
    plan = _plan(user, plan_id)
    _choice("kind", kind or "", PlanChange.Kind.values)
    audit_read(actor=user, verb="plan_changes", obj=plan, crisis=plan.crisis)
    rows = PlanChange.objects.filter(plan=plan).order_by("kind", "household_id")
    if kind:
        rows = rows.filter(kind=kind)
    return rows


class PriorityFiguresOut(Schema):
    priority: int
    people: int
    safe: int


class DayFiguresOut(Schema):
    day: str = Field(description="on the scenario's clock")
    safe: int = Field(description="people made safe that day")
    total: int = Field(description="people safe by the end of that day")


class PlanFiguresOut(Schema):
    id: int
    number: int
    kind: str = Field(description="plan or what_if")
    title: str = Field(description="a what-if's changes in words")
    status: str
    start: str | None = Field(description="the plan's start (its inputs' now)")
    people: int | None
    people_safe: int | None
    people_home: int | None
    unassigned: int = Field(description="households without an itinerary")
    gap: float | None = Field(description="to the LP bound, a share")
    hotel_nights: int | None = Field(description="person-nights")
    by_priority: list[PriorityFiguresOut]
    by_day: list[DayFiguresOut] = Field(description="the per-day curve of people safe")


class ComparedOut(Schema):
    household: int | None
    kind: str = Field(description="added, lost, moved, unchanged or not_planned")
    a: dict[str, Any] | None = Field(description="its itinerary in plan A: steps, safe_at, home_at")
    b: dict[str, Any] | None = Field(description="its itinerary in plan B")
    reason: dict[str, Any] | None = Field(
        description="lost: why plan B gives it no itinerary (code, text, place or crossing)"
    )


class PlanCompareOut(Schema):
    a: PlanFiguresOut
    b: PlanFiguresOut
    since: datetime | None = Field(
        description="the later plan's start: itineraries are compared from then on"
    )
    counts: dict[str, int] = Field(description="households of each kind")
    count: int = Field(description="households of the kind asked for (all kinds: every one)")
    items: list[ComparedOut]


class CompareQuery(Schema):
    kind: str = Field("", description="one of: " + ", ".join(services.COMPARED))
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


@router.get(
    "/plans/{a}/compare/{b}",
    response={200: PlanCompareOut, **ERRORS},
    summary="Compare two plans of a crisis: their figures, and the households B differs for",
    description="Any two plans of one crisis with a result (drafts, what-ifs, published, "
    "superseded or discarded plans), in either order: each plan's figures (people safe, "
    "households without an itinerary, gap, hotel nights, by priority group and by day) and, "
    "per household with an itinerary in either, how B differs from A — `added`, `lost` "
    "(with B's `reason`), `moved`, `unchanged`, or `not_planned` (B's inputs leave it "
    "out). Itineraries are compared as the plans hold them, from the later plan's start "
    "on. `?kind=` filters, `limit`/`offset` page the items. 400 for the same plan twice, "
    "plans of two crises, or a plan without a result (running, failed); 404 for a plan "
    "not found or not yours. Audited.",
)
def plan_compare(request: HttpRequest, a: int, b: int, filters: Query[CompareQuery]) -> Any:
    user = _planner(request)
    kind = _choice("kind", filters.kind, list(services.COMPARED))
    plan_a, plan_b = _plan(user, a), _plan(user, b)
    services.plans_comparable(plan_a, plan_b)
    entries = services.compare_plans(plan_a, plan_b)
    groups = services.compared_by_kind(entries)
    counts = {k: len(v) for k, v in groups.items()}
    chosen = groups[kind] if kind else list(entries.items())
    page = chosen[filters.offset : filters.offset + filters.limit]
    audit_read(
        actor=user,
        verb="plan_compare",
        obj=plan_a,
        crisis=plan_a.crisis,
        details={
            "a": plan_a.pk,
            "b": plan_b.pk,
            "kind": kind,
            "households": [pk for key, _e in page if (pk := pk_of(key, "hh")) is not None],
        },
    )
    return {
        "a": services.plan_figures(plan_a),
        "b": services.plan_figures(plan_b),
        "since": services.compared_since(plan_a, plan_b),
        "counts": counts,
        "count": len(chosen),
        "items": [
            {
                "household": pk_of(key, "hh"),
                "kind": e["kind"],
                "a": services.brief(e["a"]),
                "b": services.brief(e["b"]),
                "reason": e.get("reason"),
            }
            for key, e in page
        ],
    }


def _household(user: User, plan: Plan, household_id: int) -> Household:
    found = Household.objects.filter(crisis=plan.crisis, pk=household_id).first()
    if found is None:
        raise Http404
    return found


@router.post(
    "/plans/{plan_id}/households/{household_id}/lock",
    response={200: dict[str, Any], **ERRORS},
    summary="Lock a household to its itinerary in this plan: kept in every next plan",
)
def plan_lock(request: HttpRequest, plan_id: int, household_id: int) -> Any:
    user = _planner(request)
    plan = _plan(user, plan_id)
    lock = services.household_lock(
        actor=user, plan=plan, household=_household(user, plan, household_id)
    )
    return {"household": household_id, "plan": plan.pk, "steps": lock.steps}


@router.post(
    "/plans/{plan_id}/households/{household_id}/unlock",
    response={200: dict[str, Any], **ERRORS},
    summary="Unlock a household: the next plan plans it freely",
)
def plan_unlock(request: HttpRequest, plan_id: int, household_id: int) -> Any:
    user = _planner(request)
    plan = _plan(user, plan_id)
    services.household_unlock(actor=user, household=_household(user, plan, household_id))
    return {"household": household_id, "locked": False}


class PlanningPolicyOut(Schema):
    stability_reward: float = Field(
        description="what keeping a household's told itinerary is worth, per person of an "
        "average told household whatever its own size (0-10; one person without priority "
        "brought out at once is worth 1)"
    )
    firm_hours: int = Field(description="told itineraries starting within these hours are kept")
    connection_minutes: int = Field(
        description="the least minutes between arriving and leaving again by bus, train or ferry"
    )
    airport_connection_minutes: int = Field(
        description="the least minutes between arriving at an airport and the flight"
    )
    crossing_minutes: int = Field(description="minutes to pass a border crossing")


class PlanningPolicyIn(Schema):
    stability_reward: float
    firm_hours: int
    connection_minutes: int | None = Field(None, description="0-1440; left out: as it is")
    airport_connection_minutes: int | None = Field(None, description="0-1440; left out: as it is")
    crossing_minutes: int | None = Field(None, description="0-1440; left out: as it is")


@router.get(
    "/crises/{crisis_id}/planning-policy",
    response={200: PlanningPolicyOut, **ERRORS},
    tags=["crises"],
    summary="How the crisis's plans treat what households were told",
)
def planning_policy_get(request: HttpRequest, crisis_id: int) -> Any:
    user = _planner(request)
    return services.planning_policy(access.crisis_for_user(user, crisis_id))


@router.put(
    "/crises/{crisis_id}/planning-policy",
    response={200: PlanningPolicyOut, **ERRORS},
    tags=["crises"],
    summary="Set the stability reward and the firm hours (crisis managers); the next plan "
    "uses them",
)
def planning_policy_set(request: HttpRequest, crisis_id: int, payload: PlanningPolicyIn) -> Any:
    user = _planner(request, Cap.CRISIS_MANAGE)
    crisis = access.crisis_for_user(user, crisis_id)
    return services.planning_policy_set(
        actor=user,
        crisis=crisis,
        stability_reward=payload.stability_reward,
        firm_hours=payload.firm_hours,
        connection_minutes=payload.connection_minutes,
        airport_connection_minutes=payload.airport_connection_minutes,
        crossing_minutes=payload.crossing_minutes,
    )


# Bus pools ------------------------------------------------------------------------------------

PLACE = "airport IATA/ICAO code, crossing id (e.g. IR-AZ-ASTARA) or place id"


class PoolOut(Schema):
    id: int
    crisis_id: int
    origin: PlaceRef
    destination: PlaceRef
    buses_per_day: int
    seats: int = Field(description="seats per bus")
    travel_minutes: int
    departures: list[str] = Field(
        validation_alias="departure_list", description='"HH:MM", local at the origin'
    )
    first_day: date
    last_day: date
    escort: bool = Field(description="a medical escort on board")
    carrier: str
    cost_per_seat: Decimal | None
    created_at: datetime
    updated_at: datetime


class PoolIn(Schema):
    origin: str | int = Field(description=PLACE)
    destination: str | int = Field(description=PLACE)
    buses_per_day: int = Field(description="1-500; buses × seats at most 2,000 a day")
    seats: int = Field(description="seats per bus, 1-100")
    travel_minutes: int = Field(description="30-4320 (half an hour to three days)")
    departures: list[str] = Field(
        description='1-24 times "HH:MM" a day, local at the origin', examples=[["06:00", "14:00"]]
    )
    first_day: date = Field(description="within two years of today")
    last_day: date = Field(description="not before first_day")
    escort: bool = False
    carrier: str = Field("", description="at most 200 characters")
    cost_per_seat: Decimal | None = Field(None, description="0-99,999,999.99 (KZT)")


class PoolPatch(Schema):
    origin: str | int | None = Field(None, description=PLACE)
    destination: str | int | None = Field(None, description=PLACE)
    buses_per_day: int | None = None
    seats: int | None = None
    travel_minutes: int | None = None
    departures: list[str] | None = None
    first_day: date | None = None
    last_day: date | None = None
    escort: bool | None = None
    carrier: str | None = None
    cost_per_seat: Decimal | None = None


def _pool(request: HttpRequest, pool_id: int, crisis: int | None) -> tuple[User, BusPool]:
    """A planner's pool of the crisis named (else the current one); another crisis's: 404."""
    user = _planner(request)
    the_crisis = _crisis(user, crisis)
    pool = (
        BusPool.objects.filter(crisis=the_crisis, pk=pool_id)
        .select_related("crisis", "origin__country", "destination__country")
        .first()
    )
    if pool is None:
        raise Http404
    return user, pool


POOLS = "?crisis=ID names the crisis (default: the current one); another crisis's pool is 404."
RULES = (
    "Every field is checked as on the page: places of the crisis for buses (a city, airport "
    "or assembly point of the affected countries or of a country their crossings lead "
    "into, or a crossing out of them), the destination not the origin, days in order "
    "within two years of today, departures as HH:MM; each bad field named in a 400."
)


@router.get(
    "/pools",
    response=list[PoolOut],
    summary="The crisis's bus pools: buses available, trips not fixed (paginated)",
)
@paginate(LimitOffsetPagination)
def pool_list(request: HttpRequest, crisis: int | None = None) -> Any:
    user = _planner(request)
    return BusPool.objects.filter(crisis=_crisis(user, crisis)).select_related(
        "origin__country", "destination__country"
    )


@router.post(
    "/pools",
    response={201: PoolOut, **ERRORS},
    summary="Add a bus pool; the next plan uses it (send Idempotency-Key)",
    description=RULES,
)
def pool_create(request: HttpRequest, payload: PoolIn, crisis: int | None = None) -> Any:
    user = _planner(request)
    the_crisis = _crisis(user, crisis)

    def create() -> tuple[int, Any]:
        pool = services.pool_create(actor=user, crisis=the_crisis, data=payload.model_dump())
        return 201, PoolOut.from_orm(pool).model_dump(mode="json")

    return idempotent(request, user, payload.model_dump(mode="json"), create)


@router.get(
    "/pools/{pool_id}", response={200: PoolOut, **ERRORS}, summary="One bus pool", description=POOLS
)
def pool_detail(request: HttpRequest, pool_id: int, crisis: int | None = None) -> Any:
    return _pool(request, pool_id, crisis)[1]


@router.patch(
    "/pools/{pool_id}",
    response={200: PoolOut, **ERRORS},
    summary="Change a bus pool (any of its fields); the next plan uses it",
    description=f"{POOLS} {RULES} The trips that published plans already made into legs stay "
    "legs with their bookings (on their days the pool runs only its other buses); a plan "
    "started before the change is not published.",
)
def pool_update(
    request: HttpRequest, pool_id: int, payload: PoolPatch, crisis: int | None = None
) -> Any:
    user, pool = _pool(request, pool_id, crisis)
    data = payload.model_dump(exclude_unset=True)
    if not data:
        raise ApplicationError(_("Nothing to change."))
    return services.pool_update(actor=user, pool=pool, data=data)


@router.delete(
    "/pools/{pool_id}",
    response={204: None, **ERRORS},
    summary="Delete a bus pool",
    description=f"{POOLS} The trips that published plans already made into legs stay legs "
    "with their bookings.",
)
def pool_delete(request: HttpRequest, pool_id: int, crisis: int | None = None) -> Any:
    user, pool = _pool(request, pool_id, crisis)
    services.pool_delete(actor=user, pool=pool)
    return Status(204, None)
