"""The inventory summary: per distributor, its stock, value, top SKUs and weeks of supply.

One pass over the inventory states in scope: each state's 4-week sell-through is worked
out once and serves both its row (its weeks of supply, what the top lists rank) and the
distributor's totals (`projections.supply`). The rows (the fields of an inventory row the
summary reads) are summed by `projections.periods.inventory_by_distributor`, so the answer
is the one those functions give over `projections.snapshot.inventory_rows`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from projections.periods import inventory_by_distributor
from projections.snapshot import inventory_states, stock_fields
from projections.stores import ChannelStores
from projections.supply import sold_last_4_weeks, supply_of


def inventory_summary(
    stores: ChannelStores,
    now: datetime | None,
    distributor_id: str | None,
    readable: Callable[[str], bool],
    n: int = 5,
) -> list[dict[str, Any]]:
    """Per distributor (sorted; one, if given; only those `readable`): the fields of
    `inventory_by_distributor` with `sold_last_4_weeks` and `weeks_of_supply`."""
    rows = []
    totals: dict[str, list[int]] = {}
    for state in inventory_states(stores, distributor_id):
        if not readable(state.distributor_id):
            continue
        sold = sold_last_4_weeks(state, now, stores.day_totals)
        on_hand = state.expected_on_hand
        rows.append(
            {
                "distributor_id": state.distributor_id,
                "sku": state.sku,
                "expected_on_hand": on_hand,
                **stock_fields(stores, state, now, sold),
            }
        )
        bucket = totals.setdefault(state.distributor_id, [0, 0])
        bucket[0] += on_hand
        bucket[1] += sold
    return [
        {**row, **supply_of(*totals[row["distributor_id"]])}
        for row in inventory_by_distributor(rows, n)
    ]
