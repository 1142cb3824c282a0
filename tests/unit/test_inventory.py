"""Channel-inventory arithmetic, counts and variances, positions, and serialization."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from projections.inventory import (
    InventoryState,
    Move,
    Reconciliation,
    apply_count,
    apply_movement,
    inventory_key,
    sold_between,
)
from projections.movements import moved_after, record_moves
from projections.positions import Position
from projections.stores import ChannelStores

T0 = datetime(2026, 7, 6, 12, tzinfo=UTC)  # Monday noon
COUNT_AT = datetime(2026, 7, 7, 12, tzinfo=UTC)  # Tuesday noon
H = timedelta(hours=1)
D = timedelta(days=1)


def fresh() -> InventoryState:
    return InventoryState("D01", "SKU-1")


#: The stores the channel projection keeps beside the state: each timestamped movement,
#: the day totals (reset before each test).
STORES = ChannelStores()
KEY = inventory_key("D01", "SKU-1")


@pytest.fixture(autouse=True)
def _fresh_stores() -> None:
    global STORES
    STORES = ChannelStores()


def move(
    state: InventoryState,
    at: datetime,
    sell_in: int,
    sell_through: int,
    position: Position | None = None,
) -> InventoryState:
    """A movement through the projection's own path, starting from `state`."""
    number = sum(1 for _ in STORES.moves.scan())
    entry = Move(
        at.isoformat(), sell_in, sell_through, "10.00", "USD", f"e{number}", at.isoformat()
    )
    STORES.inventory.put(KEY, state)
    record_moves(STORES, state.distributor_id, ((state.sku, at, entry),), position)
    moved_state = STORES.inventory.get(KEY)
    assert moved_state is not None
    return moved_state


def moved(*moves: tuple[datetime, int, int]) -> InventoryState:
    state = fresh()
    for at, sell_in, sell_through in moves:
        state = move(state, at, sell_in, sell_through)
    return state


def counted(
    state: InventoryState, at: datetime, on_hand: int, position: Position | None = None
) -> tuple[InventoryState, Reconciliation]:
    after = moved_after(STORES, state.distributor_id, state.sku, at)
    new_state, fact = apply_count(state, at, on_hand, after, position)
    assert fact is not None
    STORES.inventory.put(KEY, new_state)
    return new_state, fact


def test_empty_state() -> None:
    state = fresh()
    assert (state.sell_in, state.sell_through, state.expected_on_hand) == (0, 0, 0)
    assert state.latest is None and state.counted_at is None


def test_sell_in_sell_through_and_returns() -> None:
    state = moved(
        (T0, 100, 0),  # shipment
        (T0 + H, 0, 30),  # sale
        (T0 + 2 * H, 0, -5),  # return from a reseller
        (T0 + 3 * H, -10, 0),  # return to vendor
        (T0 + D, 0, 7),  # next day's sale
    )
    assert state.sell_in == 90
    assert state.sell_through == 32
    assert state.expected_on_hand == 58
    assert state.recent == {"2026-07-06": [90, 25], "2026-07-07": [0, 7]}
    assert state.latest == T0 + D
    assert state.late_after_count == 0


def test_apply_movement_is_pure() -> None:
    before = moved((T0, 10, 0))
    snapshot = before.to_json()
    after = apply_movement(before, T0 + H, 0, 4)
    assert before.to_json() == snapshot
    assert before.expected_on_hand == 10
    assert after.expected_on_hand == 6


def test_sold_between_is_half_open_by_day() -> None:
    state = moved((T0, 0, 1), (T0 + D, 0, 2), (T0 + 2 * D, 0, 4))
    assert sold_between(state, T0.date(), (T0 + 2 * D).date()) == 3
    assert sold_between(state, (T0 + D).date(), (T0 + 3 * D).date()) == 6
    assert sold_between(state, (T0 - D).date(), T0.date()) == 0
    # before the recent days the state keeps: it cannot say (the day totals can)
    assert sold_between(state, (T0 - 40 * D).date(), T0.date()) is None


def test_the_state_keeps_only_recent_days() -> None:
    state = moved((T0, 0, 1), (T0 + 40 * D, 0, 2), (T0 + 41 * D, 0, 4))
    assert sorted(state.recent) == ["2026-08-15", "2026-08-16"]
    assert state.sell_through == 7  # totals keep everything
    assert STORES.day_totals.get("D01|SKU-1|2026-07-06") is not None


