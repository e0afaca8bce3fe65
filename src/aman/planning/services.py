"""Plans: start a planner run (or a what-if), solve it in the background, lock households,
publish a reviewed plan into bookings and stays, discard one."""

from __future__ import annotations

import contextlib
import logging
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aman.core.audit import audit_write, diff, snapshot
from aman.core.errors import ApplicationError, Conflict
from aman.core.models import Crisis, User
from aman.geo.models import Place, PlaceStatusEvent
from aman.planning import inputs
from aman.planning import pool_legs as trips
from aman.planning.messages import scenario_error_text
from aman.planning.models import (
    FIRM_HOURS_MAX,
    MINUTES_MAX,
    STABILITY_REWARD_MAX,
    BusPool,
    Plan,
    PlanChange,
    PlanLock,
    PlanningPolicy,
    PlanStatus,
)
from aman.planning.optimizer import plan as solver
from aman.planning.optimizer import scenario as sc
from aman.registry.models import Household, Intent, Person
from aman.shelter import dates as shelter_dates
from aman.shelter.models import Hotel, Stay, StayStatus
from aman.shelter.services import PlanNights, hotel_today, stay_set_status, stays_from_plan
from aman.transport import services as transport
from aman.transport.models import (
    Booking,
    BookingStatus,
    Leg,
    LegStatus,
    Mode,
    PermitDecision,
    PermitEntry,
)

log = logging.getLogger(__name__)

METHODS = ("auto", "lp", "greedy")
MAX_DAYS = 14
WHAT_IF_CHANGES = ("close_crossing", "cancel_leg", "add_flight")
# The most changes one what-if takes (the API's and the page's limit).
MAX_CHANGES = 20


# Why a plan failed or could not be published, by code. Background work runs in no
# officer's language: the plan keeps the code and its parameters (`Plan.error_detail`), put
# in words when read (`error_text`).
PLAN_ERRORS: dict[str, Any] = {
    "unexpected": gettext_lazy(
        "The planner stopped on an unexpected error; the details are in the server log."
    ),
    "publish_unexpected": gettext_lazy(
        "Publishing stopped on an unexpected error; the details are in the server log. "
        "Nothing was made."
    ),
    "what_if": gettext_lazy("A what-if is never published: it shows what a change would do."),
    "not_draft": gettext_lazy("Only a draft can be published; this plan is %(status)s."),
    "published_since": gettext_lazy(
        "Plan %(n)d was published after this one was computed: run the planner again "
        "on the situation as it is now."
    ),
    "households_changed": gettext_lazy(
        "%(n)d households changed since the plan was computed (people joined, left "
        "or changed their mind): run the planner again."
    ),
    "closed": gettext_lazy(
        "%(place)s is closed now when the plan takes %(n)d households through it: "
        "run the planner again."
    ),
    "over_capacity": gettext_lazy(
        "%(place)s now lets %(capacity)d people a day through, and the plan sends "
        "%(people)d across on %(day)s: run the planner again."
    ),
    "leg_changed": gettext_lazy(
        "%(leg)s changed since the plan was computed (%(what)s), and the plan takes "
        "%(n)d households on it: run the planner again."
    ),
    "permit_missing": gettext_lazy(
        "The plan takes %(n)d households across %(place)s on %(day)s without a transit "
        "permit approved for that day: run the planner again."
    ),
    "pool_deleted": gettext_lazy(
        "A bus pool of the plan was deleted since: run the planner again."
    ),
    "pool_changed": gettext_lazy(
        "A bus pool of the plan was changed since: run the planner again."
    ),
    "hotel_removed": gettext_lazy("A hotel of the plan was removed since: run the planner again."),
    "not_booked": gettext_lazy(
        "The plan cannot be booked as it is: %(problem)s Run the planner again."
    ),
    "not_housed": gettext_lazy(
        "The plan's hotel nights cannot be housed: %(problem)s Run the planner again."
    ),
}


# What changed in a leg since a plan was computed (the `what` of `leg_changed`).
LEG_CHANGES: dict[str, Any] = {
    "departure": gettext_lazy("departure time"),
    "arrival": gettext_lazy("arrival time"),
    "cancelled": gettext_lazy("cancelled"),
}


def _error_words(code: str, params: dict[str, Any]) -> str:
    """A PLAN_ERRORS code with its parameters in words, in the active language."""
    params = dict(params)
    if "status" in params and params["status"] in PlanStatus.values:
        params["status"] = PlanStatus(params["status"]).label.lower()
    if isinstance(params.get("what"), list):
        params["what"] = ", ".join(str(LEG_CHANGES.get(w, w)) for w in params["what"])
    return str(PLAN_ERRORS[code]) % params


def error_text(plan: Plan) -> str:
    """Why the plan failed or could not be published, in the active language (a plan of
    before the codes: its text as it was kept)."""
    detail = plan.error_detail if isinstance(plan.error_detail, dict) else {}
    code = detail.get("code")
    if code not in PLAN_ERRORS:
        return plan.error
    try:
        return _error_words(code, {k: v for k, v in detail.items() if k != "code"})
    except (KeyError, TypeError, ValueError):
        return plan.error


class Refused(Conflict):
    """A plan that cannot be published, said with a PLAN_ERRORS code and its parameters
    (kept with the plan when refused in the background)."""

    def __init__(self, code: str, extra: dict[str, Any] | None = None, **params: Any) -> None:
        super().__init__(_error_words(code, params), extra)
        self.code = code
        self.params = params


def published_plan(crisis: Crisis) -> Plan | None:
    return Plan.objects.filter(crisis=crisis, status=PlanStatus.PUBLISHED).first()


def leaving_members(household_ids: list[int]) -> dict[int, list[Person]]:
    """The members a plan moves (as `inputs.export` counts them), per household: not
    withdrawn, not home, not staying or declined, and not wishing to stay."""
    out: dict[int, list[Person]] = defaultdict(list)
    for person in (
        Person.objects.filter(household_id__in=household_ids)
        .exclude(status__in=inputs.NOT_PLANNED | inputs.NOT_LEAVING)
        .exclude(intent=Intent.STAY)
        .order_by("pk")
    ):
        assert person.household_id is not None
        out[person.household_id].append(person)
    return out


# What-if changes -----------------------------------------------------------------------------


