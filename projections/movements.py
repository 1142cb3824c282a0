"""Writing movements to the stores that keep them.

A sale or a shipment is one move; a replacement report's reversal is many. One input's
moves of one (distributor, sku) update, each once and under the input's position: the
SKU's state (totals, recent days, cost-drop trackers), its aging state (receipts by
day), each move under its own key, the day totals, the distributor's week, month and
quarter buckets, the rebate buckets of its basis and quarter and of its basis and day,
and its entry in the list by recorded time.
Every write touches a bounded number of keys, whatever the history's length.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from domain.rebates import RebateTally
from projections.inventory import (
    InventoryState,
    Move,
    apply_movements,
    day_of,
    day_prefix,
    drop_trackers,
    inventory_key,
    move_key,
    movements_after,
)
from projections.inventory_aging import AgingState, Basis, apply_moves
from projections.keyvalue import KeyValue
from projections.positions import Position
from projections.rebate_buckets import (
    ALL_SKUS,
    MoveTallies,
    RebateBucket,
    add_tallies,
    bucket_key,
    quarter_of,
    recorded_key,
    recorded_move,
)
from projections.stores import ChannelStores
from projections.tallies import GRANULARITIES, InOut, add_to, period_bucket_key, period_key

#: (basis, quarter or day) -> currency -> tally
_Tallies = dict[tuple[str, str], dict[str, RebateTally]]


def record_moves(
    stores: ChannelStores,
    distributor_id: str,
    moves: Sequence[tuple[str, datetime, Move]],
    position: Position | None,
) -> None:
    """Apply one input's moves of one distributor, each as (sku, business time, move),
    to every store that keeps them.

    Every value is written once under the input's position: the distributor's own
    buckets (its weeks, months, quarters, its rebate buckets for all SKUs) add up every
    SKU's moves first, since a second write at the same position would be skipped.
    """
    by_sku: dict[str, list[tuple[datetime, Move]]] = defaultdict(list)
    for sku, at, move in moves:
        by_sku[sku].append((at, move))
    #: (basis, quarter) -> currency -> tally, over every SKU (the ALL_SKUS buckets)
    everything: dict[tuple[str, str], dict[str, RebateTally]] = defaultdict(dict)
    #: (basis, day) -> currency -> tally, over every SKU
    every_day: dict[tuple[str, str], dict[str, RebateTally]] = defaultdict(dict)
    days_of_all: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sku, dated in by_sku.items():
        days, tallies, day_tallies = _record_sku(stores, distributor_id, sku, dated, position)
        for day, (qty_in, qty_out) in days.items():
            days_of_all[day][0] += qty_in
            days_of_all[day][1] += qty_out
        for basis_quarter, per_currency in tallies.items():
            _add_tallies_to(everything[basis_quarter], per_currency)
        for basis_day, per_currency in day_tallies.items():
            _add_tallies_to(every_day[basis_day], per_currency)
    _add_periods(stores.periods, distributor_id, days_of_all, position)
    for (basis, quarter), per_currency in everything.items():
        key = bucket_key(distributor_id, basis, ALL_SKUS, quarter)
        _add_rebate(stores.rebate_buckets, key, per_currency, position)
    for (basis, day), per_currency in every_day.items():
        key = bucket_key(distributor_id, basis, ALL_SKUS, day)
        _add_rebate(stores.rebate_days, key, per_currency, position)


def _record_sku(
    stores: ChannelStores,
    distributor_id: str,
    sku: str,
    moves: Sequence[tuple[datetime, Move]],
    position: Position | None,
) -> tuple[dict[str, list[int]], _Tallies, _Tallies]:
    """One SKU's moves into its state, its moves, day totals and rebate buckets; returns
    its (day -> [in, out]), ((basis, quarter) -> currency -> tally) and ((basis, day) ->
    currency -> tally) for the distributor's own buckets."""
    key = inventory_key(distributor_id, sku)
    state = stores.inventory.get(key) or InventoryState(distributor_id, sku)
    trackers = drop_trackers(
        state,
        _drops_of(stores, distributor_id, sku),
        lambda at: moved_after(stores, distributor_id, sku, at),
    )
    dated = [(at, move.sell_in, move.sell_through) for at, move in moves]
    stores.inventory.put(key, apply_movements(state, dated, position, trackers))
    aging = stores.aging.get(key) or AgingState(distributor_id, sku)
    stores.aging.put(key, apply_moves(aging, _aging_moves(moves), position))
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    sums = MoveTallies()
    put_move, put_recorded = stores.moves.put, stores.recorded_moves.put
    for at, move in moves:
        put_move(move_key(distributor_id, sku, move), move)
        totals = days[day_of(at)]
        totals[0] += move.sell_in
        totals[1] += move.sell_through
        quarter = quarter_of(move.at)
        sums.add(move, quarter)
        where = recorded_key(distributor_id, move.basis, quarter, move.recorded, move.event_id)
        put_recorded(where, recorded_move(move, sku))
    for day, (qty_in, qty_out) in days.items():
        _add(stores.day_totals, f"{distributor_id}|{sku}|{day}", qty_in, qty_out, position)
    rebates = sums.tallies()
    for (basis, quarter), per_currency in rebates.items():
        where = bucket_key(distributor_id, basis, sku, quarter)
        _add_rebate(stores.rebate_buckets, where, per_currency, position)
    by_day = sums.day_tallies()
    for (basis, day), per_currency in by_day.items():
        where = bucket_key(distributor_id, basis, sku, day)
        _add_rebate(stores.rebate_days, where, per_currency, position)
    return days, rebates, by_day


