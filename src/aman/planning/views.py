"""The planner's pages: run a plan or a what-if, watch it, review it (by priority group,
place and day, with the limits and the shadow prices), lock households, compare it with
the published plan (or any two plans side by side), publish or discard it; bus pools."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from aman.core import access
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.geo.models import Place
from aman.planning import inputs, services
from aman.planning import pool_legs as trips
from aman.planning.models import (
    FIRM_HOURS_MAX,
    MINUTES_MAX,
    STABILITY_REWARD_MAX,
    BusPool,
    Plan,
    PlanChange,
    PlanLock,
    PlanStatus,
    percent,
)
from aman.registry.models import Household, PriorityPolicy
from aman.transport.forms import service_errors
from aman.transport.models import Leg

STAGES = {
    "queued": gettext_lazy("waiting for a worker"),
    "network": gettext_lazy("building the network of moves"),
    "greedy": gettext_lazy("the priority-greedy plan"),
    "lp": gettext_lazy("solving the linear programme"),
    "rounding": gettext_lazy("turning the flows into itineraries"),
    "result": gettext_lazy("writing the plan"),
    "explaining": gettext_lazy("the price of stability and the limits"),
    "price": gettext_lazy("solving again owing nobody anything (the price of stability)"),
    "limits": gettext_lazy("the most people who could be safe by each day"),
    "publishing": gettext_lazy("making the bookings and stays"),
}
REASONS = {
    "declined": gettext_lazy("declined"),
    "home": gettext_lazy("already in the home country"),
    "late": gettext_lazy("available only after the horizon ends"),
    "no_route": gettext_lazy("no route from %(place)s before the horizon ends"),
    "no_capacity": gettext_lazy("no capacity from %(place)s before the horizon ends"),
    "needs_escort": gettext_lazy("needs a medical escort; none available"),
    "permit_pending": gettext_lazy("transit permit pending at %(crossing)s"),
    "permit_refused": gettext_lazy("transit permit refused at %(crossing)s"),
}


def reason_text(reason: dict[str, Any] | str) -> str:
    if isinstance(reason, str):
        reason = {"code": reason}
    template = REASONS.get(reason.get("code", ""))
    if template is None:
        return str(reason.get("text") or reason.get("code") or "")
    return str(template) % {
        "place": reason.get("place", "?"),
        "crossing": reason.get("crossing", "?"),
    }


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _current(request: HttpRequest, cap: str = Cap.PLAN) -> tuple[User, Crisis]:
    user = _user(request)
    access.require(user, cap)
    crisis = access.current_crisis(user)
    if crisis is None:
        raise Http404
    return user, crisis


def _plan(crisis: Crisis, pk: int) -> Plan:
    try:
        return Plan.objects.select_related("crisis", "created_by", "published_by", "base").get(
            pk=pk, crisis=crisis
        )
    except Plan.DoesNotExist:
        raise Http404 from None


# Forms ---------------------------------------------------------------------------------------


class RunForm(forms.Form):
    days = forms.IntegerField(
        label=gettext_lazy("Days ahead"), min_value=1, max_value=services.MAX_DAYS, initial=7
    )
    method = forms.ChoiceField(
        label=gettext_lazy("Method"),
        choices=[
            ("auto", gettext_lazy("Best of the LP and the greedy (recommended)")),
            ("lp", gettext_lazy("LP with rounding and repair only")),
            ("greedy", gettext_lazy("Priority-greedy only (fastest)")),
        ],
        initial="auto",
    )


def _minutes_field(label: Any, help_text: Any) -> forms.IntegerField:
    """Minutes of the planning policy; left empty: as they are."""
    return forms.IntegerField(
        label=label, min_value=0, max_value=MINUTES_MAX, required=False, help_text=help_text
    )


class PolicyForm(forms.Form):
    stability_reward = forms.FloatField(
        label=gettext_lazy("Stability reward per household kept"),
        min_value=0.0,
        max_value=STABILITY_REWARD_MAX,
        help_text=gettext_lazy(
            "What keeping a household's told itinerary is worth, for each person of an "
            "average told household whatever its own size (a promise is kept or broken per "
            "family), against one person without priority brought out at once (1). "
            "0: a re-plan moves anyone whenever that is "
            "better; 1 (the default): a told household of average size keeps its seats "
            "unless people two or more priority points higher need them (a larger one gives "
            "way sooner, a smaller one later); higher: promises first, even before the "
            "vulnerable."
        ),
    )
    firm_hours = forms.IntegerField(
        label=gettext_lazy("Firm hours"),
        min_value=0,
        max_value=FIRM_HOURS_MAX,
        help_text=gettext_lazy(
            "Told itineraries that start within this many hours of a plan's start are kept "
            "exactly as told (48 by default: people are already on their way)."
        ),
    )
    connection_minutes = _minutes_field(
        gettext_lazy("Minimum connection (minutes)"),
        gettext_lazy(
            "Between arriving and leaving again on a bus, train or ferry (60 by default)."
        ),
    )
    airport_connection_minutes = _minutes_field(
        gettext_lazy("Minimum connection to a flight (minutes)"),
        gettext_lazy(
            "Between arriving at an airport and the flight's departure: check-in, security "
            "and passport control (120 by default)."
        ),
    )
    crossing_minutes = _minutes_field(
        gettext_lazy("Time to pass a border crossing (minutes)"),
        gettext_lazy(
            "From arriving at a crossing to leaving it on the other side (60 by default)."
        ),
    )


class ChangeForm(forms.Form):
    """One row of a what-if's changes: a crossing closed, a leg cancelled, a flight added
    (any of them; the page repeats the row)."""

    close_crossing = forms.ModelChoiceField(
        label=gettext_lazy("Close a crossing"), queryset=Place.objects.none(), required=False
    )
    closed_from = forms.DateTimeField(
        label=gettext_lazy("closed from"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=gettext_lazy("Empty: from now."),
    )
    closed_to = forms.DateTimeField(
        label=gettext_lazy("closed until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=gettext_lazy("Empty: to the horizon's end."),
    )
    cancel_leg = forms.ModelChoiceField(
        label=gettext_lazy("Cancel a leg"), queryset=Leg.objects.none(), required=False
    )
    flight_from = forms.CharField(
        label=gettext_lazy("Add a flight from"),
        max_length=10,
        required=False,
        help_text=gettext_lazy("Airport code, e.g. GYD"),
    )
    flight_to = forms.CharField(label=gettext_lazy("to"), max_length=10, required=False)
    flight_departure = forms.DateTimeField(
        label=gettext_lazy("departing"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    flight_hours = forms.DecimalField(
        label=gettext_lazy("hours in the air"), required=False, min_value=0.5, max_value=20
    )
    flight_seats = forms.IntegerField(
        label=gettext_lazy("seats"), required=False, min_value=1, max_value=1000
    )

    def __init__(
        self, *args: Any, crisis: Crisis, crossings: Any = None, legs: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        crossing_field = self.fields["close_crossing"]
        leg_field = self.fields["cancel_leg"]
        assert isinstance(crossing_field, forms.ModelChoiceField)
        assert isinstance(leg_field, forms.ModelChoiceField)
        crossing_field.queryset = crossings if crossings is not None else _crossings(crisis)
        leg_field.queryset = legs if legs is not None else _legs(crisis)

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if (d.get("flight_from") or d.get("flight_to")) and not (
            d.get("flight_to")
            and d.get("flight_from")
            and d.get("flight_departure")
            and d.get("flight_hours")
        ):
            self.add_error(
                "flight_departure",
                _("A flight needs where from, where to, a departure and hours in the air."),
            )
        return d

    def changes(self) -> list[tuple[dict[str, Any], str]]:
        """The row's changes (as the API takes them), each with the section it came from."""
        d = self.cleaned_data
        out: list[tuple[dict[str, Any], str]] = []
        if d.get("close_crossing"):
            out.append(
                (
                    {
                        "type": "close_crossing",
                        "crossing": d["close_crossing"].pk,
                        # As typed: read on the crossing's clock.
                        "from": timezone.make_naive(d["closed_from"]).isoformat()
                        if d.get("closed_from")
                        else None,
                        "to": timezone.make_naive(d["closed_to"]).isoformat()
                        if d.get("closed_to")
                        else None,
                    },
                    "close_crossing",
                )
            )
        if d.get("cancel_leg"):
            out.append(({"type": "cancel_leg", "leg": d["cancel_leg"].pk}, "cancel_leg"))
        if d.get("flight_from") and d.get("flight_to"):
            dep = timezone.make_naive(d["flight_departure"])  # as typed: the origin's clock
            arr = dep + timedelta(minutes=int(float(d["flight_hours"]) * 60))
            out.append(
                (
                    {
                        "type": "add_flight",
                        "from": d["flight_from"].strip(),
                        "to": d["flight_to"].strip(),
                        "departure": dep.isoformat(),
                        "arrival": arr.isoformat(),
                        "seats": d.get("flight_seats") or 180,
                    },
                    "add_flight",
                )
            )
        return out


