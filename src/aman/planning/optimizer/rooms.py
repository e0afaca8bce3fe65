"""What a household takes in a hotel whose free rooms are known, by room size.

Publishing a plan books each household's hotel nights in rooms of its own (households
never share a room) by the shelter's rule (`aman.shelter.rooms.pack`): for a stay — a run
of nights in one hotel — the rooms free every night of it that hold everyone who needs a
bed with the fewest rooms, then the fewest empty beds, then the lowest cost. Which rooms
those are depends on what is still free when the household's turn comes, and publishing
takes the households in an order of its own. So a household is charged, per room size, the
most rooms of that size that any of its best packings on the rooms the scenario gives free
(the stay's `supply`) uses (`charge`); a plan that on every night charges no more rooms of
a size than are free can be published in any order: at each household's turn every other
household has taken no more than it was charged, so one of its best packings is still
free; on fewer rooms free no packing is better, so publishing takes one of them — no more
than charged. (With one room size, as a block of doubles, the charge is exactly what it
takes: a household of three in doubles takes two rooms, four beds.)

Plain data: a supply maps beds per room to rooms free (`{2: 10, 4: 2}`).
"""

from __future__ import annotations

from functools import lru_cache

Supply = dict[int, int]  # beds per room -> rooms free


def _key(supply: Supply) -> tuple[tuple[int, int], ...]:
    return tuple(sorted((b, n) for b, n in supply.items() if b > 0 and n > 0))


def _fewest(need: int, rooms: tuple[tuple[int, int], ...]) -> list[int | None]:
    """Per total of beds t (up to need + the largest room - 1), the fewest rooms of the
    supply whose beds add up to exactly t (None: no rooms do). A household never takes
    more rooms of a size than it would fill alone."""
    top = need + max(b for b, _ in rooms)
    fewest: list[int | None] = [None] * top
    fewest[0] = 0
    for b, n in rooms:
        for _ in range(min(n, -(-need // b))):
            # One more room of this size, from every total reached before (downwards, so
            # that a total reached now is not extended again in this pass).
            for t in range(top - 1 - b, -1, -1):
                k = fewest[t]
                if k is not None and t < need:
                    cand = fewest[t + b]
                    if cand is None or k + 1 < cand:
                        fewest[t + b] = k + 1
    return fewest


@lru_cache(maxsize=65536)
def _charge(need: int, rooms: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...] | None:
    if not rooms:
        return None
    fewest = _fewest(need, rooms)
    best: tuple[int, int] | None = None  # (rooms, beds)
    for t in range(need, len(fewest)):
        k = fewest[t]
        if k is not None and (best is None or k < best[0]):
            best = (k, t)
    if best is None:
        return None
    k_best, t_best = best
    # Every packing with that many rooms and beds (ties the cost decides, which may turn
    # either way as rooms are taken): the most rooms of each size any of them uses.
    most: dict[int, int] = {}
    sizes = sorted(rooms, reverse=True)

    def walk(i: int, rooms_left: int, beds_left: int, used: list[tuple[int, int]]) -> None:
        if rooms_left == 0:
            if beds_left == 0:
                for b, n in used:
                    most[b] = max(most.get(b, 0), n)
            return
        if i == len(sizes) or beds_left <= 0:
            return
        b, n = sizes[i]
        if b * rooms_left < beds_left:  # the largest size left cannot reach the beds
            return
        for m in range(min(n, rooms_left, beds_left // b), -1, -1):
            walk(i + 1, rooms_left - m, beds_left - m * b, [*used, (b, m)] if m else used)

    walk(0, k_best, t_best, [])
    return tuple(sorted((b, n) for b, n in most.items() if n > 0))


def charge(need: int, supply: Supply) -> Supply | None:
    """The rooms a household of `need` beds is charged in a stay whose free rooms are
    `supply`: per room size, the most rooms of it that one of its best packings uses
    (fewest rooms, then fewest empty beds); None when the rooms cannot hold it."""
    found = _charge(max(1, need), _key(supply))
    return None if found is None else dict(found)


def beds_of(rooms: Supply) -> int:
    return sum(b * n for b, n in rooms.items())


@lru_cache(maxsize=65536)
def _smallest(need: int, rooms: tuple[tuple[int, int], ...]) -> int | None:
    if not rooms:
        return None
    fewest = _fewest(need, rooms)
    return next((t for t in range(need, len(fewest)) if fewest[t] is not None), None)


def smallest(need: int, supply: Supply) -> int | None:
    """The fewest beds, at least `need`, that rooms of the supply add up to (a lower bound
    of the beds any packing takes: the LP charges no more than this); None when the rooms
    cannot hold `need`."""
    return _smallest(max(1, need), _key(supply))


def stay_supply(nights: list[Supply]) -> Supply:
    """The rooms free for every night of a stay, per size: the fewest of them any night."""
    if not nights:
        return {}
    sizes = set(nights[0])
    for night in nights[1:]:
        sizes &= set(night)
    return {b: min(night[b] for night in nights) for b in sizes}