def _moment(value: Any, where: str, zone: Any = None) -> datetime:
    """An instant from a what-if: a time without an offset is read on `zone`'s clock (the
    crossing's for a closure, the origin's for a flight), as officers type them."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ApplicationError(
                _("%(field)s: not a date and time.") % {"field": where},
                {"errors": {where: [_("A date and time like 2026-03-02T08:00.")]}},
            ) from None
    if moment.tzinfo is None:
        moment = timezone.make_aware(moment, zone) if zone else timezone.make_aware(moment)
    return moment


def _apply(data: dict[str, Any], export: inputs.Export, changes: list[dict[str, Any]]) -> None:
    """Apply what-if changes to a scenario (in place); ApplicationError names a bad one
    (its `change`: the index of the change refused)."""
    sid_of: dict[int, str] = {pk: sid for sid, pks in export.hubs.items() for pk in pks}
    for i, change in enumerate(changes):
        try:
            _apply_one(data, export, sid_of, i, change)
        except ApplicationError as exc:
            exc.extra.setdefault("change", i)
            raise


def _apply_one(
    data: dict[str, Any],
    export: inputs.Export,
    sid_of: dict[int, str],
    i: int,
    change: dict[str, Any],
) -> None:
    """One change applied (its index `i`)."""
    kind = change.get("type")
    if kind == "close_crossing":
        sid = sid_of.get(int(change.get("crossing") or 0))
        item = next((c for c in data["crossings"] if c["place"] == sid), None)
        if item is None:
            raise ApplicationError(
                _("Change %(n)d: no leg reaches that crossing; closing it changes nothing.")
                % {"n": i + 1},
                {"errors": {"crossing": [_("Not planned.")]}},
            )
        zone = Place.objects.get(pk=int(change["crossing"])).zone
        start = _moment(change.get("from") or data["start"], "from", zone)
        end = _moment(change.get("to") or data["end"], "to", zone)
        # Outside the plan's days (from its start, now, to its end) a closure changes nothing.
        if start >= datetime.fromisoformat(data["end"]):
            raise ApplicationError(
                _("Change %(n)d: the closure starts after the plan's end: it changes nothing.")
                % {"n": i + 1},
                {"errors": {"from": [_("Before the plan's end, please.")]}},
            )
        if end <= start:
            raise ApplicationError(
                _("Change %(n)d: the closure ends before it starts.") % {"n": i + 1},
                {"errors": {"to": [_("After the start, please.")]}},
            )
        if end <= datetime.fromisoformat(data["start"]):
            raise ApplicationError(
                _("Change %(n)d: the closure ends before the plan starts: it changes nothing.")
                % {"n": i + 1},
                {"errors": {"to": [_("After the plan's start, please.")]}},
            )
        item.setdefault("closed", []).append({"from": start.isoformat(), "to": end.isoformat()})
    elif kind == "cancel_leg":
        ref = f"leg{int(change.get('leg') or 0)}"
        before = len(data["legs"])
        data["legs"] = [x for x in data["legs"] if x["id"] != ref]
        if len(data["legs"]) == before:
            raise ApplicationError(
                _("Change %(n)d: that leg is not in the plan's inputs.") % {"n": i + 1},
                {"errors": {"leg": [_("Not planned.")]}},
            )
    elif kind == "add_flight":
        places = {}
        for end_name in ("from", "to"):
            problems: dict[str, list[str]] = {}
            place = transport._place(change.get(end_name), end_name, problems)
            if place is None:
                raise ApplicationError(
                    _("Change %(n)d: %(problem)s") % {"n": i + 1, "problem": problems[end_name][0]},
                    {"errors": problems},
                )
            places[end_name] = place
        if places["from"].country.code == data["home_country"]:
            raise ApplicationError(
                _("Change %(n)d: the flight leaves from the home country: it brings nobody out.")
                % {"n": i + 1},
                {"errors": {"from": [_("An airport outside the home country, please.")]}},
            )
        zone = places["from"].zone
        dep = _moment(change.get("departure"), "departure", zone)
        arr = _moment(change.get("arrival"), "arrival", zone)
        seats = int(change.get("seats") or 0)
        if arr <= dep:
            raise ApplicationError(
                _("Change %(n)d: the flight arrives before it departs.") % {"n": i + 1},
                {"errors": {"arrival": [_("After the departure, please.")]}},
            )
        if not 1 <= seats <= 1000:
            raise ApplicationError(
                _("Change %(n)d: a flight has 1 to 1000 seats.") % {"n": i + 1},
                {"errors": {"seats": [_("From %(low)d to %(high)d.") % {"low": 1, "high": 1000}]}},
            )
        if not (datetime.fromisoformat(data["start"]) <= dep < datetime.fromisoformat(data["end"])):
            raise ApplicationError(
                _("Change %(n)d: the flight departs outside the plan's days: it changes nothing.")
                % {"n": i + 1},
                {"errors": {"departure": [_("Within the plan's days, please.")]}},
            )
        ends = {}
        for end_name, place in places.items():
            sid = sid_of.get(place.pk)
            if sid is None:
                # An airport near a hub of the inputs joins it (buses into Baku connect
                # with a flight from Baku's airport).
                near = Place.objects.filter(pk__in=list(sid_of), country=place.country_id)
                for other in near:
                    if inputs.distance_km(place, other) <= inputs.HUB_KM:
                        sid = sid_of[other.pk]
                        break
            if sid is None:
                sid = f"p{place.pk}"
                data["places"].append(
                    {
                        "id": sid,
                        "name": place.name,
                        "kind": inputs.KINDS[place.kind],
                        "country": place.country.code,
                        "timezone": place.timezone or data["timezone"],
                    }
                )
                sid_of[place.pk] = sid
            ends[end_name] = sid
        if ends["from"] == ends["to"]:
            raise ApplicationError(
                _("Change %(n)d: the flight lands where it departs.") % {"n": i + 1},
                {"errors": {"to": [_("Another airport, please.")]}},
            )
        data["legs"].append(
            {
                "id": f"whatif{i + 1}",
                "kind": "flight",
                "from": ends["from"],
                "to": ends["to"],
                "departure": dep.isoformat(),
                "arrival": arr.isoformat(),
                "seats": seats,
                "escort": bool(change.get("escort")),
            }
        )
    else:
        raise ApplicationError(
            _("Change %(n)d: unknown kind of change.") % {"n": i + 1},
            {"errors": {"type": [", ".join(WHAT_IF_CHANGES)]}},
        )


def describe(change: dict[str, Any]) -> str:
    """A what-if change in words."""
    kind = change.get("type")
    if kind == "close_crossing":
        place = Place.objects.filter(pk=int(change.get("crossing") or 0)).first()
        return _("%(crossing)s closed") % {"crossing": place or "?"}
    if kind == "cancel_leg":
        leg = Leg.objects.filter(pk=int(change.get("leg") or 0)).first()
        return _("leg %(leg)s cancelled") % {"leg": leg or change.get("leg")}
    if kind == "add_flight":
        return _("a flight of %(seats)s seats %(origin)s → %(destination)s at %(at)s") % {
            "seats": change.get("seats"),
            "origin": change.get("from"),
            "destination": change.get("to"),
            "at": str(change.get("departure"))[:16].replace("T", " "),
        }
    return str(kind)


def plan_title(plan: Plan) -> str:
    """A what-if's changes in words, in the active language (made from its `changes` when
    read, as `error_text` does; a plan whose changes cannot be read: its title as kept)."""
    changes = plan.changes
    if isinstance(changes, list) and changes and all(isinstance(c, dict) for c in changes):
        with contextlib.suppress(TypeError, ValueError):
            return "; ".join(describe(c) for c in changes)
    return plan.title


# Running ---------------------------------------------------------------------------------------


def plan_start(
    *,
    actor: User | None,
    crisis: Crisis,
    kind: str = Plan.Kind.PLAN,
    changes: list[dict[str, Any]] | None = None,
    days: int = 7,
    method: str = "auto",
    start: datetime | None = None,
) -> Plan:
    """Take the crisis's situation now as the plan's inputs and solve it in the background
    (inline where background work runs inline). A what-if applies its changes to a copy."""
    if crisis.status == Crisis.Status.CLOSED:
        raise Conflict(_("The crisis is closed."))
    if kind not in Plan.Kind.values:
        raise ApplicationError(_("Unknown kind of plan."), {"errors": {"kind": [kind]}})
    if not 1 <= int(days) <= MAX_DAYS:
        raise ApplicationError(
            _("Plan 1 to %(n)d days ahead.") % {"n": MAX_DAYS},
            {"errors": {"days": [str(days)]}},
        )
    if method not in METHODS:
        raise ApplicationError(_("Unknown method."), {"errors": {"method": [method]}})
    changes = list(changes or [])
    if kind != Plan.Kind.WHAT_IF and changes:
        raise ApplicationError(
            _(
                "Changes are for a what-if: a plan takes the situation as it is (close the "
                "crossing or cancel the leg itself, then run the planner)."
            ),
            {"errors": {"changes": [_("Only with the kind what_if.")]}},
        )
    if kind == Plan.Kind.WHAT_IF and not changes:
        raise ApplicationError(
            _("A what-if needs at least one change."), {"errors": {"changes": [_("Required.")]}}
        )
    if len(changes) > MAX_CHANGES:
        raise ApplicationError(
            _("A what-if takes at most %(n)d changes.") % {"n": MAX_CHANGES},
            {"errors": {"changes": [str(len(changes))]}},
        )
    with transaction.atomic():
        Crisis.objects.select_for_update().filter(pk=crisis.pk).first()
        published = published_plan(crisis)
        export = inputs.export(crisis, start=start, days=int(days), published=published)
        if kind == Plan.Kind.WHAT_IF:
            _apply(export.data, export, changes)
        try:
            sc.load(export.data)
        except sc.ScenarioError as exc:
            raise ApplicationError(
                _("The situation cannot be planned: %(problem)s")
                % {"problem": scenario_error_text(exc)},
                {"where": exc.where},
            ) from exc
        number = (Plan.objects.filter(crisis=crisis).aggregate(n=Max("number"))["n"] or 0) + 1
        plan = Plan.objects.create(
            crisis=crisis,
            number=number,
            kind=kind,
            title="; ".join(describe(c) for c in changes)[:300],
            changes=changes,
            method=method,
            days=int(days),
            base=published,
            scenario=export.data,
            input_warnings=export.warnings,
            progress="queued",
            created_by=actor,
        )
        audit_write(
            actor=actor,
            verb="plan_start",
            obj=plan,
            action="create",
            crisis=crisis,
            changes={
                "kind": kind,
                "days": int(days),
                "method": method,
                "households": len(export.data["households"]),
                "changes": changes,
            },
        )
        from aman.planning.tasks import plan_solve

        transaction.on_commit(lambda: plan_solve.dispatch(plan.pk))
    return plan


def plan_solve(plan_id: int) -> Plan:
    """Solve a running plan's inputs and keep the result (the background task's body)."""
    plan = Plan.objects.get(pk=plan_id)
    if plan.status == PlanStatus.DRAFT and plan.progress in EXPLAINING:
        # Asked again after a worker died while explaining it: the draft stands, without
        # what could not be computed.
        Plan.objects.filter(pk=plan_id, status=PlanStatus.DRAFT).update(progress="")
        plan.refresh_from_db()
        return plan
    if plan.status != PlanStatus.RUNNING:
        return plan

    def progress(stage: str) -> None:
        Plan.objects.filter(pk=plan_id).update(progress=stage)

    try:
        s = sc.load(plan.scenario)
        result = solver.solve(s, solver.Options(method=plan.method, progress=progress))
        data = solver.to_json(result)
    except Exception:  # the details in the log; the officer is told it stopped
        log.exception("plan %s failed", plan_id)
        Plan.objects.filter(pk=plan_id, status=PlanStatus.RUNNING).update(
            status=PlanStatus.FAILED,
            error=str(PLAN_ERRORS["unexpected"]),
            error_detail={"code": "unexpected"},
            finished_at=timezone.now(),
            progress="",
        )
        plan.refresh_from_db()
        return plan
    summary = data["summary"]
    # The draft first, to be reviewed at once; what it is shown with (the price of its
    # promises, the per-day limits: at 100,000 people as long again as the plan) is added
    # when ready, `progress` naming it meanwhile.
    stored = Plan.objects.filter(pk=plan_id, status=PlanStatus.RUNNING).update(
        status=PlanStatus.DRAFT,
        result=data,
        people=summary["people"],
        people_safe=summary["people_safe"],
        unassigned=len(data["unassigned"]),
        gap=data["gap"],
        seconds=data["seconds"]["total"],
        finished_at=timezone.now(),
        progress="explaining",
    )
    if stored:
        _explain(plan_id, plan.method, result)
    plan.refresh_from_db()
    return plan


# A draft's progress while what it is shown with is computed (`_explain`).
EXPLAINING = ("explaining", "price", "limits")


def _explain(plan_id: int, method: str, result: Any) -> None:
    """Add the price of stability and the per-day limits to a stored draft. The plan may
    be published meanwhile: its stage is then the publishing's, and what explains it is
    added all the same. Whatever fails, the draft stands (a warning says what is missing)
    and its progress is cleared."""

    def explaining(stage: str) -> None:
        Plan.objects.filter(pk=plan_id, status=PlanStatus.DRAFT).update(progress=stage)

    extra = None
    try:
        try:
            solver.explain(
                result,
                solver.Options(method=method, progress=explaining, limits=True, price=True),
            )
        except Exception as exc:
            log.exception("plan %s: the limits failed", plan_id)
            result.warnings.append(solver.warning("limits_failed", error=str(exc)[:500]))
        extra = solver.to_json(result)
    finally:
        with transaction.atomic():
            plan = Plan.objects.select_for_update().filter(pk=plan_id).first()
            if plan is not None:
                fields = []
                if extra is not None and plan.status != PlanStatus.DISCARDED:
                    # Only what explains the plan; its itineraries are as they were
                    # reviewed (a publish holds this row and never writes the result).
                    data = dict(plan.result or {})
                    data["stability"] = {**data.get("stability", {}), **extra["stability"]}
                    data["limits"] = extra["limits"]
                    # Priced in people by day once the limits are known.
                    data["shadow_prices"] = extra["shadow_prices"]
                    data["warnings"] = extra["warnings"]
                    data["seconds"] = {**data.get("seconds", {}), **extra["seconds"]}
                    plan.result = data
                    fields.append("result")
                if plan.status == PlanStatus.DRAFT:
                    plan.progress = ""
                    fields.append("progress")
                if fields:
                    plan.save(update_fields=fields)


@transaction.atomic
def plan_discard(*, actor: User | None, plan: Plan) -> Plan:
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    # Publishing holds the plan's row: a plan still being published is found published
    # here once it is; one whose worker was lost can be set aside.
    if plan.status not in (
        PlanStatus.DRAFT,
        PlanStatus.FAILED,
        PlanStatus.RUNNING,
        PlanStatus.PUBLISHING,
    ):
        raise Conflict(_("Only a draft, failed or running plan can be discarded."))
    plan.status = PlanStatus.DISCARDED
    plan.save(update_fields=["status"])
    audit_write(actor=actor, verb="plan_discard", obj=plan, crisis=plan.crisis)
    return plan


# Locks -------------------------------------------------------------------------------------------


def itinerary_of(plan: Plan, household_id: int) -> dict[str, Any] | None:
    for item in (plan.result or {}).get("itineraries", []):
        if item["household"] == f"hh{household_id}":
            return item
    return None


@transaction.atomic
def household_lock(*, actor: User | None, plan: Plan, household: Household) -> PlanLock:
    """Keep the household's itinerary of this plan in every plan until unlocked."""
    if plan.kind != Plan.Kind.PLAN:
        raise Conflict(_("A what-if's itineraries cannot be locked: lock them in a plan."))
    if plan.status not in (PlanStatus.DRAFT, PlanStatus.PUBLISHED):
        # A superseded or discarded plan's itineraries were decided against since.
        raise Conflict(
            _(
                "Only a draft or the published plan's itineraries can be locked; this plan "
                "is %(status)s."
            )
            % {"status": PlanStatus(plan.status).label.lower()},
            {"status": plan.status},
        )
    item = itinerary_of(plan, household.pk)
    if item is None:
        raise Conflict(_("The household has no itinerary in this plan to lock."))
    lock, _created = PlanLock.objects.update_or_create(
        household=household,
        defaults={
            "crisis": plan.crisis,
            "steps": solver.steps_of(item),
            "plan": plan,
            "locked_by": actor,
        },
    )
    audit_write(
        actor=actor,
        verb="plan_lock",
        obj=household,
        crisis=plan.crisis,
        changes={"plan": plan.pk, "steps": lock.steps},
    )
    return lock