# A service's field of a change, by the section of the row it came from -> the row's field.
CHANGE_FIELDS = {
    "close_crossing": {"crossing": "close_crossing", "from": "closed_from", "to": "closed_to"},
    "cancel_leg": {"leg": "cancel_leg"},
    "add_flight": {
        "from": "flight_from",
        "to": "flight_to",
        "departure": "flight_departure",
        "arrival": "flight_hours",
        "seats": "flight_seats",
    },
}


def _crossings(crisis: Crisis) -> Any:
    return Place.objects.filter(
        kind=Place.Kind.CROSSING, country__in=crisis.affected_countries.all()
    ).order_by("name")


def _legs(crisis: Crisis) -> Any:
    return (
        Leg.objects.filter(
            crisis=crisis,
            status__in=("planned", "confirmed", "boarding"),
            departure_planned__gte=timezone.now(),
        )
        .select_related("origin", "destination")
        .order_by("departure_planned")
    )


def change_rows(
    crisis: Crisis, data: Any = None, initial: list[dict[str, Any]] | None = None
) -> list[ChangeForm]:
    """The what-if's rows of changes: bound to what was posted (`rows` of them, the first
    under the field names the page always had), or unbound with `initial` (one row each).
    The rows share the choices (one query each, not one per row)."""
    crossings, legs = _crossings(crisis), _legs(crisis)

    def prefix(i: int) -> str | None:
        return None if i == 0 else f"c{i}"

    if data is not None:
        count = _row_count(data)
        return [
            ChangeForm(data, crisis=crisis, crossings=crossings, legs=legs, prefix=prefix(i))
            for i in range(count)
        ]
    return [
        ChangeForm(crisis=crisis, crossings=crossings, legs=legs, prefix=prefix(i), initial=row)
        for i, row in enumerate(initial or [{}])
    ]


def _row_count(data: Any) -> int:
    raw = str(data.get("rows") or "1")
    return min(max(int(raw), 1), services.MAX_CHANGES) if raw.isdigit() and len(raw) < 4 else 1


class WhatIfForm(forms.Form):
    days = forms.IntegerField(
        label=gettext_lazy("Days ahead"), min_value=1, max_value=services.MAX_DAYS, initial=7
    )