def _aging_moves(moves: Sequence[tuple[datetime, Move]]) -> list[tuple[Basis, int, date]]:
    """The moves as inventory aging takes them: (basis, quantity, business day)."""
    aged: list[tuple[Basis, int, date]] = []
    for at, move in moves:
        if move.sell_in:
            aged.append(("sell_in", move.sell_in, at.date()))
        if move.sell_through:
            aged.append(("sell_through", move.sell_through, at.date()))
    return aged


def _add_tallies_to(into: dict[str, RebateTally], tallies: dict[str, RebateTally]) -> None:
    for currency, tally in tallies.items():
        known = into.get(currency)
        into[currency] = tally if known is None else known.plus(tally)


def _add_rebate(
    buckets: KeyValue[RebateBucket],
    where: str,
    tallies: dict[str, RebateTally],
    position: Position | None,
) -> None:
    """Add one input's tallies (per currency) to a bucket, under its position."""
    updated = add_tallies(buckets.get(where), tallies, position)
    if updated is not None:
        buckets.put(where, updated)


def _add(
    store: KeyValue[InOut], key: str, qty_in: int, qty_out: int, position: Position | None
) -> None:
    updated = add_to(store.get(key), qty_in, qty_out, position)
    if updated is not None:
        store.put(key, updated)


def _add_periods(
    periods: KeyValue[InOut],
    distributor_id: str,
    days: dict[str, list[int]],
    position: Position | None,
) -> None:
    for granularity in GRANULARITIES:
        summed: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for day, (qty_in, qty_out) in days.items():
            bucket = summed[period_key(date.fromisoformat(day), granularity)]
            bucket[0] += qty_in
            bucket[1] += qty_out
        for period, (qty_in, qty_out) in summed.items():
            where = period_bucket_key(distributor_id, granularity, period)
            _add(periods, where, qty_in, qty_out, position)


def _drops_of(stores: ChannelStores, distributor_id: str, sku: str) -> list[tuple[str, datetime]]:
    """The SKU's cost drops that can concern the distributor: (price event id, effective)."""
    history = stores.prices.get(sku)
    if history is None:
        return []
    return [
        (str(drop.event_id), drop.effective_from)
        for drop in history.drops
        if drop.distributor_id in (None, distributor_id)
    ]


def moved_after(
    stores: ChannelStores, distributor_id: str, sku: str, at: datetime
) -> tuple[int, int]:
    """(sell_in, sell_through) of the (distributor, sku) movements dated after `at`: the
    day totals after its day and its own day's later moves (a range read of the days
    since `at`, never of the whole history)."""
    day = day_of(at)
    prefix = f"{distributor_id}|{sku}|"
    later = (  # the day totals' keys after f"{prefix}{day}" are the days after it
        (bucket.sell_in, bucket.sell_through)
        for _, bucket in stores.day_totals.scan(prefix, start=f"{prefix}{day}|")
    )
    same_day = (move for _, move in stores.moves.scan(day_prefix(distributor_id, sku, day)))
    return movements_after(at, list(later), same_day)