def test_count_without_history_sets_expected_to_the_count() -> None:
    state, fact = counted(fresh(), COUNT_AT, 12)
    assert fact == Reconciliation("D01", "SKU-1", COUNT_AT, 12, 0, 12, False)
    assert state.expected_on_hand == 12
    assert (state.count_on_hand, state.counted_at, state.last_variance) == (12, COUNT_AT, 12)


def test_variance_as_of_counted_at_with_events_dated_after_it_that_arrived_first() -> None:
    state = moved(
        (T0, 100, 0),
        (T0 + H, 0, 30),  # before the count: expected as of the count = 70
        (COUNT_AT + 2 * H, 0, 10),  # same day, after the count (exact window)
        (COUNT_AT + 2 * D, 0, 7),  # later day (day buckets)
        (COUNT_AT, 0, 1),  # exactly at the count: the count holds it
    )
    assert state.expected_on_hand == 52
    state, fact = counted(state, COUNT_AT, 65)
    assert (fact.expected, fact.variance, fact.stale) == (69, -4, False)
    # the count, minus what was sold after it
    assert state.expected_on_hand == 65 - 10 - 7
    assert (state.after_in, state.after_through) == (0, 17)
    # totals are history: unaffected by the count
    assert (state.sell_in, state.sell_through) == (100, 48)


def test_movement_after_the_count_moves_expected() -> None:
    state, _ = counted(moved((T0, 50, 0)), COUNT_AT, 48)
    state = move(state, COUNT_AT + H, 0, 5)
    state = move(state, COUNT_AT + D, 20, 0)
    assert state.expected_on_hand == 48 - 5 + 20
    assert state.late_after_count == 0
    assert (state.sell_in, state.sell_through) == (70, 5)


def test_late_event_dated_before_the_count_is_flagged_and_leaves_expected_alone() -> None:
    state, _ = counted(moved((T0, 50, 0)), COUNT_AT, 48)
    late = move(state, COUNT_AT - 3 * H, 20, 0)
    assert late.expected_on_hand == 48
    assert late.late_after_count == 1
    assert late.sell_in == 70
    assert late.recent["2026-07-07"] == [20, 0]
    at_count = move(late, COUNT_AT, 0, 4)  # business time == counted_at: held
    assert at_count.expected_on_hand == 48
    assert at_count.late_after_count == 2
    assert at_count.sell_through == 4


def test_second_count_rebases_on_the_first() -> None:
    state, _ = counted(moved((T0, 100, 0)), COUNT_AT, 95)
    state = move(state, COUNT_AT + H, 0, 10)
    state = move(state, COUNT_AT + D + 2 * H, 0, 3)  # after the second count
    second = COUNT_AT + D
    state, fact = counted(state, second, 80)
    # expected as of the second count = 95 - 10 = 85
    assert (fact.expected, fact.variance) == (85, -5)
    assert state.expected_on_hand == 77
    assert state.counted_at == second
    assert state.last_variance == -5


def test_stale_count_is_history_only() -> None:
    state = moved((T0, 100, 0), (T0 + H, 0, 30), (COUNT_AT + H, 0, 10))
    state, _ = counted(state, COUNT_AT, 69)  # expected 70, variance -1
    assert state.expected_on_hand == 59
    older = datetime(2026, 7, 6, 23, tzinfo=UTC)
    after, fact = counted(state, older, 68)
    # as of Monday 23:00: 100 in, 30 out
    assert fact == Reconciliation("D01", "SKU-1", older, 68, 70, -2, True)
    assert after.counted_at == COUNT_AT
    assert after.count_on_hand == 69
    assert after.last_variance == -1
    assert after.expected_on_hand == 59


def test_position_at_or_below_the_applied_offset_is_skipped() -> None:
    source = "channelflow.sales:3"
    state = apply_movement(fresh(), T0, 0, 2, Position(source, 10))
    assert state.applied == {source: 10}
    assert apply_movement(state, T0, 0, 2, Position(source, 10)) is state
    assert apply_movement(state, T0, 0, 2, Position(source, 9)) is state
    later = apply_movement(state, T0, 0, 2, Position(source, 11))
    assert later.sell_through == 4
    assert later.applied == {source: 11}