@transaction.atomic
def household_unlock(*, actor: User | None, household: Household) -> None:
    deleted, _rows = PlanLock.objects.filter(household=household).delete()
    if not deleted:
        raise Conflict(_("The household's itinerary is not locked."))
    audit_write(actor=actor, verb="plan_unlock", obj=household, crisis=household.crisis)


# Publishing ----------------------------------------------------------------------------------


def pool_number(buses: int, seats: int) -> str:
    """The number of the leg a pool trip becomes: its buses × seats per bus, `3x50` — the
    same in every language (it is made in the background, in no officer's language, and
    read on manifests and boarding passes)."""
    return f"{buses}x{seats}"


def _pool_legs(actor: User | None, plan: Plan) -> dict[str, Leg]:
    """The legs of the plan's pool trips: made, or enlarged, as the plan needs them."""
    out: dict[str, Leg] = {}
    for trip in (plan.result or {}).get("pool_trips", []):
        pool_pk = inputs.pk_of(trip["pool"], "pool")
        pool = BusPool.objects.filter(pk=pool_pk or 0, crisis=plan.crisis).first()
        if pool is None:
            raise Refused("pool_deleted", {"pool": trip["pool"]})
        ref = trips.pool_ref(trip["pool"], trip["departure"])
        seats = trip["buses"] * pool.seats
        leg = (
            Leg.objects.filter(crisis=plan.crisis, source_ref=ref)
            .exclude(status=LegStatus.CANCELLED)
            .first()
        )
        if leg is None:
            # A leg of this trip cancelled at the transport desk keeps its history, not
            # the trip's reference (as the legs publishing cancels itself, below).
            for gone in Leg.objects.filter(
                crisis=plan.crisis, source_ref=ref, status=LegStatus.CANCELLED
            ).only("pk"):
                Leg.objects.filter(pk=gone.pk).update(source_ref=f"{ref}~{gone.pk}"[:200])
            leg = transport.leg_create(
                actor=actor,
                crisis=plan.crisis,
                data={
                    "mode": Mode.BUS,
                    "origin": pool.origin,
                    "destination": pool.destination,
                    "departure_planned": datetime.fromisoformat(trip["departure"]),
                    "arrival_planned": datetime.fromisoformat(trip["arrival"]),
                    "capacity": seats,
                    "carrier": pool.carrier,
                    "number": pool_number(trip["buses"], pool.seats),
                    "cost": (pool.cost_per_seat or 0) * seats if pool.cost_per_seat else None,
                    "currency": "KZT" if pool.cost_per_seat else "",
                    "escort": pool.escort,
                },
                source=Leg.Source.PLAN,
                source_ref=ref,
            )
        elif leg.capacity < seats:
            leg = transport.leg_update(
                actor=actor,
                leg=leg,
                data={"capacity": seats, "number": pool_number(trip["buses"], pool.seats)},
            )
        out[ref] = leg
    return out


def _pools_as_planned(plan: Plan) -> None:
    """Refuse a plan made on bus pools changed or deleted since it started: their trips
    made into legs are legs now (`pool_legs.keep`), which the plan planned as the pool's
    to rearrange, and its own trips may no longer be the pool's. Pool writes and the start
    of a plan take the crisis's row lock (one is before the other); a pool write waits
    for this publishing to end (the pools' row locks), then keeps the legs it made too."""
    planned = {
        pk
        for p in (plan.scenario or {}).get("bus_pools", [])
        if (pk := inputs.pk_of(str(p.get("id")), "pool")) is not None
    }
    now = dict(
        BusPool.objects.select_for_update()
        .filter(crisis=plan.crisis, pk__in=planned)
        .order_by("pk")
        .values_list("pk", "updated_at")
    )
    for pk in sorted(planned):
        if pk not in now:
            raise Refused("pool_deleted", {"pool": f"pool{pk}"})
        if now[pk] > plan.created_at:
            raise Refused("pool_changed", {"pool": f"pool{pk}"})


