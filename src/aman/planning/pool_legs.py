"""The legs a published plan made of bus-pool trips, and what becomes of them when their
pool is changed or deleted (docs/planning.md, "Bus pools").

A pool trip that a published plan made into a leg has the source reference
`pool<id>@<departure in UTC>` (`pool_ref`). While the pool is as it was, the next plans
plan that trip again from the pool: the leg is enlarged when a plan needs more buses, and
cancelled when no plan uses it and nobody holds a seat on it.

Changing or deleting the pool does not touch those legs: buses were ordered for them and
people were told them — they are legs now (`keep`). Their reference becomes
`kept<leg id>x<buses>:pool<id>@<departure>`, so that:

- the next plans take them as legs, with their bookings, like any other leg;
- a household told the pool trip is told that leg (`PoolLegs.translate`), so keeping what
  it was told means keeping that leg — not a new bus at the same time;
- on the day of such a leg the pool runs only its buses not already in it
  (`PoolLegs.taken`): the pool's buses a day are the carrier's, the legs took some.

The pool only feeds the trips of future plans.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from aman.transport.models import HOLDS_SEAT, Booking, Leg, LegStatus

if TYPE_CHECKING:
    from aman.core.models import Crisis
    from aman.planning.models import BusPool

# A pool trip's leg, planned again from its pool.
POOL_LEG = r"^pool[0-9]+@"
# A pool trip's leg kept as a leg when its pool changed.
KEPT = re.compile(r"^kept(?P<leg>[0-9]+)x(?P<buses>[0-9]+):(?P<ref>pool(?P<pool>[0-9]+)@.+)$")
_EITHER = r"^(kept[0-9]+x[0-9]+:)?pool[0-9]+@"


def pool_ref(pool: str, departure: str) -> str:
    """The source reference of the leg a pool trip becomes (the same in every plan)."""
    return f"{pool}@{datetime.fromisoformat(departure).astimezone(UTC).isoformat()}"


def keep(*, pool: BusPool, seats: int | None = None) -> list[int]:
    """Make the legs already made of the pool's trips legs of their own (before the pool
    changes or goes); their ids. Each keeps in its reference the buses it took from the
    pool: its seats over the pool's seats per bus (`seats`: as they were before a change),
    as the plan that made it counted."""
    kept = []
    for leg in legs_of_pool(pool).select_for_update().only("pk", "source_ref", "capacity"):
        buses = max(1, math.ceil(leg.capacity / max(1, seats or pool.seats)))
        Leg.objects.filter(pk=leg.pk).update(source_ref=f"kept{leg.pk}x{buses}:{leg.source_ref}")
        kept.append(leg.pk)
    return kept


def legs_of_pool(pool: BusPool) -> QuerySet[Leg]:
    """The legs published plans made of the pool's trips that are still the pool's (not
    cancelled): those a change or deletion of the pool keeps as legs."""
    return (
        Leg.objects.filter(crisis_id=pool.crisis_id, source=Leg.Source.PLAN)
        .filter(source_ref__startswith=f"pool{pool.pk}@")
        .exclude(status=LegStatus.CANCELLED)
        .order_by("departure_planned", "pk")
    )


def legs_of_trip(crisis_id: int, ref: str) -> list[int]:
    """The legs a pool trip became: its leg planned from the pool, and legs kept from it."""
    return list(
        Leg.objects.filter(crisis_id=crisis_id, source=Leg.Source.PLAN)
        .filter(
            Q(source_ref=ref) | Q(source_ref__startswith="kept", source_ref__endswith=f":{ref}")
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@dataclass
class _Kept:
    leg: int
    pool: int
    buses: int
    departure: datetime


@dataclass
class PoolLegs:
    """The crisis's pool-trip legs still standing (not cancelled)."""

    linked: set[str] = field(default_factory=set)  # refs planned again from their pool
    kept: dict[str, list[_Kept]] = field(default_factory=dict)  # trip ref -> kept legs
    seats: dict[int, set[int]] = field(default_factory=dict)  # household -> kept legs

    def taken(self, pool: BusPool) -> dict[date, int]:
        """Per day of the pool's origin, its buses already in kept legs."""
        zone = pool.origin.zone
        out: dict[date, int] = defaultdict(int)
        for legs in self.kept.values():
            for x in legs:
                if x.pool == pool.pk:
                    out[x.departure.astimezone(zone).date()] += x.buses
        return dict(out)

    def translate(self, steps: list[dict[str, Any]], household: int) -> list[dict[str, Any]]:
        """`steps` with each pool trip kept as a leg told as that leg (the one the household
        holds a seat on; else, unless the trip is still the pool's, the latest kept)."""
        if not self.kept:
            return steps
        out = []
        for step in steps:
            if step.get("type") == "pool":
                ref = pool_ref(step["pool"], step["departure"])
                legs = [x.leg for x in self.kept.get(ref, [])]
                mine = [pk for pk in legs if pk in self.seats.get(household, set())]
                if mine or (legs and ref not in self.linked):
                    step = {k: v for k, v in step.items() if k != "pool"}
                    step.update(type="leg", kind="bus", leg=f"leg{(mine or legs)[-1]}")
            out.append(step)
        return out


def load(crisis: Crisis) -> PoolLegs:
    out = PoolLegs()
    for pk, ref, departure in (
        Leg.objects.filter(crisis=crisis, source=Leg.Source.PLAN, source_ref__regex=_EITHER)
        .exclude(status=LegStatus.CANCELLED)
        .order_by("pk")
        .values_list("pk", "source_ref", "departure_planned")
    ):
        found = KEPT.match(ref)
        if found is None:
            out.linked.add(ref)
            continue
        out.kept.setdefault(found["ref"], []).append(
            _Kept(pk, int(found["pool"]), int(found["buses"]), departure)
        )
    if out.kept:
        legs = [x.leg for xs in out.kept.values() for x in xs]
        for household, leg in Booking.objects.filter(
            leg_id__in=legs, status__in=HOLDS_SEAT, household__isnull=False
        ).values_list("household_id", "leg_id"):
            out.seats.setdefault(household, set()).add(leg)
    return out