def test_positions_of_different_sources_are_tracked_separately() -> None:
    state = apply_movement(fresh(), T0, 0, 2, Position("channelflow.sales:0", 10))
    state = apply_movement(state, T0, 30, 0, Position("channelflow.shipments:0", 1))
    assert state.applied == {"channelflow.sales:0": 10, "channelflow.shipments:0": 1}
    assert (state.sell_in, state.sell_through) == (30, 2)
    at = Position("channelflow.inventory:0", 0)
    state, fact = apply_count(state, COUNT_AT, 27, (0, 0), at)
    assert fact is not None and fact.variance == -1
    assert apply_count(state, COUNT_AT, 27, (0, 0), at) == (state, None)
    assert len(state.applied) == 3


def test_inputs_without_position_are_always_applied() -> None:
    state = apply_movement(fresh(), T0, 5, 0)
    state = apply_movement(state, T0, 5, 0)
    assert state.sell_in == 10
    assert state.applied == {}


def _rich_state() -> InventoryState:
    state = moved((T0, 100, 0), (T0 + H, 0, 30), (COUNT_AT + H, 0, 10), (COUNT_AT + D, 0, 2))
    state, _ = counted(state, COUNT_AT, 69, Position("inv:0", 4))
    state = move(state, COUNT_AT - H, 0, 1, Position("sales:1", 7))  # late
    return state


@pytest.mark.parametrize("build", [fresh, _rich_state], ids=["empty", "rich"])
def test_json_round_trip(build: object) -> None:
    state = build()  # type: ignore[operator]
    assert InventoryState.from_json(state.to_json()) == state
    through_bytes = InventoryState.from_json(orjson.loads(orjson.dumps(state.to_json())))
    assert through_bytes == state
    assert through_bytes.to_json() == state.to_json()
    assert through_bytes.expected_on_hand == state.expected_on_hand


def test_round_tripped_state_keeps_working_the_same() -> None:
    state = _rich_state()
    restored = InventoryState.from_json(orjson.loads(orjson.dumps(state.to_json())))
    assert restored.late_after_count == 1
    assert restored.expected_on_hand == 69 - 10 - 2
    step = (COUNT_AT + 2 * D, 0, 3, Position("sales:1", 8))
    assert apply_movement(restored, *step) == apply_movement(state, *step)
    later = COUNT_AT + 4 * D
    assert apply_count(restored, later, 50, (0, 0)) == apply_count(state, later, 50, (0, 0))
    assert apply_movement(restored, T0, 1, 0, Position("sales:1", 7)) is restored


def _count_then_sales(count_first: bool) -> tuple[Reconciliation, InventoryState]:
    counted_at = datetime(2026, 7, 12, 23, tzinfo=UTC)  # Sunday 23:00
    state = move(fresh(), datetime(2026, 7, 6, 14, tzinfo=UTC), 100, 0)
    sales = [
        (counted_at + timedelta(minutes=30), 0, 5),  # dated after the count
        (datetime(2026, 7, 15, 12, tzinfo=UTC), 0, 1),  # > 48 h later
    ]
    fact = None
    if count_first:
        state, fact = counted(state, counted_at, 100)
    for sale in sales:
        state = move(state, *sale)
    if not count_first:
        state, fact = counted(state, counted_at, 100)
    assert fact is not None
    return fact, state


def test_count_processed_first_reconciles_as_of_its_time() -> None:
    fact, state = _count_then_sales(count_first=True)
    assert (fact.expected, fact.variance) == (100, 0)
    assert state.expected_on_hand == 94


def test_count_arriving_after_later_sales_reconciles_the_same() -> None:
    fact, state = _count_then_sales(count_first=False)
    assert (fact.expected, fact.variance) == (100, 0)
    assert state.expected_on_hand == 94


def test_moves_are_kept_in_time_order_and_round_trip_through_json_bytes() -> None:
    moved((T0 + H, 0, 2), (T0, 5, 0))
    kept = [m for _, m in STORES.moves.scan("D01|SKU-1|2026-07-06|")]
    assert [m.at for m in kept] == [T0.isoformat(), (T0 + H).isoformat()]
    for m in kept:
        assert Move.from_json(orjson.loads(orjson.dumps(m.to_json()))) == m