def _legs_of(
    item: dict[str, Any] | None,
    pool_legs: dict[str, Leg],
    crisis_id: int,
    found: dict[str, list[int]] | None = None,
) -> list[int]:
    """The database legs of an itinerary, in order (a pool trip this plan does not make:
    the legs it became before, kept ones included — read once per trip into `found`)."""
    found = {} if found is None else found
    out: list[int] = []
    for step in (item or {}).get("steps", []):
        if step["type"] == "leg":
            pk = inputs.pk_of(step["leg"], "leg")
            if pk is not None:
                out.append(pk)
        elif step["type"] == "pool":
            ref = trips.pool_ref(step["pool"], step["departure"])
            leg = pool_legs.get(ref)
            if leg is not None:
                out.append(leg.pk)
            else:
                if ref not in found:
                    found[ref] = trips.legs_of_trip(crisis_id, ref)
                out += found[ref]
    return out


def _nights_of(item: dict[str, Any] | None) -> list[tuple[int, date, date]]:
    out = []
    for step in (item or {}).get("steps", []):
        if step["type"] == "hotel" and step.get("hotel"):
            pk = inputs.pk_of(step["hotel"], "hotel")
            nights = sorted(date.fromisoformat(n) for n in step["nights"])
            if pk is not None and nights:
                out.append((pk, nights[0], nights[-1]))
    return out


def _places_still_open(plan: Plan, new: dict[int | None, dict[str, Any]]) -> None:
    """Refuse a plan that passes a crossing, or flies from or to an airport, while it is now
    closed (a closure recorded since the run), or sends more people across a crossing on a
    day than it now lets through."""
    start = datetime.fromisoformat(plan.scenario["start"])
    end = datetime.fromisoformat(plan.scenario["end"])
    crossed: dict[int, list[tuple[datetime, str, int]]] = defaultdict(list)
    flown: dict[int, set[str]] = defaultdict(set)
    for item in new.values():
        for step in item["steps"]:
            if step["type"] == "crossing":
                pk = inputs.pk_of(step["place"], "p")
                if pk is not None:
                    crossed[pk].append(
                        (datetime.fromisoformat(step["at"]), item["household"], item["size"])
                    )
            elif step["type"] == "leg":
                pk = inputs.pk_of(step["leg"], "leg")
                if pk is not None:
                    flown[pk].add(item["household"])
    legs = list(
        Leg.objects.filter(pk__in=list(flown)).only(
            "pk", "origin_id", "destination_id", "departure_planned", "arrival_planned"
        )
    )
    places = {
        p.pk: p
        for p in Place.objects.filter(
            pk__in=[*crossed, *(x.origin_id for x in legs), *(x.destination_id for x in legs)],
            kind__in=(Place.Kind.CROSSING, Place.Kind.AIRPORT),
        )
    }
    # A leg is refused at a closed airport; at a crossing, what counts is when it is passed.
    airports = {pk for pk, place in places.items() if place.kind == Place.Kind.AIRPORT}
    if not places:
        return
    events: dict[int, list[PlaceStatusEvent]] = defaultdict(list)
    for event in PlaceStatusEvent.objects.filter(place_id__in=list(places)).order_by(
        "effective_at", "pk"
    ):
        events[event.place_id].append(event)
    spans = {
        pk: inputs._closures(place, events[pk], start, end + timedelta(days=3))
        for pk, place in places.items()
    }

    def shut(pk: int, moment: datetime | None) -> bool:
        return moment is not None and any(a <= moment < b for a, b in spans.get(pk, []))

    through: dict[int, set[str]] = defaultdict(set)
    for pk, passes in crossed.items():
        for at, household, _size in passes:
            if shut(pk, at):
                through[pk].add(household)
    for leg in legs:
        for pk, moment in (
            (leg.origin_id, leg.departure_planned),
            (leg.destination_id, leg.arrival_planned),
        ):
            if pk in airports and shut(pk, moment):
                through[pk] |= flown[leg.pk]
    if through:
        pk = max(through, key=lambda k: (len(through[k]), -k))
        raise Refused(
            "closed",
            {"closed": {places[k].name: sorted(hs)[:50] for k, hs in sorted(through.items())}},
            place=places[pk].name,
            n=len(through[pk]),
        )
    for pk, passes in sorted(crossed.items()):
        place = places.get(pk)
        if place is None or place.daily_capacity is None:
            continue
        zone = ZoneInfo(inputs._zone_name(place))
        per_day: dict[date, int] = defaultdict(int)
        for at, _household, size in passes:
            per_day[at.astimezone(zone).date()] += size
        day, people = max(per_day.items(), key=lambda x: (x[1], x[0]))
        if people > place.daily_capacity:
            raise Refused(
                "over_capacity",
                {"crossing": place.name, "day": day.isoformat(), "people": people},
                place=place.name,
                capacity=place.daily_capacity,
                people=people,
                day=day.isoformat(),
            )


def _legs_as_taken(plan: Plan, new: dict[int | None, dict[str, Any]]) -> None:
    """Refuse a plan that takes households on a leg re-timed or cancelled since the run
    (its seats are checked by booking them)."""
    taken = {x["id"]: x for x in (plan.scenario or {}).get("legs", [])}
    riders: dict[int, set[str]] = defaultdict(set)
    for item in new.values():
        for step in item["steps"]:
            pk = inputs.pk_of(step["leg"], "leg") if step["type"] == "leg" else None
            if pk is not None and f"leg{pk}" in taken:
                riders[pk].add(item["household"])
    changed: list[tuple[Leg, list[str]]] = []
    for leg in (
        Leg.objects.filter(pk__in=list(riders))
        .select_related("origin", "destination")
        .order_by("departure_planned", "pk")
    ):
        was = taken[f"leg{leg.pk}"]
        what = []
        if leg.status == LegStatus.CANCELLED:
            what.append("cancelled")
        else:
            if leg.departure_planned != datetime.fromisoformat(was["departure"]):
                what.append("departure")
            if leg.arrival_planned != datetime.fromisoformat(was["arrival"]):
                what.append("arrival")
        if what:
            changed.append((leg, what))
    if not changed:
        return

    def label(leg: Leg) -> str:
        # Said the same in every language (the refusal is kept and read in another).
        ends = [p.iata or p.name for p in (leg.origin, leg.destination)]
        return " ".join(x for x in (leg.number, " → ".join(ends)) if x)

    leg, what = changed[0]
    raise Refused(
        "leg_changed",
        {
            "legs": [
                {
                    "leg": x.pk,
                    "changed": w,
                    "departure": x.departure_planned.isoformat(),
                    "arrival": x.arrival_planned.isoformat() if x.arrival_planned else None,
                    "households": sorted(riders[x.pk])[:50],
                }
                for x, w in changed
            ]
        },
        leg=label(leg),
        what=what,
        n=len(riders[leg.pk]),
    )


def _permits_held(
    plan: Plan, new: dict[int | None, dict[str, Any]], members: dict[int, list[Person]]
) -> None:
    """Refuse a plan that takes a household across a crossing whose entry state wants
    transit permits on a day for which not every member who travels is approved (a permit
    list is for one crossing and one day, on the crossing's calendar)."""
    passes: list[tuple[int, int, datetime]] = []  # (household, crossing, when)
    for hid, item in new.items():
        for step in item["steps"]:
            pk = inputs.pk_of(step["place"], "p") if step["type"] == "crossing" else None
            if hid is not None and pk is not None:
                passes.append((hid, pk, datetime.fromisoformat(step["at"])))
    places = {
        p.pk: p
        for p in Place.objects.filter(
            pk__in={pk for _h, pk, _at in passes}, transit_permit=Place.Permit.YES
        )
    }
    wanted = [
        (hid, pk, at.astimezone(ZoneInfo(inputs._zone_name(places[pk]))).date())
        for hid, pk, at in passes
        if pk in places
    ]
    if not wanted:
        return
    approved = set(
        PermitEntry.objects.filter(
            permit_list__crisis=plan.crisis_id,
            permit_list__crossing_id__in=list(places),
            permit_list__day__in={day for _h, _pk, day in wanted},
            person_id__in=[p.pk for hid, _pk, _d in wanted for p in members.get(hid, [])],
            decision=PermitDecision.APPROVED,
        ).values_list("person_id", "permit_list__crossing_id", "permit_list__day")
    )
    missing: dict[tuple[int, date], list[str]] = defaultdict(list)
    for hid, pk, day in wanted:
        if any((p.pk, pk, day) not in approved for p in members.get(hid, [])):
            missing[(pk, day)].append(f"hh{hid}")
    if missing:
        (pk, day), households = min(missing.items(), key=lambda x: (x[0][1], -len(x[1])))
        raise Refused(
            "permit_missing",
            {
                "missing": [
                    {"crossing": places[c].name, "day": d.isoformat(), "households": hs[:50]}
                    for (c, d), hs in sorted(missing.items(), key=lambda x: (x[0][1], x[0][0]))
                ]
            },
            place=places[pk].name,
            day=day.isoformat(),
            n=len(households),
        )


