"""Room choice on plain data (aman.shelter.rooms has no database)."""

from decimal import Decimal

from aman.shelter.rooms import (
    BlockSupply,
    Guest,
    HotelSupply,
    HouseholdNeed,
    distance_km,
    pack,
    seat_guests,
    suggest,
)


def block(block_id: int, beds: int, free: int, rate: str = "50", hotel: int = 1) -> BlockSupply:
    return BlockSupply(block_id=block_id, hotel_id=hotel, beds=beds, free=free, rate=Decimal(rate))


def family(
    key: int, adults: int, children: int = 0, infants: int = 0, **kw: object
) -> HouseholdNeed:
    guests = [Guest(key * 100 + i, adult=True) for i in range(adults)]
    guests += [Guest(key * 100 + 50 + i, adult=False) for i in range(children)]
    guests += [Guest(key * 100 + 80 + i, adult=False, infant=True) for i in range(infants)]
    return HouseholdNeed(key=key, guests=guests, **kw)  # type: ignore[arg-type]


def test_fewest_rooms_then_fewest_empty_beds_then_cost() -> None:
    singles, doubles, family4 = block(1, 1, 10), block(2, 2, 10), block(3, 4, 10, rate="120")
    # Five people: a family room and a single (2 rooms, no empty bed) beats a family room
    # and a double (an empty bed) and three doubles (3 rooms).
    rooms = pack(5, [singles, doubles, family4])
    assert rooms is not None and sorted(r.beds for r in rooms) == [1, 4]
    rooms = pack(5, [doubles, family4])
    assert rooms is not None and sorted(r.beds for r in rooms) == [2, 4]
    # Two people: one double, not two singles, not a family room (2 empty beds).
    rooms = pack(2, [singles, doubles, family4])
    assert rooms is not None and [r.block_id for r in rooms] == [2]
    # Equal rooms and beds: the cheaper block.
    rooms = pack(2, [block(4, 2, 1, rate="90"), block(5, 2, 1, rate="60")])
    assert rooms is not None and [r.block_id for r in rooms] == [5]


def test_pack_respects_free_rooms_and_says_when_impossible() -> None:
    assert pack(5, [block(1, 2, 2)]) is None  # 2 doubles = 4 beds
    rooms = pack(5, [block(1, 2, 2), block(2, 1, 1)])
    assert rooms is not None and len(rooms) == 3
    assert pack(1, [block(1, 2, 0)]) is None


def test_infants_share_a_bed_and_every_room_gets_an_adult() -> None:
    need = family(1, adults=2, children=2, infants=1)
    assert need.beds == 4
    rooms = pack(need.beds, [block(1, 2, 5)])
    assert rooms is not None and len(rooms) == 2
    seated = seat_guests(need.guests, rooms)
    adults = {g.person_id for g in need.guests if g.adult}
    assert all(set(room.guests) & adults for room in seated)
    assert sorted(p for r in seated for p in r.guests) == sorted(g.person_id for g in need.guests)


def test_priority_first_whole_household_in_one_hotel_near_next_departure() -> None:
    baku = (40.40, 49.87)
    near = HotelSupply(1, (40.38, 49.85), [block(1, 4, 1, hotel=1)])
    far = HotelSupply(2, (41.0, 47.0), [block(2, 2, 1, hotel=2), block(3, 2, 1, hotel=2)])
    low = family(1, adults=4, priority=0, next_point=baku)
    high = family(2, adults=3, priority=5, next_point=baku)
    out = {s.key: s for s in suggest([low, high], [near, far])}
    # The priority household gets the near family room; the other one goes far, still whole.
    assert out[2].hotel_id == 1 and len(out[2].rooms) == 1
    assert out[1].hotel_id == 2 and len(out[1].rooms) == 2
    assert sum(len(r.guests) for r in out[1].rooms) == 4
    # Nothing left for a third household.
    third = suggest([family(3, adults=1)], [near, far])[0]
    assert third.hotel_id is None and third.reason == "no_rooms"


def test_distance() -> None:
    assert distance_km((40.4, 49.87), None) is None
    km = distance_km((40.4093, 49.8671), (41.3111, 69.2797))  # Baku → Tashkent
    assert km is not None and 1600 < km < 1700
