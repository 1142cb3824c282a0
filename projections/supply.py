"""Weeks of supply per distributor: all its stock over its average weekly sell-through.

The same 4-week window as each SKU's weeks of supply in the inventory rows (the 28
business days up to and including "now"), summed over the distributor's SKUs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.inventory import weeks_of_supply
from projections.inventory import InventoryState, sold_between
from projections.keyvalue import KeyValue
from projections.periods import value_currency
from projections.tallies import InOut


def sold_last_4_weeks(
    state: InventoryState, now: datetime | None, day_totals: KeyValue[InOut]
) -> int:
    """Sell-through of the 28 business days ending with `now`'s day (0 without a now):
    from the state's recent days, or (a "now" well before its latest movement, an as-of
    read) from the day totals of those 28 days."""
    if now is None:
        return 0
    today = now.date()
    start, end = today - timedelta(days=27), today + timedelta(days=1)
    recent = sold_between(state, start, end)
    if recent is not None:
        return recent
    prefix = f"{state.distributor_id}|{state.sku}|"
    total = 0
    for key, bucket in day_totals.scan(prefix, start=prefix + start.isoformat()):
        if key[len(prefix) :] >= end.isoformat():
            break
        total += bucket.sell_through
    return total


def supply_of(on_hand: int, sold: int) -> dict[str, Any]:
    """A distributor's {sold_last_4_weeks, weeks_of_supply (decimal string or None)}."""
    weeks = weeks_of_supply(on_hand, sold)
    return {"sold_last_4_weeks": sold, "weeks_of_supply": None if weeks is None else str(weeks)}


def channel_supply(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Channel-wide totals of per-distributor summary rows (those of
    `projections.inventory_summary`): stock, its value (None
    when no SKU has one; `unvalued_skus` tells a partial total), 4-week sell-through and
    the channel's weeks of supply."""
    on_hand = sold = unvalued = distributors = 0
    values: list[Decimal] = []
    summaries = list(rows)
    for row in summaries:
        distributors += 1
        on_hand += int(row["expected_on_hand"])
        sold += int(row["sold_last_4_weeks"])
        unvalued += int(row["unvalued_skus"])
        if row["value"] is not None:
            values.append(Decimal(row["value"]))
    weeks = weeks_of_supply(on_hand, sold)
    return {
        "distributors": distributors,
        "expected_on_hand": on_hand,
        "value": str(sum(values, Decimal(0))) if values else None,
        "currency": value_currency(summaries),
        "unvalued_skus": unvalued,
        "sold_last_4_weeks": sold,
        "weeks_of_supply": None if weeks is None else str(weeks),
    }