def brief(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a household is told of its itinerary (kept with the change)."""
    if item is None:
        return None
    steps = item["steps"]
    return {
        "safe_at": item.get("safe_at"),
        "home_at": item.get("home_at"),
        "steps": steps,
        # Whether what changes starts within the firm hours (to tell at once), or later.
        "firm": any(step.get("firm") for step in steps) if steps else None,
    }


def _moves(steps: list[dict[str, Any]]) -> list[tuple[str, str, datetime | None]]:
    """An itinerary's movements (legs, pool trips, crossings), times as instants."""
    out: list[tuple[str, str, datetime | None]] = []
    for step in steps:
        kind = step.get("type")
        if kind == "leg":
            out.append(("leg", str(step["leg"]), None))
        elif kind == "pool":
            out.append(("pool", str(step["pool"]), datetime.fromisoformat(step["departure"])))
        elif kind == "crossing":
            out.append(("crossing", str(step["place"]), datetime.fromisoformat(step["at"])))
    return out


def _nights_ahead(item: dict[str, Any] | None, since: date) -> list[tuple[int, date, date]]:
    """The hotel nights of an itinerary from the night of `since` on (the earlier ones
    are past)."""
    out = []
    for step in (item or {}).get("steps", []):
        if step["type"] == "hotel" and step.get("hotel"):
            pk = inputs.pk_of(step["hotel"], "hotel")
            nights = sorted(
                n for n in (date.fromisoformat(x) for x in step["nights"]) if n >= since
            )
            if pk is not None and nights:
                out.append((pk, nights[0], nights[-1]))
    return out


# How a re-plan changes what a household was told (`compare`).
ADDED, CHANGED, KEPT, LOST, DONE = "added", "changed", "kept", "lost", "done"
# Why a household's itinerary changed: the world made it impossible (a leg cancelled, a
# crossing closed), or the plan gave it to others.
DISPLACED, REASSIGNED = "displaced", "reassigned"


def compare(plan: Plan, base: Plan | None = None) -> dict[str, dict[str, Any]]:
    """What the plan changes against the plan it was started from (`base`, the published
    plan then; none: every itinerary is added), per household (`hh<id>`): `added` (a
    new itinerary), `changed`, `kept`, `lost` (no itinerary now; `reason` the plan's),
    or `done` (no longer planned: home,
    withdrawn, safe by other means — nothing to tell). Only what was still to come when
    the plan started is compared: the steps before it (legs departed, crossings passed,
    nights spent) happened — as the plan's inputs took them (`notified`). A changed or
    lost household was `displaced` (its told itinerary no longer possible) or
    `reassigned` (moved for others), in `cause`."""
    base = plan.base if base is None else base
    result = plan.result or {}
    if not result:
        return {}
    old = {i["household"]: i for i in (base.result or {}).get("itineraries", [])} if base else {}
    new = {i["household"]: i for i in result.get("itineraries", [])}
    planned = {h["id"]: h for h in (plan.scenario or {}).get("households", [])}
    reasons = {u["household"]: u["reason"] for u in result.get("unassigned", [])}
    displaced = set((result.get("stability") or {}).get("displaced_households") or [])
    start = datetime.fromisoformat(plan.scenario["start"])
    since = start.date()
    out: dict[str, dict[str, Any]] = {}
    for hid in sorted(set(old) | set(new)):
        before, after = old.get(hid), new.get(hid)
        entry: dict[str, Any] = {"before": before, "after": after}
        if before is None:
            entry["kind"] = ADDED
        elif hid not in planned:
            entry["kind"] = DONE
        elif after is None:
            entry["kind"] = LOST
            entry["reason"] = reasons.get(hid)
        else:
            told = planned[hid].get("notified") or []
            same = _moves(told) == _moves(solver.steps_of(after)) and _nights_ahead(
                before, since
            ) == _nights_ahead(after, since)
            entry["kind"] = KEPT if same else CHANGED
        if entry["kind"] in (CHANGED, LOST):
            # Without any route now (a leg or crossing gone), it was displaced too.
            gone = entry.get("reason") and entry["reason"].get("code") not in (
                "no_capacity",
                "declined",
            )
            entry["cause"] = DISPLACED if hid in displaced or gone else REASSIGNED
        out[hid] = entry
    return out


# How one plan differs from another for a household (`compare_plans`): besides ADDED and
# LOST, moved (both have an itinerary, and they differ), unchanged, or not planned (the
# second plan's inputs leave the household out).
MOVED, UNCHANGED, NOT_PLANNED = "moved", "unchanged", "not_planned"
COMPARED = (LOST, MOVED, ADDED, NOT_PLANNED, UNCHANGED)


def step_moment(step: dict[str, Any]) -> datetime | None:
    """When a leg or pool trip departs or a crossing is passed (None for a hotel step)."""
    moment = step.get("departure") or step.get("at")
    return datetime.fromisoformat(moment) if moment else None


def _ahead(item: dict[str, Any], since: datetime) -> tuple[list[Any], list[Any]]:
    """An itinerary's movements and hotel nights from `since` on: what came before is past."""
    steps = [s for s in item["steps"] if (at := step_moment(s)) is None or at >= since]
    return _moves(solver.steps_of({"steps": steps})), _nights_ahead(item, since.date())


def plans_comparable(a: Plan, b: Plan) -> None:
    """Refuse two plans that cannot be compared (ApplicationError says why): the same plan,
    plans of two crises, or a plan without a result (running, failed)."""
    if a.pk == b.pk:
        raise ApplicationError(
            _("Choose two different plans to compare."),
            {"errors": {"b": [_("The same plan as A.")]}},
        )
    if a.crisis_id != b.crisis_id:
        raise ApplicationError(
            _("The two plans are of different crises."),
            {"errors": {"b": [_("Not of the crisis of plan A.")]}},
        )
    for name, plan in (("a", a), ("b", b)):
        if not plan.result:
            raise ApplicationError(
                _("%(plan)s has no result to compare: it is %(status)s.")
                % {"plan": plan, "status": PlanStatus(plan.status).label.lower()},
                {"errors": {name: [_("No result.")]}, "plan": plan.pk, "status": plan.status},
            )


def compared_by_kind(
    entries: dict[str, dict[str, Any]],
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """`compare_plans`'s households by kind (every kind of COMPARED, in household order)."""
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {k: [] for k in COMPARED}
    for key, entry in entries.items():
        groups[entry["kind"]].append((key, entry))
    return groups


def compare_plans(a: Plan, b: Plan) -> dict[str, dict[str, Any]]:
    """How plan `b` differs from plan `a`, per household (`hh<id>`) with an itinerary in
    either, in the order of the households' ids: `added` (one in b, none in a), `lost`
    (one in a, none in b; `reason`: b's), `not_planned` (one in a, and b's inputs leave
    the household out: home, withdrawn or safe by then — or, b being the older plan, not
    registered yet), `moved` (both have one and they differ) or `unchanged`; `a` and `b`
    are the two itineraries. Any two plans of a crisis with a result, in either order.

    The itineraries are compared as the plans hold them — not against what households
    were told, which only means something against the plan a re-plan started from
    (`compare`) — and only from the later plan's start (`since`) on: the movements (legs,
    pool trips, crossings) and hotel nights before it are past for both."""
    old = {i["household"]: i for i in (a.result or {}).get("itineraries", [])}
    new = {i["household"]: i for i in (b.result or {}).get("itineraries", [])}
    planned = {h["id"] for h in (b.scenario or {}).get("households", [])}
    reasons = {u["household"]: u["reason"] for u in (b.result or {}).get("unassigned", [])}
    since = compared_since(a, b)

    def order(key: str) -> tuple[int, str]:
        return (inputs.pk_of(key, "hh") or 0, key)

    out: dict[str, dict[str, Any]] = {}
    for hid in sorted(set(old) | set(new), key=order):
        before, after = old.get(hid), new.get(hid)
        entry: dict[str, Any] = {"a": before, "b": after}
        if before is None:
            entry["kind"] = ADDED
        elif after is None:
            entry["kind"] = LOST if hid in planned else NOT_PLANNED
            if hid in planned:
                entry["reason"] = reasons.get(hid)
        else:
            same = (
                _ahead(before, since) == _ahead(after, since)
                if since is not None
                else before["steps"] == after["steps"]
            )
            entry["kind"] = UNCHANGED if same else MOVED
        out[hid] = entry
    return out


def compared_since(a: Plan, b: Plan) -> datetime | None:
    """The later of the two plans' starts: what `compare_plans` compares from."""
    starts = [
        datetime.fromisoformat(p.scenario["start"])
        for p in (a, b)
        if (p.scenario or {}).get("start")
    ]
    return max(starts) if starts else None


def safe_by_day(plan: Plan) -> dict[str, int]:
    """People made safe each day (the scenario's clock, as its limits are counted)."""
    zone = plan_zone(plan)
    out: dict[str, int] = defaultdict(int)
    for item in (plan.result or {}).get("itineraries", []):
        if item.get("safe_at"):
            out[day_of(item["safe_at"], zone)] += item["size"]
    return dict(out)


def zone_or_utc(name: str | None) -> ZoneInfo:
    """The time zone named, or UTC for none or one unknown here."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def plan_zone(plan: Plan) -> ZoneInfo:
    """The plan's clock: its scenario's time zone."""
    return zone_or_utc((plan.scenario or {}).get("timezone"))


def day_of(value: str | None, zone: ZoneInfo) -> str:
    """The day of a plan's instant on `zone`'s clock ("" for none)."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(zone).date().isoformat()


def plan_figures(plan: Plan) -> dict[str, Any]:
    """A plan's figures to set beside another's: people safe and home, households without
    an itinerary, the gap to the LP bound, hotel nights (person-nights), people safe by
    priority group, and by day (that day, and by then)."""
    result = plan.result or {}
    summary = result.get("summary") or {}
    by_day = []
    total = 0
    for day, safe in sorted(safe_by_day(plan).items()):
        total += safe
        by_day.append({"day": day, "safe": safe, "total": total})
    return {
        "id": plan.pk,
        "number": plan.number,
        "kind": plan.kind,
        "title": plan_title(plan),
        "status": plan.status,
        "start": (plan.scenario or {}).get("start"),
        "people": summary.get("people"),
        "people_safe": summary.get("people_safe"),
        "people_home": summary.get("people_home"),
        "unassigned": len(result.get("unassigned", [])),
        "gap": result.get("gap"),
        "hotel_nights": summary.get("hotel_nights"),
        "by_priority": [
            {"priority": r["priority"], "people": r["people"], "safe": r["safe"]}
            for r in summary.get("by_priority", [])
        ],
        "by_day": by_day,
    }


def _publishable(plan: Plan, statuses: tuple[str, ...]) -> Plan | None:
    """Refuse what cannot be published; the published plan it replaces, if any. The
    caller holds the transaction (rows locked)."""
    if plan.kind != Plan.Kind.PLAN:
        raise Refused("what_if")
    if plan.status not in statuses:
        raise Refused("not_draft", status=plan.status)
    previous = (
        Plan.objects.select_for_update()
        .filter(crisis=plan.crisis_id, status=PlanStatus.PUBLISHED)
        .exclude(pk=plan.pk)
        .first()
    )
    if previous is not None and plan.base_id != previous.pk:
        raise Refused("published_since", n=previous.number)
    return previous


@transaction.atomic
def plan_publish_start(*, actor: User | None, plan: Plan) -> Plan:
    """Publish in the background (a large plan makes thousands of bookings and stays: more
    than a page may wait for): the plan is *being published* until it is published, or
    back to draft with the reason it could not be."""
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    _publishable(plan, (PlanStatus.DRAFT,))
    plan.status = PlanStatus.PUBLISHING
    plan.progress = "publishing"
    plan.error = ""
    plan.error_detail = {}
    plan.save(update_fields=["status", "progress", "error", "error_detail"])
    audit_write(actor=actor, verb="plan_publish_start", obj=plan, crisis=plan.crisis)
    from aman.planning.tasks import plan_publish as task

    actor_id = actor.pk if actor is not None else None
    # The background work speaks the language of the officer who pressed Publish: a
    # refusal keeps its own words by code, but the booking's or the housing's reason
    # (`not_booked`, `not_housed`) comes from transport and shelter as text.
    language = translation.get_language()
    transaction.on_commit(lambda: task.dispatch(plan.pk, actor_id, language))
    return plan


def plan_publish_run(plan_id: int, actor_id: int | None, language: str | None = None) -> Plan:
    """The background task's body: publish, or put the plan back to draft with the reason
    (in `language`, the officer's, where the reason is text)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        return _plan_publish_run(plan_id, actor_id)


def _plan_publish_run(plan_id: int, actor_id: int | None) -> Plan:
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    plan = Plan.objects.get(pk=plan_id)
    publishing = Plan.objects.filter(pk=plan_id, status=PlanStatus.PUBLISHING)
    try:
        return plan_publish(actor=actor, plan=plan)
    except Refused as exc:
        publishing.update(
            status=PlanStatus.DRAFT,
            error=exc.message[:2000],
            error_detail={"code": exc.code, **exc.params},
            progress="",
        )
    except ApplicationError as exc:
        publishing.update(
            status=PlanStatus.DRAFT, error=exc.message[:2000], error_detail={}, progress=""
        )
    except Exception:  # the details in the log; the officer is told it stopped
        log.exception("publishing plan %s failed", plan_id)
        publishing.update(
            status=PlanStatus.DRAFT,
            error=str(PLAN_ERRORS["publish_unexpected"]),
            error_detail={"code": "publish_unexpected"},
            progress="",
        )
    plan.refresh_from_db()
    return plan


@transaction.atomic
def plan_publish(*, actor: User | None, plan: Plan) -> Plan:
    """The plan becomes bookings and stays, all at once or not at all; the published plan
    before it is superseded (what it gave and this one does not keep is released); each
    household whose itinerary changed gets a change record, to be told."""
    plan = Plan.objects.select_for_update().select_related("crisis").get(pk=plan.pk)
    crisis = plan.crisis
    previous = _publishable(plan, (PlanStatus.DRAFT, PlanStatus.PUBLISHING))
    result = plan.result or {}
    new = {inputs.pk_of(i["household"], "hh"): i for i in result.get("itineraries", [])}
    old = (
        {inputs.pk_of(i["household"], "hh"): i for i in previous.result.get("itineraries", [])}
        if previous is not None and previous.result
        else {}
    )
    households = {h.pk: h for h in Household.objects.filter(crisis=crisis, pk__in=[*new, *old])}
    # The households must still be as the plan saw them.
    stale = []
    members = leaving_members([hid for hid in {*new, *old} if hid is not None])
    for hid, item in new.items():
        if hid is None or hid not in households or len(members[hid]) != item["size"]:
            stale.append(item["household"])
    if stale:
        raise Refused("households_changed", {"households": stale[:50]}, n=len(stale))
    _places_still_open(plan, new)
    _legs_as_taken(plan, new)
    _permits_held(plan, new, members)
    _pools_as_planned(plan)
    note = _("Plan %(n)d") % {"n": plan.number}
    pool_legs = _pool_legs(actor, plan)

    # Release what the previous plan gave and this one does not keep: seats on legs still
    # to go (a leg due before the plan's start but not gone is the gate's to settle), and
    # the seats of members who now stay; stays not begun.
    since = datetime.fromisoformat(plan.scenario["start"])
    old_ids = [hid for hid in old if hid is not None and hid in households]
    held: dict[int, list[Booking]] = defaultdict(list)
    for booking in Booking.objects.filter(
        household_id__in=old_ids,
        source=Leg.Source.PLAN,
        status__in=(BookingStatus.OFFERED, BookingStatus.CONFIRMED),
        leg__departure_planned__gte=since,
    ):
        assert booking.household_id is not None
        held[booking.household_id].append(booking)
    housed: dict[int, list[Stay]] = defaultdict(list)
    for stay in (
        Stay.objects.filter(
            household_id__in=old_ids, source=Stay.Source.PLAN, status=StayStatus.PLANNED
        )
        .select_related("block__hotel__place")
        .prefetch_related("guests")
        .order_by("pk")
    ):
        assert stay.household_id is not None
        housed[stay.household_id].append(stay)
    planned = {h["id"] for h in (plan.scenario or {}).get("households", [])}
    trip_legs: dict[str, list[int]] = {}  # the legs of pool trips this plan does not make
    for hid in old_ids:
        keeps = new.get(hid)
        if keeps is None and f"hh{hid}" not in planned and members.get(hid):
            # Still to move but left out of this plan's inputs (its remarks say why): the
            # plan decided nothing for it, and what it was told stands.
            keeps = old[hid]
        keep_legs = set(_legs_of(keeps, pool_legs, crisis.pk, trip_legs))
        going = {p.pk for p in members.get(hid, [])}
        for booking in held[hid]:
            if booking.leg_id in keep_legs and booking.person_id in going:
                continue
            transport.booking_close(
                actor=actor, booking=booking, status=BookingStatus.RELEASED, note=str(note)
            )
        keep_nights = set(_nights_of(keeps))
        for stay in housed[hid]:
            kept = (stay.block.hotel_id, stay.first_night, stay.last_night) in keep_nights
            if kept and {g.pk for g in stay.guests.all()} <= going:
                continue
            if stay.first_night < hotel_today(stay):
                continue  # begun: an officer changes it at the hotel
            stay.refresh_from_db()  # cancelling a stay cancels its household's other rooms
            if stay.status == StayStatus.PLANNED:
                stay_set_status(
                    actor=actor,
                    stay=stay,
                    status=StayStatus.CANCELLED,
                    note=str(note),
                )

    # Pool trips of the plan before that this one does not use, and nobody holds: gone.
    used = {leg.pk for leg in pool_legs.values()}
    for leg in Leg.objects.filter(
        crisis=crisis,
        source=Leg.Source.PLAN,
        source_ref__regex=trips.POOL_LEG,
        status=LegStatus.PLANNED,
        seats_taken=0,
    ).exclude(pk__in=used):
        transport.leg_set_status(actor=actor, leg=leg, status=LegStatus.CANCELLED, note=str(note))
        # Its reference is free again for a later plan that uses the trip after all.
        Leg.objects.filter(pk=leg.pk).update(source_ref=f"{leg.source_ref}~{leg.pk}"[:200])

    # Book and house.
    ordered = sorted(
        (hid for hid in new if hid is not None), key=lambda k: (-new[k]["priority"], k)
    )
    nights: list[PlanNights] = []
    wanted: dict[int, list[int]] = defaultdict(list)
    hotels = {h.pk: h for h in Hotel.objects.filter(crisis=crisis)}
    for hid in ordered:
        household = households[hid]
        for leg_pk in _legs_of(new[hid], pool_legs, crisis.pk):
            wanted[leg_pk] += [p.pk for p in members[hid]]
        for hotel_pk, first, last in _nights_of(new[hid]):
            hotel = hotels.get(hotel_pk)
            if hotel is None:
                raise Refused("hotel_removed")
            nights.append(PlanNights(household, hotel, first, last, members[hid]))
    try:
        transport.legs_book_many(actor=actor, wanted=dict(wanted), note=str(note))
    except ApplicationError as exc:
        raise Refused("not_booked", exc.extra, problem=exc.message) from exc
    if nights:
        # Nights a household has a room for already (a stay kept, begun, or booked by an
        # officer) are not booked again: only the runs of nights still uncovered.
        covered: dict[int, set[date]] = defaultdict(set)
        for stay in Stay.objects.filter(
            crisis=crisis,
            status__in=(StayStatus.PLANNED, StayStatus.CHECKED_IN),
            household_id__in=[n.household.pk for n in nights],
        ):
            assert stay.household_id is not None
            night = stay.first_night
            while night <= stay.last_night:
                covered[stay.household_id].add(night)
                night += timedelta(days=1)
        todo = []
        for n in nights:
            run: list[date] = []
            night = n.first_night
            while night <= n.last_night + timedelta(days=1):
                if night <= n.last_night and night not in covered[n.household.pk]:
                    run.append(night)
                elif run:
                    todo.append(PlanNights(n.household, n.hotel, run[0], run[-1], n.people))
                    run = []
                night += timedelta(days=1)
        try:
            stays_from_plan(actor=actor, crisis=crisis, items=todo, plan_ref=f"plan{plan.pk}")
        except ApplicationError as exc:
            raise Refused("not_housed", exc.extra, problem=exc.message) from exc

    # What changed for whom (only what was still to come: see `compare`).
    kinds = {
        CHANGED: PlanChange.Kind.CHANGED,
        ADDED: PlanChange.Kind.NEW,
        LOST: PlanChange.Kind.CANCELLED,
    }
    changes = []
    for key, entry in compare(plan, previous).items():
        hid = inputs.pk_of(key, "hh")
        if hid is None or hid not in households or entry["kind"] not in kinds:
            continue
        changes.append(
            PlanChange(
                plan=plan,
                household=households[hid],
                kind=kinds[entry["kind"]],
                before=brief(entry["before"]),
                after=brief(entry["after"]),
                reason=entry.get("reason"),
                cause=entry.get("cause", ""),
            )
        )
    PlanChange.objects.bulk_create(changes)

    now = timezone.now()
    if previous is not None:
        previous.status = PlanStatus.SUPERSEDED
        previous.superseded_at = now
        previous.save(update_fields=["status", "superseded_at"])
    plan.status = PlanStatus.PUBLISHED
    plan.published_by = actor
    plan.published_at = now
    plan.progress = ""
    plan.error = ""
    plan.error_detail = {}
    plan.save(
        update_fields=[
            "status",
            "published_by",
            "published_at",
            "progress",
            "error",
            "error_detail",
        ]
    )
    counts: dict[str, int] = defaultdict(int)
    for c in changes:
        counts[c.kind] += 1
    audit_write(
        actor=actor,
        verb="plan_publish",
        obj=plan,
        crisis=crisis,
        changes={
            "superseded": previous.pk if previous else None,
            "itineraries": len(new),
            **counts,
        },
    )
    return plan


# Bus pools -----------------------------------------------------------------------------------


POOL_PLACES = (
    Place.Kind.CITY,
    Place.Kind.AIRPORT,
    Place.Kind.CROSSING,
    Place.Kind.ASSEMBLY_POINT,
)
# Left out of a new pool: these.
OPTIONAL: dict[str, Any] = {"escort": False, "carrier": "", "cost_per_seat": None}
COUNTS = {"buses_per_day": (1, 500), "seats": (1, 100), "travel_minutes": (30, 72 * 60)}
SEATS_A_DAY_MAX = 2000
DEPARTURES_MAX = 24
COST_MAX = Decimal("99999999.99")  # the column's ten digits
CLOCK = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


def pool_places(crisis: Crisis) -> QuerySet[Place]:
    """Where a crisis's bus pools may start and end: a city, airport or assembly point of
    the affected countries or of a country one of their crossings leads into (the bus on
    from the border to a hub), or a crossing out of the affected countries."""
    affected = crisis.affected_countries.all()
    exits = Place.objects.filter(
        kind=Place.Kind.CROSSING, country__in=affected, entry_country__isnull=False
    ).exclude(entry_country__in=affected)
    near = Q(country__in=affected) | Q(country__in=exits.values("entry_country_id"))
    return Place.objects.filter(
        Q(pk__in=exits.values("pk"))
        | (Q(kind__in=(Place.Kind.CITY, Place.Kind.AIRPORT, Place.Kind.ASSEMBLY_POINT)) & near)
    )


def _pool_place(raw: Any, name: str, crisis: Crisis, problems: dict[str, list[str]]) -> Any:
    place = transport._place(raw, name, problems)
    if place is None:
        return None
    if place.kind in POOL_PLACES and pool_places(crisis).filter(pk=place.pk).exists():
        return place
    problems.setdefault(name, []).append(
        _(
            "%(place)s is not a place of this crisis for buses: a city, airport or assembly "
            "point of the affected countries or of a country their crossings lead into, or "
            "a crossing out of them."
        )
        % {"place": place}
    )
    return None


def _pool_count(raw: Any, name: str, crisis: Crisis, problems: dict[str, list[str]]) -> Any:
    low, high = COUNTS[name]
    if not isinstance(raw, bool) and isinstance(raw, int) and low <= raw <= high:
        return raw
    problems.setdefault(name, []).append(
        _("From 30 minutes to 72 hours (4320 minutes).")
        if name == "travel_minutes"
        else _("From %(low)d to %(high)d.") % {"low": low, "high": high}
    )
    return None


def _pool_departures(raw: Any, name: str, crisis: Crisis, problems: dict[str, list[str]]) -> Any:
    """ "HH:MM" times, a list or separated by commas: "06:00,14:30" (in order, once each)."""
    texts = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(texts, list | tuple):
        problems.setdefault(name, []).append(_("Departure times like 06:00, 14:30."))
        return None
    times, wrong = set(), []
    for text in (str(t).strip() for t in texts):
        found = CLOCK.match(text)
        if found is not None:
            times.add(f"{int(found[1]):02d}:{found[2]}")
        elif text:
            wrong.append(_("“%(t)s” is not a time like 06:00.") % {"t": text[:10]})
    if not wrong and not times:
        wrong.append(_("At least one departure time."))
    elif not wrong and len(times) > DEPARTURES_MAX:
        wrong.append(_("At most %(n)d departure times a day.") % {"n": DEPARTURES_MAX})
    if wrong:
        problems.setdefault(name, []).extend(wrong)
        return None
    return ",".join(sorted(times))


def _pool_day(raw: Any, name: str, crisis: Crisis, problems: dict[str, list[str]]) -> Any:
    problem = (
        _("A day like 2026-03-02.")
        if not isinstance(raw, date) or isinstance(raw, datetime)
        else shelter_dates.day_problem(raw)
    )
    if problem:
        problems.setdefault(name, []).append(problem)
        return None
    return raw


def _pool_flag(raw: Any, name: str, crisis: Crisis, problems: dict[str, list[str]]) -> Any:
    if isinstance(raw, bool):
        return raw
    problems.setdefault(name, []).append(_("Yes or no."))
    return None


def _pool_text(raw: Any, name: str, crisis: Crisis, problems: dict[str, list[str]]) -> Any:
    text = "" if raw is None else str(raw).strip()
    if len(text) <= 200:
        return text
    problems.setdefault(name, []).append(_("At most %(n)d characters.") % {"n": 200})
    return None


def _pool_cost(raw: Any, name: str, crisis: Crisis, problems: dict[str, list[str]]) -> Any:
    amount = transport._decimal(raw, name, problems)
    if amount is not None and amount > COST_MAX:
        problems.setdefault(name, []).append(_("At most 99,999,999.99."))
    return amount


# Each field of a bus pool and what reads it; a reader names its problems under the field.
POOL_FIELDS = {
    "origin": _pool_place,
    "destination": _pool_place,
    "buses_per_day": _pool_count,
    "seats": _pool_count,
    "travel_minutes": _pool_count,
    "departures": _pool_departures,
    "first_day": _pool_day,
    "last_day": _pool_day,
    "escort": _pool_flag,
    "carrier": _pool_text,
    "cost_per_seat": _pool_cost,
}


def _pool_values(
    data: dict[str, Any], *, crisis: Crisis, current: BusPool | None = None
) -> dict[str, Any]:
    """The bus pool's fields from `data` — all of them for a new pool (those left out of
    OPTIONAL as there), those present for a change of `current` — checked one by one and
    together; ApplicationError names every bad field. The one place of these rules: the
    page and the API both come here."""
    problems: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, read in POOL_FIELDS.items():
        if current is not None and name not in data:
            continue
        value = read(data.get(name, OPTIONAL.get(name)), name, crisis, problems)
        if name not in problems:
            values[name] = value

    # Together, with what a change leaves as it is.
    def final(name: str) -> Any:
        if name in problems or (current is None and name not in values):
            return None
        return values[name] if name in values else getattr(current, name)

    origin, destination = final("origin"), final("destination")
    if origin is not None and origin == destination:
        problems.setdefault("destination", []).append(
            _("The destination must differ from the origin.")
        )
    first, last = final("first_day"), final("last_day")
    if first is not None and last is not None and last < first:
        problems.setdefault("last_day", []).append(_("Not before the first day."))
    buses, seats = final("buses_per_day"), final("seats")
    if buses is not None and seats is not None and buses * seats > SEATS_A_DAY_MAX:
        problems.setdefault("buses_per_day", []).append(
            _("At most 2,000 seats a day (buses × seats per bus).")
        )
    if problems:
        first_bad = next(iter(problems))
        raise ApplicationError(
            _("The bus pool was not saved: %(field)s: %(problem)s")
            % {"field": first_bad, "problem": problems[first_bad][0]},
            {"errors": problems},
        )
    return values


def _lock_crisis(crisis_id: int) -> None:
    """A pool write and the start of a plan (which reads the pools) one after the other."""
    Crisis.objects.select_for_update().filter(pk=crisis_id).first()


@transaction.atomic
def pool_create(*, actor: User | None, crisis: Crisis, data: dict[str, Any]) -> BusPool:
    """A bus pool from page or API data; ApplicationError names every bad field."""
    values = _pool_values(data, crisis=crisis)
    _lock_crisis(crisis.pk)
    pool = BusPool.objects.create(crisis=crisis, created_by=actor, **values)
    audit_write(
        actor=actor,
        verb="pool_create",
        obj=pool,
        action="create",
        crisis=crisis,
        changes={
            "route": str(pool),
            "days": f"{pool.first_day}/{pool.last_day}",
            "departures": pool.departures,
        },
    )
    return pool


@transaction.atomic
def pool_update(*, actor: User | None, pool: BusPool, data: dict[str, Any]) -> BusPool:
    """Change any of a bus pool's fields (those in `data`). The trips that published plans
    already made into legs stay legs (`pool_legs.keep`): the pool feeds the next plans
    only, and a plan started before the change is not published."""
    _lock_crisis(pool.crisis_id)
    pool = BusPool.objects.select_for_update().select_related("crisis").get(pk=pool.pk)
    values = _pool_values(data, crisis=pool.crisis, current=pool)
    before = snapshot(pool, list(POOL_FIELDS))
    for name, value in values.items():
        setattr(pool, name, value)
    changes = diff(before, snapshot(pool, list(POOL_FIELDS)))
    if not changes:
        return pool
    # Its legs so far counted their buses with its seats as they were.
    kept = trips.keep(pool=pool, seats=before["seats"])
    pool.save()
    if kept:
        changes["legs_kept"] = kept
    audit_write(actor=actor, verb="pool_update", obj=pool, crisis=pool.crisis, changes=changes)
    return pool


@transaction.atomic
def pool_delete(*, actor: User | None, pool: BusPool) -> None:
    """Delete a bus pool; the trips published plans made into legs stay legs."""
    _lock_crisis(pool.crisis_id)
    pool = BusPool.objects.select_for_update().select_related("crisis").get(pk=pool.pk)
    kept = trips.keep(pool=pool)
    audit_write(
        actor=actor,
        verb="pool_delete",
        obj=pool,
        action="delete",
        crisis=pool.crisis,
        changes={"legs_kept": kept} if kept else None,
    )
    pool.delete()


# The planning policy ---------------------------------------------------------------------------


def planning_policy(crisis: Crisis) -> PlanningPolicy:
    """The crisis's planning policy (the defaults, unsaved, until one is set)."""
    return PlanningPolicy.objects.filter(crisis=crisis).first() or PlanningPolicy(crisis=crisis)


MINUTE_FIELDS = ("connection_minutes", "airport_connection_minutes", "crossing_minutes")


@transaction.atomic
def planning_policy_set(
    *,
    actor: User | None,
    crisis: Crisis,
    stability_reward: Any,
    firm_hours: Any,
    connection_minutes: Any = None,
    airport_connection_minutes: Any = None,
    crossing_minutes: Any = None,
) -> PlanningPolicy:
    """Set how the crisis's plans treat what households were told, and the minutes they
    leave between steps (None: as they are); the next plan uses it. ApplicationError names
    every bad field."""
    minutes = {
        "connection_minutes": connection_minutes,
        "airport_connection_minutes": airport_connection_minutes,
        "crossing_minutes": crossing_minutes,
    }
    problems: dict[str, list[str]] = {}
    reward: float | None = None
    with contextlib.suppress(TypeError, ValueError):
        reward = float(stability_reward)
    if (
        reward is None
        or isinstance(stability_reward, bool)
        or not (0.0 <= reward <= STABILITY_REWARD_MAX)
    ):
        problems["stability_reward"] = [
            _("A number from 0 to %(high)s.") % {"high": f"{STABILITY_REWARD_MAX:g}"}
        ]
    if (
        not isinstance(firm_hours, int)
        or isinstance(firm_hours, bool)
        or not 0 <= firm_hours <= FIRM_HOURS_MAX
    ):
        problems["firm_hours"] = [_("Whole hours from 0 to %(high)d.") % {"high": FIRM_HOURS_MAX}]
    for name, value in minutes.items():
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MINUTES_MAX
        ):
            problems[name] = [_("Whole minutes from 0 to %(high)d.") % {"high": MINUTES_MAX}]
    if problems:
        first_bad = next(iter(problems))
        raise ApplicationError(
            _("The planning policy was not saved: %(field)s: %(problem)s")
            % {"field": first_bad, "problem": problems[first_bad][0]},
            {"errors": problems},
        )
    assert reward is not None
    policy, created = PlanningPolicy.objects.select_for_update().get_or_create(crisis=crisis)
    before = (policy.stability_reward, policy.firm_hours)
    was = {name: getattr(policy, name) for name in MINUTE_FIELDS}
    policy.stability_reward, policy.firm_hours = round(reward, 2), firm_hours
    for name, value in minutes.items():
        if value is not None:
            setattr(policy, name, value)
    policy.save()
    audit_write(
        actor=actor,
        verb="planning_policy_set",
        obj=policy,
        action="create" if created else "update",
        crisis=crisis,
        changes={
            "stability_reward": [None if created else before[0], policy.stability_reward],
            "firm_hours": [None if created else before[1], policy.firm_hours],
            **{
                name: [None if created else was[name], getattr(policy, name)]
                for name in MINUTE_FIELDS
                if created or was[name] != getattr(policy, name)
            },
        },
    )
    return policy
