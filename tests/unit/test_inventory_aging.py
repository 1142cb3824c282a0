"""Inventory aging: FIFO lots, band crossings, returns, counts, the horizon, by hand; and
the properties (incremental equals from scratch, any arrival order, redelivery)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import orjson
from hypothesis import given
from hypothesis import strategies as st

from domain.aging import BAND_NAMES, Lot, aged_stock, band_of
from projections.inventory_aging import AgingState, Basis, aging_of, apply_move, held_lots
from projections.positions import Position

D = Decimal
MAR_1 = date(2026, 3, 1)
Move = tuple[Basis, int, date]


def state_of(*moves: Move) -> AgingState:
    state = AgingState("D1", "X")
    for basis, quantity, day in moves:
        state = apply_move(state, basis, quantity, day, None)
    return state


def bands(state: AgingState, today: date) -> dict[str, int]:
    aged = aging_of(state, today, None, None)
    return {name: units for name, units in aged.units.items() if units}


def test_a_lot_crosses_each_band_boundary() -> None:
    state = state_of(("sell_in", 100, MAR_1))
    assert bands(state, MAR_1 + timedelta(days=30)) == {"0-30": 100}
    assert bands(state, MAR_1 + timedelta(days=31)) == {"31-60": 100}
    assert bands(state, MAR_1 + timedelta(days=60)) == {"31-60": 100}
    assert bands(state, MAR_1 + timedelta(days=61)) == {"61-90": 100}
    assert bands(state, date(2026, 5, 30)) == {"61-90": 100}  # 90 days
    assert bands(state, date(2026, 5, 31)) == {">90": 100}  # 91 days


def test_first_in_first_out_leaves_the_newest_units() -> None:
    """100 on Mar 1, 50 on Apr 10, 120 sold: the 30 held are of Apr 10, 35 days old on May 15."""
    state = state_of(
        ("sell_in", 100, MAR_1),
        ("sell_in", 50, date(2026, 4, 10)),
        ("sell_through", 120, date(2026, 4, 20)),
    )
    assert held_lots(state) == (Lot(date(2026, 4, 10), 30),)
    aged = aging_of(state, date(2026, 5, 15), D("12.50"), "USD")
    assert aged.units == {"0-30": 0, "31-60": 30, "61-90": 0, ">90": 0}
    assert aged.values["31-60"] == D("375.00") and aged.values[">90"] == D("0.00")
    assert aging_of(state, date(2026, 5, 15), None, None).values["31-60"] is None


def test_a_sale_arriving_before_its_shipment_ages_the_same() -> None:
    later = state_of(
        ("sell_through", 120, date(2026, 4, 20)),
        ("sell_in", 50, date(2026, 4, 10)),
        ("sell_in", 100, MAR_1),
    )
    assert held_lots(later) == (Lot(date(2026, 4, 10), 30),)


def test_a_reseller_return_comes_back_on_its_day_and_a_vendor_return_takes_the_oldest() -> None:
    state = state_of(
        ("sell_in", 40, MAR_1),
        ("sell_in", 40, date(2026, 4, 1)),
        ("sell_through", -5, date(2026, 4, 20)),  # a reseller returned 5
        ("sell_in", -30, date(2026, 4, 25)),  # 30 sent back to the vendor
    )
    assert state.on_hand == 55
    assert held_lots(state) == (
        Lot(MAR_1, 10),
        Lot(date(2026, 4, 1), 40),
        Lot(date(2026, 4, 20), 5),
    )


def test_more_sold_than_received_holds_nothing() -> None:
    state = state_of(("sell_in", 100, MAR_1), ("sell_through", 120, MAR_1))
    assert state.on_hand == -20 and held_lots(state) == ()
    assert aging_of(state, MAR_1, D("1"), "USD").total_units == 0


def test_a_count_decides_how_many_units_are_held() -> None:
    state = state_of(("sell_in", 60, MAR_1), ("sell_in", 40, date(2026, 4, 1)))
    assert held_lots(state, on_hand=50) == (Lot(MAR_1, 10), Lot(date(2026, 4, 1), 40))
    above = aging_of(state, date(2026, 4, 2), None, None, on_hand=130)
    assert above.unknown_age == 30 and above.total_units == 130


def test_receipts_beyond_the_horizon_merge_into_one_old_lot() -> None:
    old, recent = date(2025, 1, 10), date(2026, 3, 1)  # 415 days apart
    state = state_of(
        ("sell_in", 10, old), ("sell_in", 5, date(2025, 3, 1)), ("sell_in", 20, recent)
    )
    assert state.older == 10 and [day for day, _ in state.receipts] == [date(2025, 3, 1), recent]
    assert held_lots(state) == (Lot(None, 10), Lot(date(2025, 3, 1), 5), Lot(recent, 20))
    assert bands(state, recent) == {">90": 15, "0-30": 20}
    assert band_of(None) == ">90"


def test_a_redelivered_move_changes_nothing() -> None:
    once = apply_move(AgingState("D1", "X"), "sell_in", 10, MAR_1, Position("shipments:1", 1024))
    assert apply_move(once, "sell_in", 10, MAR_1, Position("shipments:1", 1024)) is once
    assert AgingState.from_json(orjson.loads(orjson.dumps(once.to_json()))) == once


# --- properties ---------------------------------------------------------------------------

days = st.dates(date(2025, 1, 1), date(2026, 6, 30))
moves = st.lists(
    st.tuples(st.sampled_from(["sell_in", "sell_through"]), st.integers(-20, 60), days), max_size=25
)


def from_scratch(all_moves: list[Move], today: date) -> dict[str, int]:
    """Unit by unit: every unit received, oldest first; what went out takes the oldest."""
    received: list[date] = []
    out = 0
    for basis, quantity, day in all_moves:
        inbound = quantity > 0 if basis == "sell_in" else quantity < 0
        if inbound:
            received += [day] * abs(quantity)
        else:
            out += abs(quantity)
    received.sort()
    latest = received[-1] if received else today
    held = received[out:] if out < len(received) else []
    counts = dict.fromkeys(BAND_NAMES, 0)
    for day in held:
        beyond = day < latest - timedelta(days=365)
        counts[band_of(None if beyond else max((today - day).days, 0))] += 1
    return counts


@given(moves, days)
def test_incremental_aging_equals_aging_from_scratch(all_moves: list[Move], today: date) -> None:
    assert aging_of(state_of(*all_moves), today, None, None).units == from_scratch(all_moves, today)


@given(moves.flatmap(lambda drawn: st.tuples(st.just(drawn), st.permutations(drawn))))
def test_aging_does_not_depend_on_arrival_order(drawn: tuple[list[Move], list[Move]]) -> None:
    """Shipments and sales are on two topics whose interleaving differs between a worker
    and a replay (and within a day, between any two deliveries): the state is the same."""
    given_order, other_order = drawn
    assert state_of(*given_order) == state_of(*other_order)


@given(moves)
def test_a_replay_with_redeliveries_gives_the_same_state(all_moves: list[Move]) -> None:
    live = AgingState("D1", "X")
    replay = AgingState("D1", "X")
    for offset, (basis, quantity, day) in enumerate(all_moves):
        position = Position("sales:0", offset * 1024)
        live = apply_move(live, basis, quantity, day, position)
        live = apply_move(live, basis, quantity, day, position)  # redelivered
        replay = apply_move(replay, basis, quantity, day, position)
    assert live == replay


def test_aged_stock_of_lots() -> None:
    lots = [Lot(None, 3), Lot(date(2026, 5, 1), 2)]
    aged = aged_stock(lots, date(2026, 5, 10), D("2.005"), "USD")
    assert aged.units == {"0-30": 2, "31-60": 0, "61-90": 0, ">90": 3}
    assert aged.values["0-30"] == D("4.01") and aged.values[">90"] == D("6.02")
