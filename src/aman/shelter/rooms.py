"""Choosing rooms for households: plain data in, plain data out (no database here).

For one household and one hotel, `pack` finds the rooms that house everyone with the fewest
rooms, then the fewest empty beds, then the lowest cost (a small bounded knapsack over the
hotel's free rooms by block). `suggest` goes through households highest priority first and
gives each the hotel that houses it nearest to where it goes next (its next leg's departure
point, or a place the officer names: within 25 km counts as equally near), then with the
fewest rooms, the fewest empty beds and the lowest cost — all members in one hotel. A
household no hotel can take whole is listed with the reason.

Infants (under `INFANT_AGE`) share a bed and need none of their own; everyone else needs a
bed. Rooms are filled so that each room has an adult where the household has enough of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

# Hotels within this distance of each other count as equally near.
NEAR_KM = 25.0


@dataclass(frozen=True)
class Guest:
    person_id: int
    adult: bool
    infant: bool = False


@dataclass
class HouseholdNeed:
    key: int  # household id (or a negative person id for someone without a household)
    guests: list[Guest]
    priority: int = 0
    # Where the household goes next (its next leg's departure point), as (lat, lon).
    next_point: tuple[float, float] | None = None

    @property
    def beds(self) -> int:
        return max(1, sum(1 for g in self.guests if not g.infant))


@dataclass
class BlockSupply:
    block_id: int
    hotel_id: int
    beds: int
    free: int  # rooms free for every night asked for
    rate: Decimal = Decimal(0)


@dataclass
class HotelSupply:
    hotel_id: int
    point: tuple[float, float] | None
    blocks: list[BlockSupply] = field(default_factory=list)


@dataclass
class RoomChoice:
    block_id: int
    beds: int
    guests: list[int]  # person ids


@dataclass
class Suggestion:
    key: int
    hotel_id: int | None
    rooms: list[RoomChoice]
    distance_km: float | None = None
    reason: str = ""  # why there is no hotel (when hotel_id is None)


def distance_km(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float | None:
    """Great-circle distance (haversine)."""
    if a is None or b is None:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


def pack(need: int, blocks: list[BlockSupply]) -> list[BlockSupply] | None:
    """The rooms (one BlockSupply per room, repeated) housing `need` beds: fewest rooms,
    then fewest empty beds, then lowest cost; None when the blocks cannot."""
    # best[b] = (rooms, cost, picks) for exactly b beds (b up to need + the largest room).
    top = need + max((blk.beds for blk in blocks if blk.free > 0), default=0)
    Best = tuple[int, Decimal, tuple[int, ...]]
    best: dict[int, Best] = {0: (0, Decimal(0), ())}
    for index, blk in enumerate(blocks):
        if blk.free <= 0 or blk.beds <= 0:
            continue
        # Bounded: at most as many rooms as are free, and no more than the need calls for.
        limit = min(blk.free, math.ceil(need / blk.beds))
        for _ in range(limit):
            for beds, (rooms, cost, picks) in sorted(best.items(), reverse=True):
                total = beds + blk.beds
                if total > top or beds >= need:
                    continue
                candidate = (rooms + 1, cost + blk.rate, (*picks, index))
                if total not in best or candidate[:2] < best[total][:2]:
                    best[total] = candidate
    options = [(v[0], b - need, v[1], v[2]) for b, v in best.items() if b >= need]
    if not options:
        return None
    options.sort(key=lambda o: (o[0], o[1], o[2]))
    picks = options[0][3]
    return sorted((blocks[i] for i in picks), key=lambda b: -b.beds)


def seat_guests(guests: list[Guest], rooms: list[BlockSupply]) -> list[RoomChoice]:
    """Guests into the chosen rooms (largest first): an adult in each room first, where
    there are enough adults, then the others in order; infants with the first room's
    adults."""
    choices = [RoomChoice(block_id=r.block_id, beds=r.beds, guests=[]) for r in rooms]
    adults = [g for g in guests if g.adult and not g.infant]
    others = [g for g in guests if not g.adult and not g.infant]
    infants = [g for g in guests if g.infant]
    free = [r.beds for r in rooms]
    for room, adult in zip(choices, adults, strict=False):
        room.guests.append(adult.person_id)
    for i in range(min(len(adults), len(choices))):
        free[i] -= 1
    rest = adults[len(choices) :] + others
    for guest in rest:
        i = next((k for k, f in enumerate(free) if f > 0), 0)
        choices[i].guests.append(guest.person_id)
        free[i] -= 1
    for infant in infants:
        choices[0].guests.append(infant.person_id)
    return choices


def suggest(
    households: list[HouseholdNeed],
    hotels: list[HotelSupply],
    *,
    near: tuple[float, float] | None = None,
) -> list[Suggestion]:
    """Rooms for each household, highest priority first; the supply shrinks as rooms are
    given. `near` (a place the officer names) overrides each household's next point."""
    out: list[Suggestion] = []
    order = sorted(households, key=lambda h: (-h.priority, h.key))
    # pack() answers depend only on the beds needed and a hotel's free rooms: kept until
    # that hotel's supply changes (most households need 1–4 beds).
    packed: dict[tuple[int, int], list[BlockSupply] | None] = {}
    for household in order:
        point = near or household.next_point
        best: tuple[tuple[float, int, int, Decimal], HotelSupply, list[BlockSupply]] | None = None
        ranked = []
        for hotel in hotels:
            km = distance_km(point, hotel.point)
            ranked.append((math.floor(km / NEAR_KM) if km is not None else math.inf, hotel))
        ranked.sort(key=lambda item: item[0])
        for bucket, hotel in ranked:
            if best is not None and bucket > best[0][0]:
                break  # every hotel left is farther than one that fits
            memo = (household.beds, hotel.hotel_id)
            if memo not in packed:
                packed[memo] = pack(household.beds, hotel.blocks)
            rooms = packed[memo]
            if rooms is None:
                continue
            waste = sum(r.beds for r in rooms) - household.beds
            key = (bucket, len(rooms), waste, sum((r.rate for r in rooms), Decimal(0)))
            if best is None or key < best[0]:
                best = (key, hotel, rooms)
        if best is None:
            out.append(
                Suggestion(
                    key=household.key,
                    hotel_id=None,
                    rooms=[],
                    reason="no_rooms",
                )
            )
            continue
        _, hotel, rooms = best
        for room in rooms:
            room.free -= 1
        # This hotel's free rooms changed: its packings are computed again when asked.
        for memo in [m for m in packed if m[1] == hotel.hotel_id]:
            del packed[memo]
        out.append(
            Suggestion(
                key=household.key,
                hotel_id=hotel.hotel_id,
                rooms=seat_guests(household.guests, rooms),
                distance_km=distance_km(point, hotel.point),
            )
        )
    return out