class BusPoolForm(forms.Form):
    """The fields of a bus pool, parsed only: its rules are the service's, for the page and
    the API alike (`services._pool_values`), and shown here on the fields they name. The
    page says the travel time in hours; the service takes minutes."""

    origin = forms.CharField(
        label=gettext_lazy("From"),
        help_text=gettext_lazy("Place id, airport code or crossing id"),
        widget=forms.TextInput(attrs={"list": "places", "autocomplete": "off"}),
    )
    destination = forms.CharField(
        label=gettext_lazy("To"),
        widget=forms.TextInput(attrs={"list": "places", "autocomplete": "off"}),
    )
    buses_per_day = forms.IntegerField(label=gettext_lazy("Buses per day"))
    seats = forms.IntegerField(label=gettext_lazy("Seats per bus"))
    travel_hours = forms.DecimalField(label=gettext_lazy("Hours on the road"), max_digits=8)
    departures = forms.CharField(
        label=gettext_lazy("Departure times"),
        initial="06:00,12:00,18:00",
        help_text=gettext_lazy("Local times at the origin, separated by commas."),
    )
    first_day = forms.DateField(
        label=gettext_lazy("First day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    last_day = forms.DateField(
        label=gettext_lazy("Last day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    escort = forms.BooleanField(label=gettext_lazy("Medical escort on board"), required=False)
    carrier = forms.CharField(label=gettext_lazy("Carrier"), required=False)
    cost_per_seat = forms.DecimalField(label=gettext_lazy("Cost per seat"), required=False)

    @staticmethod
    def initial_of(pool: BusPool) -> dict[str, Any]:
        """The form's fields for an existing pool (places as the list of places names them)."""
        return {
            "origin": _place_value(pool.origin),
            "destination": _place_value(pool.destination),
            "buses_per_day": pool.buses_per_day,
            "seats": pool.seats,
            "travel_hours": _hours(pool.travel_minutes),
            "departures": pool.departures,
            "first_day": pool.first_day,
            "last_day": pool.last_day,
            "escort": pool.escort,
            "carrier": pool.carrier,
            "cost_per_seat": pool.cost_per_seat,
        }

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "travel_hours"}
        data["travel_minutes"] = round(self.cleaned_data["travel_hours"] * 60)
        return data

    def service_errors(self, exc: ApplicationError) -> None:
        """The service's refusal on the fields it names (its minutes are the hours here)."""
        named = exc.extra.get("errors")
        if isinstance(named, dict) and "travel_minutes" in named:
            named = {("travel_hours" if k == "travel_minutes" else k): v for k, v in named.items()}
            exc = ApplicationError(exc.message, {**exc.extra, "errors": named})
        service_errors(self, exc)


def _hours(minutes: int) -> str:
    """Minutes as hours to two places, without trailing zeros ("1.5", "5")."""
    return f"{(Decimal(minutes) / 60).quantize(Decimal('0.01')):f}".rstrip("0").rstrip(".")


def _place_value(place: Place) -> str:
    """A place as the page's list of places offers it: a crossing by its id, else its
    number."""
    return place.code if place.kind == Place.Kind.CROSSING and place.code else str(place.pk)


# Pages -----------------------------------------------------------------------------------------


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.PLAN)
    crisis = access.current_crisis(user)
    plans = Plan.objects.none()
    if crisis is not None:
        plans = Plan.objects.filter(crisis=crisis).select_related("created_by")
    page = Paginator(plans, 25).get_page(request.GET.get("page"))
    published = services.published_plan(crisis) if crisis else None
    choices = list(comparable_plans(crisis)) if crisis else []
    compare = None
    if len(choices) >= 2:
        # By default the newest against the published plan (or the one before it).
        newest = choices[0]
        against = published if published and published.pk != newest.pk else choices[1]
        compare = {"a": str(against.pk), "b": str(newest.pk)}
    return TemplateResponse(
        request,
        "planning/plan_list.html",
        {
            "crisis": crisis,
            "page": page,
            "form": RunForm(),
            "published": published,
            "choices": choices,
            "compare": compare,
            "pools": BusPool.objects.filter(crisis=crisis).count() if crisis else 0,
            "locks": PlanLock.objects.filter(crisis=crisis).count() if crisis else 0,
        },
    )


@login_required
@require_POST
def plan_run(request: HttpRequest) -> HttpResponse:
    user, crisis = _current(request)
    form = RunForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The plan was not started: check the days and the method."))
        return redirect("plan_list")
    try:
        plan = services.plan_start(
            actor=user,
            crisis=crisis,
            days=form.cleaned_data["days"],
            method=form.cleaned_data["method"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("plan_list")
    return redirect("plan_detail", plan.pk)


@login_required
def plan_what_if(request: HttpRequest) -> HttpResponse:
    """A what-if: rows of changes (another row added without JavaScript: the page comes
    back with what was typed and one more empty row), up to the API's limit, sent as one
    what-if to the service the API uses."""
    user, crisis = _current(request)
    if request.method != "POST":
        form, rows = WhatIfForm(), change_rows(crisis)
    elif "add_change" in request.POST:
        posted = request.POST
        form = WhatIfForm(initial={"days": posted.get("days") or 7})
        typed = [
            {name: posted.get(row.add_prefix(name), "") for name in ChangeForm.base_fields}
            for row in change_rows(crisis, posted)
        ]
        more = len(typed) < services.MAX_CHANGES
        rows = change_rows(crisis, initial=[*typed, {}] if more else typed)
        if more:
            # Keyboard users land on the new row.
            rows[-1].fields["close_crossing"].widget.attrs["autofocus"] = True
    else:
        form, rows = WhatIfForm(request.POST), change_rows(crisis, request.POST)
        valid = form.is_valid() & all([row.is_valid() for row in rows])
        if valid:
            made = [
                (change, i, section)
                for i, row in enumerate(rows)
                for change, section in row.changes()
            ]
            if not made:
                form.add_error(None, _("Choose at least one change."))
            elif len(made) > services.MAX_CHANGES:
                form.add_error(
                    None,
                    _("A what-if takes at most %(n)d changes.") % {"n": services.MAX_CHANGES},
                )
            else:
                try:
                    plan = services.plan_start(
                        actor=user,
                        crisis=crisis,
                        kind=Plan.Kind.WHAT_IF,
                        changes=[change for change, _i, _s in made],
                        days=form.cleaned_data["days"],
                    )
                except ApplicationError as exc:
                    which = exc.extra.get("change")
                    if isinstance(which, int) and 0 <= which < len(made):
                        _change_errors(rows[made[which][1]], made[which][2], exc)
                    else:
                        service_errors(form, exc)
                else:
                    return redirect("plan_detail", plan.pk)
    return TemplateResponse(
        request,
        "planning/what_if.html",
        {
            "form": form,
            "rows": rows,
            "can_add": len(rows) < services.MAX_CHANGES,
            "crisis": crisis,
        },
    )


def _change_errors(row: ChangeForm, section: str, exc: ApplicationError) -> None:
    """A service's refusal of one change shown on the row it came from: above the row,
    and on the fields it names."""
    row.add_error(None, exc.message)
    named = exc.extra.get("errors")
    if isinstance(named, dict):
        for name, problems in named.items():
            field = CHANGE_FIELDS.get(section, {}).get(name)
            if field is not None:
                for problem in problems:
                    row.add_error(field, str(problem))


def _review(plan: Plan) -> dict[str, Any]:
    """The plan's figures for the page: by priority group, place and day; the per-day
    curve of people safe; the shadow prices in words; reasons counted."""
    result = plan.result or {}
    names = {p["id"]: p["name"] for p in plan.scenario.get("places", [])}
    households = {h["id"]: h for h in plan.scenario.get("households", [])}
    by_place: dict[str, dict[str, int]] = defaultdict(lambda: {"people": 0, "safe": 0})
    by_day = services.safe_by_day(plan)
    for h in households.values():
        by_place[names.get(h["location"], h["location"])]["people"] += h["size"]
    for item in result.get("itineraries", []):
        place = names.get(item["from"], item["from"])
        if item.get("safe_at"):
            by_place[place]["safe"] += item["size"]
    most = {row["day"]: row["most_safe"] for row in result.get("limits", [])}
    curve = []
    total = 0
    for day in sorted(set(by_day) | set(most)):
        total += by_day.get(day, 0)
        curve.append(
            {"day": day, "safe": by_day.get(day, 0), "total": total, "most": most.get(day)}
        )
    reasons: dict[str, dict[str, int]] = defaultdict(lambda: {"households": 0, "people": 0})
    for u in result.get("unassigned", []):
        text = reason_text(u["reason"])
        reasons[text]["households"] += 1
        reasons[text]["people"] += u["size"]
    legs = {
        f"leg{leg.pk}": leg
        for leg in Leg.objects.filter(
            pk__in=[
                inputs.pk_of(x["ref"], "leg") or 0
                for x in result.get("shadow_prices", [])
                if x["kind"] == "leg"
            ]
        ).select_related("origin", "destination")
    }
    prices = []
    local = _local_clock(plan)
    for x in result.get("shadow_prices", []):
        price = x["per_unit"]
        if x["kind"] == "leg":
            leg = legs.get(x["ref"])
            seats = next((g["seats"] for g in plan.scenario["legs"] if g["id"] == x["ref"]), 0)
            text = _(
                "One more seat on %(leg)s is worth %(price).2f of the plan's value; as many "
                "seats again (%(seats)d) would add at most %(gain).0f of value — at most "
                "%(seats)d more people brought out."
            ) % {
                "leg": leg or x["ref"],
                "price": price,
                "seats": seats or 0,
                "gain": price * (seats or 0),
            }
        elif x["kind"] == "crossing":
            text = _(
                "One more person a day through %(crossing)s on %(day)s is worth %(price).2f of "
                "the plan's value."
            ) % {"crossing": names.get(x["ref"], x["ref"]), "day": x.get("day"), "price": price}
        elif x["kind"] == "pool":
            # A bus pool's buses a day: one more bus, at the best departure of that day.
            text = _(
                "One more bus from %(origin)s to %(destination)s on %(day)s (%(seats)d seats, "
                "leaving %(at)s) is worth %(price).2f of the plan's value — at most %(seats)d "
                "more people brought out."
            ) % {
                "origin": names.get(x.get("from", ""), x.get("from") or x["ref"]),
                "destination": names.get(x.get("to", ""), x.get("to") or ""),
                "day": x.get("day"),
                "seats": x.get("seats") or 0,
                "at": local(x.get("departure"), x.get("from") or "")[11:],
                "price": price,
            }
        else:
            text = _(
                "One more hotel bed at %(place)s the night of %(day)s is worth %(price).2f of "
                "the plan's value."
            ) % {
                "place": names.get(x["ref"], x["ref"]),
                "day": x.get("day"),
                "price": price,
            }
        people = x.get("people")
        if people:
            # Priced in people too once the per-day limits are known (the LP of people
            # safe by that day: an upper bound, as every price × units is).
            more = {
                "leg": _("As many seats again (%(n)d)"),
                "crossing": _("%(n)d more places a day there"),
                "night": _("%(n)d more beds there that night"),
                "pool": _("That one more bus"),
            }.get(x["kind"], _("%(n)d more"))
            text += " " + _(
                "%(more)s would bring at most %(people)d more people to safety by the end of "
                "%(day)s."
            ) % {
                "more": more % {"n": people["units"]},
                "people": people["most"],
                "day": people["by_day"],
            }
        prices.append({**x, "text": text})  # the words in the officer's language
    return {
        "by_place": sorted(by_place.items(), key=lambda e: -e[1]["people"]),
        "curve": curve,
        "reasons": sorted(reasons.items(), key=lambda e: -e[1]["people"]),
        "prices": prices,
        "names": names,
    }


def _diff(plan: Plan) -> dict[str, list[Any]] | None:
    """Against the plan it was started from (the published plan then): households added,
    moved, losing their itinerary, unchanged, done (no longer planned); None when there
    is no base. Only what was still to come when this plan started is compared."""
    if plan.base is None or not plan.base.result or not plan.result:
        return None
    out: dict[str, list[Any]] = {"added": [], "moved": [], "lost": [], "kept": [], "done": []}
    where = {
        services.ADDED: "added",
        services.CHANGED: "moved",
        services.LOST: "lost",
        services.KEPT: "kept",
        services.DONE: "done",
    }
    causes = dict(PlanChange.Cause.choices)
    for key, entry in services.compare(plan).items():
        label = f"H{key[2:]}" if key.startswith("hh") else key
        cause = str(causes.get(entry.get("cause", ""), ""))
        if entry["kind"] == services.LOST:
            reason = entry.get("reason")
            out["lost"].append((label, reason_text(reason) if reason else "", cause))
        elif entry["kind"] == services.CHANGED:
            out["moved"].append((label, "", cause))
        elif entry["kind"] == services.ADDED:
            out["added"].append((label, "", ""))
        else:
            out[where[entry["kind"]]].append(label)
    return out


DIFF_SHOWN = ("lost", "moved", "added")
CHANGE_KINDS = tuple(PlanChange.Kind.values)


def _step_text(
    step: dict[str, Any],
    names: dict[str, str],
    legs: dict[str, Leg],
    local: Any = lambda moment, place: moment[:16].replace("T", " "),
) -> str:
    """One step of an itinerary in words, times on the clock of the place they happen at."""
    kind = step["type"]
    if kind == "leg":
        leg = legs.get(step["leg"])
        if leg is None and step.get("from") and step.get("to") and step.get("departure"):
            # A leg of the inputs only (a what-if's flight): its route and time.
            origin = names.get(step["from"], step["from"])
            destination = names.get(step["to"], step["to"])
            return f"{origin} → {destination} {local(step['departure'], step['from'])}"
        return str(leg or step["leg"])
    if kind == "pool":
        return _("bus %(origin)s → %(destination)s %(at)s") % {
            "origin": names.get(step["from"], step["from"]),
            "destination": names.get(step["to"], step["to"]),
            "at": local(step["departure"], step["from"]),
        }
    if kind == "crossing":
        return _("crosses at %(place)s %(at)s") % {
            "place": names.get(step["place"], step["place"]),
            "at": local(step["at"], step["place"]),
        }
    if kind == "hotel":
        return _("%(n)d nights at %(hotel)s from %(first)s") % {
            "n": len(step["nights"]),
            "hotel": names.get(step["hotel"], step.get("hotel") or names.get(step["place"], "")),
            "first": step["nights"][0],
        }
    return kind


def _local_clock(*plans: Plan) -> Any:
    """`local(moment, place)`: an instant of the plans on the clock of a place of theirs."""
    zones = {
        x["id"]: x.get("timezone") or "UTC"
        for plan in plans
        for x in (plan.scenario or {}).get("places", [])
    }

    def local(moment: str | None, place: str) -> str:
        if not moment:
            return ""
        zone = services.zone_or_utc(zones.get(place))
        return datetime.fromisoformat(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    return local


def _legs_of_steps(items: list[dict[str, Any] | None]) -> dict[str, Leg]:
    """The database legs the itineraries' leg steps name, by their scenario id."""
    refs = {s["leg"] for item in items if item for s in item.get("steps", []) if s["type"] == "leg"}
    return {
        f"leg{leg.pk}": leg
        for leg in Leg.objects.filter(
            pk__in=[inputs.pk_of(x, "leg") or 0 for x in refs]
        ).select_related("origin", "destination")
    }


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    plan = _plan(crisis, pk)
    review = _review(plan) if plan.result else None
    result = plan.result or {}
    # Itineraries, filtered by priority group, place and day of safety.
    items = result.get("itineraries", [])
    f_priority = request.GET.get("priority", "")
    f_place = request.GET.get("place", "")
    f_day = request.GET.get("day", "")
    f_show = request.GET.get("show", "assigned")
    if f_priority.isdigit():
        items = [i for i in items if i["priority"] == int(f_priority)]
    # Where each household is in the plan's scenario: the place filter and its choices,
    # for the households with an itinerary and those without alike.
    located = {h["id"]: h["location"] for h in plan.scenario.get("households", [])}

    def where(row: dict[str, Any]) -> str:
        return str(located.get(row["household"]) or row.get("from") or "")

    if f_place:
        items = [i for i in items if where(i) == f_place]
    if f_day:
        zone = services.plan_zone(plan)
        items = [i for i in items if services.day_of(i.get("safe_at"), zone) == f_day]
    unassigned = result.get("unassigned", [])
    if f_priority.isdigit():
        unassigned = [u for u in unassigned if u["priority"] == int(f_priority)]
    if f_place:
        unassigned = [u for u in unassigned if where(u) == f_place]
    rows = unassigned if f_show == "unassigned" else items
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    hids = [inputs.pk_of(r["household"], "hh") for r in page]
    labels: dict[str, dict[str, Any]] = {
        f"hh{h['pk']}": dict(h)
        for h in Household.objects.filter(crisis=crisis, pk__in=[h for h in hids if h]).values(
            "pk", "contact__reference_code"
        )
    }
    locked = set(
        PlanLock.objects.filter(crisis=crisis, household_id__in=[h for h in hids if h]).values_list(
            "household_id", flat=True
        )
    )
    names: dict[str, str] = review["names"] if review else {}
    names.update({h["id"]: h["name"] for h in plan.scenario.get("hotels", [])})
    local = _local_clock(plan)
    legs = _legs_of_steps(list(page))
    shown = []
    for r in page:
        hid = inputs.pk_of(r["household"], "hh")
        shown.append(
            {
                **r,
                "pk": hid,
                "reference": (labels.get(r["household"]) or {}).get("contact__reference_code", ""),
                "locked": hid in locked,
                "place": names.get(where(r), ""),
                "steps_text": [
                    (_step_text(s, names, legs, local), s.get("firm")) for s in r.get("steps", [])
                ],
                "safe_local": local(r.get("safe_at"), r.get("from", "")),
                "reason_text": reason_text(r["reason"]) if "reason" in r else "",
            }
        )
    diff = _diff(plan)
    f_diff = request.GET.get("diff", "")
    diff_page = None
    if diff is not None:
        if f_diff not in DIFF_SHOWN:
            f_diff = next((k for k in DIFF_SHOWN if diff[k]), "lost")
        diff_page = Paginator(diff[f_diff], 100).get_page(request.GET.get("dpage"))
    f_change = request.GET.get("change", "")
    changes = PlanChange.objects.filter(plan=plan)
    if f_change in CHANGE_KINDS:
        changes = changes.filter(kind=f_change)
    changes_page = Paginator(
        changes.select_related("household__contact").order_by("kind", "household_id"), 100
    ).get_page(request.GET.get("cpage"))
    audit_read(actor=user, verb="plan_view", obj=plan, crisis=crisis)
    published = services.published_plan(crisis)
    # The plan beside the current one: the published plan, or for a what-if its base.
    current = published or (plan.base if plan.kind == Plan.Kind.WHAT_IF else None)
    places = sorted(
        {(at, names.get(at, at)) for at in set(located.values()) if at},
        key=lambda e: e[1],
    )
    priorities = sorted({h["priority"] for h in plan.scenario.get("households", [])})
    return TemplateResponse(
        request,
        "planning/plan_detail.html",
        {
            "plan": plan,
            "crisis": crisis,
            "result": result,
            "review": review,
            "page": page,
            "rows": shown,
            "diff": diff,
            "diff_shown": f_diff,
            "diff_page": diff_page,
            "diff_tabs": [
                (key, title, len(diff[key]))
                for key, title in (
                    ("lost", _("Lose their itinerary")),
                    ("moved", _("Moved")),
                    ("added", _("Added")),
                )
            ]
            if diff is not None
            else [],
            "change_shown": f_change,
            "stage": STAGES.get(plan.progress, plan.progress),
            "error": services.error_text(plan),
            "input_warnings": [inputs.warning_text(w) for w in plan.input_warnings],
            "plan_warnings": [inputs.plan_warning_text(w) for w in result.get("warnings") or []],
            "filters": {"priority": f_priority, "place": f_place, "day": f_day, "show": f_show},
            "query": urlencode(
                {
                    k: v
                    for k, v in (
                        ("priority", f_priority),
                        ("place", f_place),
                        ("day", f_day),
                        ("show", f_show),
                    )
                    if v
                }
            ),
            "gap": percent(result.get("gap")),
            "stages": [
                {
                    "priority": st.get("priority"),
                    "plan": st.get("plan", st.get("value")),
                    "bound": st.get("bound"),
                    "gap": percent(st.get("gap")) or "—",
                }
                for st in result.get("stages") or []
            ],
            "by_priority": _by_priority(result),
            "without_promises": _without_promises(result),
            "baseline_gap": percent((result.get("baseline") or {}).get("gap")),
            "places": places,
            "priorities": priorities,
            "can_publish": user.has_cap(Cap.PLAN_PUBLISH),
            "changes_page": changes_page,
            "changes": [(c, reason_text(c.reason) if c.reason else "") for c in changes_page],
            "changes_count": PlanChange.objects.filter(plan=plan).count(),
            "firm_hours": (plan.scenario.get("policy") or {}).get("firm_hours", 48),
            "stale": plan.status == PlanStatus.DRAFT
            and plan.base_id != getattr(published, "pk", None),
            "compare_with": current
            if plan.result and current is not None and current.pk != plan.pk
            else None,
        },
    )


def _without_promises(result: dict[str, Any]) -> dict[str, Any] | None:
    """What keeping the promises cost (a re-plan solved again owing nobody anything)."""
    other = (result.get("stability") or {}).get("without_promises")
    if not other:
        return None
    share = other.get("share")
    return {
        "costs": share is not None and share > 0.00005,
        "share": percent(share) if share is not None and share > 0 else "",
        "people_safe": other["summary"]["people_safe"],
    }


def _by_priority(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's people safe by priority group, beside those of the plan owing nobody
    anything where a re-plan was solved again for its price."""
    other = (result.get("stability") or {}).get("without_promises")
    free = {r["priority"]: r["safe"] for r in other["summary"]["by_priority"]} if other else {}
    return [
        {**row, "without_promises": free.get(row["priority"])}
        for row in (result.get("summary") or {}).get("by_priority", [])
    ]


# The comparison of two plans -----------------------------------------------------------------

# Households of a tab on a page of the comparison.
COMPARE_PAGE = 100
# The tabs of the households B differs for, in this order; unchanged ones are only counted.
COMPARE_TABS = (services.LOST, services.MOVED, services.ADDED, services.NOT_PLANNED)
COMPARE_TITLES = {
    services.LOST: gettext_lazy("Lose their itinerary"),
    services.MOVED: gettext_lazy("Moved"),
    services.ADDED: gettext_lazy("Added"),
    services.NOT_PLANNED: gettext_lazy("Not planned in B"),
}


def comparable_plans(crisis: Crisis) -> Any:
    """The crisis's plans with a result, newest first: those that can be compared."""
    return (
        Plan.objects.filter(crisis=crisis, result__isnull=False)
        .defer("scenario", "result")
        .order_by("-number")
    )


def _compare_pair(crisis: Crisis, raw_a: str, raw_b: str) -> tuple[Plan, Plan]:
    """The two plans asked for, of the crisis (404 for another's); ApplicationError says
    what is wrong with the choice."""
    if not (raw_a.isdigit() and raw_b.isdigit() and len(raw_a) < 19 and len(raw_b) < 19):
        raise ApplicationError(_("Choose two plans to compare."), {"errors": {"a": [], "b": []}})
    a, b = _plan(crisis, int(raw_a)), _plan(crisis, int(raw_b))
    services.plans_comparable(a, b)
    return a, b


# The figures set side by side: (row id, label, key of `services.plan_figures`).
FIGURES = (
    ("people-safe", gettext_lazy("People safe (out of the affected countries)"), "people_safe"),
    ("people", gettext_lazy("People planned"), "people"),
    ("people-home", gettext_lazy("People home"), "people_home"),
    ("unassigned", gettext_lazy("Households without an itinerary"), "unassigned"),
    ("gap", gettext_lazy("Gap to the LP bound"), "gap"),
    ("hotel-nights", gettext_lazy("Hotel nights (people × nights)"), "hotel_nights"),
)


def _figures_rows(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str, Any, Any, str]]:
    """The two plans' figures side by side: (row id, label, A, B, B − A)."""
    rows = []
    for row, label, key in FIGURES:
        x, y = a[key], b[key]
        if key == "gap":
            rows.append((row, str(label), percent(x) or "—", percent(y) or "—", ""))
        elif x is not None or y is not None:
            change = f"{y - x:+d}" if isinstance(x, int) and isinstance(y, int) and x != y else ""
            rows.append((row, str(label), x, y, change))
    return rows


def _priority_rows(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """People and people safe by priority group in each plan, highest priority first."""
    rows_a = {r["priority"]: r for r in a["by_priority"]}
    rows_b = {r["priority"]: r for r in b["by_priority"]}
    out = []
    for priority in sorted(set(rows_a) | set(rows_b), reverse=True):
        ra, rb = rows_a.get(priority) or {}, rows_b.get(priority) or {}
        safe_a, safe_b = ra.get("safe", 0), rb.get("safe", 0)
        out.append(
            {
                "priority": priority,
                "people_a": ra.get("people", 0),
                "people_b": rb.get("people", 0),
                "safe_a": safe_a,
                "safe_b": safe_b,
                "delta": f"{safe_b - safe_a:+d}" if safe_a != safe_b else "",
            }
        )
    return out


# The curve's drawing (an inline SVG, no script): its size and margin in pixels.
CURVE_W, CURVE_H, CURVE_M = 480, 160, 24


def _curve(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """People safe by day in each plan, on the days either makes anyone safe: a table's
    rows (that day and by then), and the two curves of people safe by then as SVG points."""
    safe_a = {r["day"]: r["safe"] for r in a["by_day"]}
    safe_b = {r["day"]: r["safe"] for r in b["by_day"]}
    days = sorted(set(safe_a) | set(safe_b))
    rows, total_a, total_b = [], 0, 0
    for day in days:
        total_a += safe_a.get(day, 0)
        total_b += safe_b.get(day, 0)
        rows.append(
            {
                "day": day,
                "safe_a": safe_a.get(day, 0),
                "total_a": total_a,
                "safe_b": safe_b.get(day, 0),
                "total_b": total_b,
            }
        )
    top = max(a["people"] or 0, b["people"] or 0, total_a, total_b, 1)
    # From none safe at the left edge to the end of each day.
    step = (CURVE_W - 2 * CURVE_M) / max(len(days), 1)

    def points(key: str) -> str:
        out = [f"{CURVE_M:.1f},{CURVE_H - CURVE_M:.1f}"]
        for i, row in enumerate(rows, start=1):
            x = CURVE_M + i * step
            y = CURVE_H - CURVE_M - row[key] * (CURVE_H - 2 * CURVE_M) / top
            out.append(f"{x:.1f},{y:.1f}")
        return " ".join(out)

    return {
        "rows": rows,
        "points_a": points("total_a") if rows else "",
        "points_b": points("total_b") if rows else "",
        "top": top,
        "width": CURVE_W,
        "height": CURVE_H,
        "margin": CURVE_M,
        "bottom": CURVE_H - CURVE_M,
        "right": CURVE_W - CURVE_M,
        # The first day's label under its point, when it is not the last's.
        "first": days[0] if len(days) > 1 else "",
        "first_x": f"{CURVE_M + step:.1f}",
        "last": days[-1] if days else "",
    }


@login_required
def plan_compare(request: HttpRequest) -> HttpResponse:
    """Two plans of the crisis side by side (`?a=ID&b=ID`, any two with a result: drafts,
    what-ifs, superseded or discarded ones — the audit's use): their figures, people safe
    by priority group and by day, and the households B differs for against A (tabs:
    `?kind=lost|moved|added|not_planned`, paged), each with A's and B's steps in words."""
    user, crisis = _current(request)
    raw_a, raw_b = request.GET.get("a", "").strip(), request.GET.get("b", "").strip()
    context: dict[str, Any] = {
        "crisis": crisis,
        "choices": comparable_plans(crisis),
        "chosen": {"a": raw_a, "b": raw_b},
    }
    if not raw_a and not raw_b:
        return TemplateResponse(request, "planning/compare.html", context)
    try:
        a, b = _compare_pair(crisis, raw_a, raw_b)
    except ApplicationError as exc:
        context["problem"] = exc.message
        return TemplateResponse(request, "planning/compare.html", context, status=400)
    entries = services.compare_plans(a, b)
    groups = services.compared_by_kind(entries)
    f_kind = request.GET.get("kind", "")
    if f_kind not in COMPARE_TABS:
        f_kind = next((k for k in COMPARE_TABS if groups[k]), services.LOST)
    page = Paginator(groups[f_kind], COMPARE_PAGE).get_page(request.GET.get("page"))
    rows = list(page)
    hids = [inputs.pk_of(key, "hh") for key, _entry in rows]
    references = dict(
        Household.objects.filter(crisis=crisis, pk__in=[h for h in hids if h]).values_list(
            "pk", "contact__reference_code"
        )
    )
    names: dict[str, str] = {}
    for plan in (a, b):
        names.update({p["id"]: p["name"] for p in plan.scenario.get("places", [])})
        names.update({h["id"]: h["name"] for h in plan.scenario.get("hotels", [])})
    local = _local_clock(a, b)
    legs = _legs_of_steps([item for _key, e in rows for item in (e["a"], e["b"])])
    since = services.compared_since(a, b)

    def words(item: dict[str, Any] | None) -> list[tuple[str, bool]]:
        """An itinerary's steps in words, each saying whether it is past at the later
        plan's start (not compared)."""
        out = []
        for step in (item or {}).get("steps", []):
            moment = services.step_moment(step)
            if since is None:
                past = False
            elif step["type"] == "hotel":
                past = bool(step["nights"]) and step["nights"][-1] < since.date().isoformat()
            else:
                past = moment is not None and moment < since
            out.append((_step_text(step, names, legs, local), past))
        return out

    shown = []
    for (key, entry), hid in zip(rows, hids, strict=True):
        either = entry["b"] or entry["a"] or {}
        reason = entry.get("reason")
        shown.append(
            {
                "pk": hid,
                "label": f"H{hid}" if hid is not None else key,
                "reference": references.get(hid or 0) or "",
                "size": either.get("size"),
                "priority": either.get("priority"),
                "steps_a": words(entry["a"]),
                "steps_b": words(entry["b"]),
                "reason": reason_text(reason) if reason else "",
            }
        )
    figures_a, figures_b = services.plan_figures(a), services.plan_figures(b)
    audit_read(
        actor=user,
        verb="plan_compare",
        obj=a,
        crisis=crisis,
        details={"a": a.pk, "b": b.pk, "kind": f_kind, "households": [h for h in hids if h]},
    )
    context.update(
        {
            "a": a,
            "b": b,
            "plans": [a, b],
            "figures": _figures_rows(figures_a, figures_b),
            "by_priority": _priority_rows(figures_a, figures_b),
            "curve": _curve(figures_a, figures_b),
            "counts": {k: len(v) for k, v in groups.items()},
            "tabs": [(k, COMPARE_TITLES[k], len(groups[k])) for k in COMPARE_TABS],
            "shown": f_kind,
            "page": page,
            "rows": shown,
            "since": since.astimezone(services.plan_zone(b)).strftime("%Y-%m-%d %H:%M")
            if since
            else "",
            "query": urlencode({"a": a.pk, "b": b.pk, "kind": f_kind}),
        }
    )
    return TemplateResponse(request, "planning/compare.html", context)


@login_required
@require_POST
def plan_publish(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request, Cap.PLAN_PUBLISH)
    plan = _plan(crisis, pk)
    try:
        services.plan_publish_start(actor=user, plan=plan)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(
            request,
            _("Plan %(n)d is being published: its bookings and stays are being made.")
            % {"n": plan.number},
        )
    return redirect("plan_detail", plan.pk)


@login_required
@require_POST
def plan_discard(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    plan = _plan(crisis, pk)
    try:
        services.plan_discard(actor=user, plan=plan)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("plan_detail", plan.pk)


@login_required
@require_POST
def plan_lock(request: HttpRequest, pk: int, household: int) -> HttpResponse:
    user, crisis = _current(request)
    plan = _plan(crisis, pk)
    found = Household.objects.filter(crisis=crisis, pk=household).first()
    if found is None:
        raise Http404
    try:
        if request.POST.get("action") == "unlock":
            services.household_unlock(actor=user, household=found)
            messages.success(request, _("Household %(h)s unlocked.") % {"h": found})
        else:
            services.household_lock(actor=user, plan=plan, household=found)
            messages.success(
                request,
                _("Household %(h)s keeps this itinerary in the next plans.") % {"h": found},
            )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    back = request.POST.get("next", "")
    if back.startswith("/planning/"):
        return redirect(back)
    return redirect("plan_detail", plan.pk)


def _lock_steps(locks: list[PlanLock]) -> dict[int, list[str]]:
    """The locked steps of each lock in brief (legs, bus-pool trips, crossings)."""
    refs: dict[str, set[int]] = defaultdict(set)
    for lock in locks:
        for step in lock.steps:
            for key, prefix in (("leg", "leg"), ("pool", "pool"), ("place", "p")):
                pk = inputs.pk_of(str(step.get(key, "")), prefix)
                if pk is not None:
                    refs[key].add(pk)
    legs = Leg.objects.filter(pk__in=refs["leg"]).select_related("origin", "destination")
    pools = BusPool.objects.filter(pk__in=refs["pool"]).select_related("origin", "destination")
    found: dict[str, Any] = {f"leg{x.pk}": x for x in legs}
    found.update({f"pool{x.pk}": x for x in pools})
    found.update({f"p{x.pk}": x.name for x in Place.objects.filter(pk__in=refs["place"])})
    out: dict[int, list[str]] = {}
    for lock in locks:
        texts = []
        for step in lock.steps:
            kind = step.get("type")
            if kind == "leg":
                texts.append(str(found.get(step["leg"], step["leg"])))
            elif kind == "pool":
                texts.append(
                    _("bus pool %(pool)s at %(at)s")
                    % {
                        "pool": found.get(step["pool"], step["pool"]),
                        "at": str(step.get("departure", ""))[:16].replace("T", " "),
                    }
                )
            elif kind == "crossing":
                texts.append(
                    _("crosses at %(place)s %(at)s")
                    % {
                        "place": found.get(step["place"], step["place"]),
                        "at": str(step.get("at", ""))[:16].replace("T", " "),
                    }
                )
            else:
                texts.append(str(kind))
        out[lock.pk] = texts
    return out


@login_required
def lock_list(request: HttpRequest) -> HttpResponse:
    """The crisis's locked households: what each keeps, who locked it and when; unlock."""
    user, crisis = _current(request)
    locks = (
        PlanLock.objects.filter(crisis=crisis)
        .select_related("household__contact", "locked_by", "plan")
        .order_by("-locked_at", "pk")
    )
    page = Paginator(locks, 50).get_page(request.GET.get("page"))
    steps = _lock_steps(list(page))
    # The members who travel, as a plan counts a household's size.
    travelling = services.leaving_members([lock.household_id for lock in page])
    for lock in page:
        lock.size = len(travelling.get(lock.household_id, []))  # type: ignore[attr-defined]
    audit_read(
        actor=user,
        verb="plan_locks_view",
        object_type="planning.planlock",
        crisis=crisis,
        details={"households": [lock.household_id for lock in page]},
    )
    return TemplateResponse(
        request,
        "planning/lock_list.html",
        {
            "crisis": crisis,
            "page": page,
            "rows": [(lock, steps.get(lock.pk, [])) for lock in page],
        },
    )


@login_required
@require_POST
def lock_unlock(request: HttpRequest, household: int) -> HttpResponse:
    """Unlock a household from the locks page (as the plan page's Unlock does)."""
    user, crisis = _current(request)
    found = Household.objects.filter(crisis=crisis, pk=household).first()
    if found is None:
        raise Http404
    try:
        services.household_unlock(actor=user, household=found)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Household %(h)s unlocked.") % {"h": found})
    return redirect("lock_list")


def _pool_page(
    request: HttpRequest, crisis: Crisis, form: BusPoolForm, template: str, **extra: Any
) -> HttpResponse:
    return TemplateResponse(
        request,
        template,
        {
            "crisis": crisis,
            "form": form,
            "places": services.pool_places(crisis)
            .select_related("country")
            .order_by("kind", "name")[:2000],
            **extra,
        },
    )


@login_required
def pool_list(request: HttpRequest) -> HttpResponse:
    user, crisis = _current(request)
    form = BusPoolForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("delete"):
            services.pool_delete(actor=user, pool=_pool(crisis, request.POST["delete"]))
            messages.success(request, _("Bus pool deleted."))
            return redirect("pool_list")
        if form.is_valid():
            try:
                services.pool_create(actor=user, crisis=crisis, data=form.service_data())
            except ApplicationError as exc:
                form.service_errors(exc)
            else:
                messages.success(request, _("Bus pool added: the next plan uses it."))
                return redirect("pool_list")
    return _pool_page(
        request,
        crisis,
        form,
        "planning/pool_list.html",
        pools=BusPool.objects.filter(crisis=crisis).select_related(
            "origin__country", "destination__country"
        ),
    )


@login_required
def pool_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """One bus pool, its fields to change; the trips published plans made into legs stay
    legs (said on the page)."""
    user, crisis = _current(request)
    pool = _pool(crisis, str(pk))
    form = BusPoolForm(request.POST or None, initial=BusPoolForm.initial_of(pool))
    if request.method == "POST" and form.is_valid():
        try:
            services.pool_update(actor=user, pool=pool, data=form.service_data())
        except ApplicationError as exc:
            form.service_errors(exc)
        else:
            messages.success(request, _("Bus pool saved: the next plan uses it."))
            return redirect("pool_list")
    return _pool_page(
        request,
        crisis,
        form,
        "planning/pool_edit.html",
        pool=pool,
        legs=trips.legs_of_pool(pool),
    )


def _pool(crisis: Crisis, ref: str) -> BusPool:
    """The crisis's pool by its number as typed; anything else (another crisis's): 404."""
    ref = ref.strip()
    if not ref.isdigit() or len(ref) > 18:
        raise Http404
    pool = (
        BusPool.objects.filter(crisis=crisis, pk=int(ref))
        .select_related("crisis", "origin", "destination")
        .first()
    )
    if pool is None:
        raise Http404
    return pool


@login_required
def planning_policy(request: HttpRequest) -> HttpResponse:
    """The crisis's planning policy: the stability reward and the firm hours (crisis
    managers change it; planners read it)."""
    user, crisis = _current(request)
    # Trading promises against priority is the crisis manager's call, as the priority
    # policy is.
    can_change = user.has_cap(Cap.CRISIS_MANAGE)
    policy = services.planning_policy(crisis)
    initial = {
        name: getattr(policy, name)
        for name in ("stability_reward", "firm_hours", *services.MINUTE_FIELDS)
    }
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST":
        access.require(user, Cap.CRISIS_MANAGE)
        if form.is_valid():
            try:
                services.planning_policy_set(actor=user, crisis=crisis, **form.cleaned_data)
            except ApplicationError as exc:
                service_errors(form, exc)
            else:
                messages.success(request, _("Planning policy saved: the next plan uses it."))
                return redirect("planning_policy")
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    priority = PriorityPolicy.objects.filter(crisis=crisis).first()
    return TemplateResponse(
        request,
        "planning/policy.html",
        {
            "crisis": crisis,
            "form": form,
            "can_change": can_change,
            "policy": policy,
            "priority_mode": priority.get_mode_display() if priority else None,
        },
    )
