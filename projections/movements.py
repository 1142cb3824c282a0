"""Writing movements to the stores that keep them: the per-SKU state and its day history.

A sale or a shipment is one move; a replacement report's reversal is many. Every move
one input causes on a state value is applied in one step under that input's position:
applied one by one, the position check would skip all but the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from projections.inventory import (
    DayDetail,
    InventoryState,
    Move,
    apply_movements,
    day_of,
    inventory_key,
    record_intraday_moves,
)
from projections.positions import Position
from projections.pricing import day_detail_key
from projections.stores import ChannelStores


def record_moves(
    stores: ChannelStores,
    distributor_id: str,
    sku: str,
    moves: Sequence[tuple[datetime, Move]],
    position: Position | None,
) -> None:
    """Apply one input's moves of one (distributor, sku), each with its business time
    (`Move.at` parsed), to the SKU's state and its day history."""
    key = inventory_key(distributor_id, sku)
    state = stores.inventory.get(key) or InventoryState(distributor_id, sku)
    dated = [(at, move.sell_in, move.sell_through) for at, move in moves]
    stores.inventory.put(key, apply_movements(state, dated, position))
    if len(moves) == 1:  # a sale or a shipment: one day, no grouping
        at, move = moves[0]
        days: Iterable[tuple[str, list[Move]]] = ((day_of(at), [move]),)
    else:
        by_day: dict[str, list[Move]] = {}
        for at, move in moves:
            by_day.setdefault(day_of(at), []).append(move)
        days = by_day.items()
    for day, day_moves in days:
        day_key = day_detail_key(distributor_id, sku, day)
        detail = stores.inventory_days.get(day_key) or DayDetail(distributor_id, sku, day)
        stores.inventory_days.put(day_key, record_intraday_moves(detail, day_moves, position))
