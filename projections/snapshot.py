"""The projection snapshot: one JSON document for the API, the demo and the auditor's replay."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.inventory import stock_value, weeks_of_supply
from projections.periods import sell_in_vs_through
from projections.prices import price_in_effect
from projections.stores import ChannelStores

Snapshot = dict[str, list[dict[str, Any]]]


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def latest_business_time(stores: ChannelStores) -> datetime | None:
    stamps = [state.latest for state in stores.inventory.values() if state.latest is not None]
    return max(stamps, default=None)


def build_snapshot(stores: ChannelStores, as_of: datetime | None = None) -> Snapshot:
    """Every projection as rows sorted by key fields; "now" is `as_of` or the latest time seen."""
    now = as_of or latest_business_time(stores)
    return {
        "inventory": inventory_rows(stores, now),
        "sell_in_vs_through": sell_in_vs_through(stores.inventory.values(), "week"),
        "quality": quality_rows(stores),
        "dead_letters": dead_letter_rows(stores),
    }


def unit_cost(
    stores: ChannelStores, sku: str, distributor_id: str, at: datetime | None
) -> Decimal | None:
    """The distributor cost in effect for the distributor at `at` (None when no price)."""
    history = stores.prices.get(sku)
    if history is None or at is None:
        return None
    entry = price_in_effect(history, at, distributor_id, None)
    return None if entry is None else entry.distributor_cost


def inventory_rows(stores: ChannelStores, now: datetime | None) -> list[dict[str, Any]]:
    rows = []
    for state in stores.inventory.values():
        cost = unit_cost(stores, state.sku, state.distributor_id, now)
        sold_4w = 0
        if now is not None:
            today = now.date()
            sold_4w = state.sold_between(today - timedelta(days=27), today + timedelta(days=1))
        rows.append(
            {
                "distributor_id": state.distributor_id,
                "sku": state.sku,
                "sell_in": state.sell_in,
                "sell_through": state.sell_through,
                "expected_on_hand": state.expected_on_hand,
                "last_count_on_hand": state.count_on_hand,
                "last_counted_at": iso(state.counted_at),
                "last_variance": state.last_variance,
                "late_after_count": state.late_after_count,
                "weeks_of_supply": money(weeks_of_supply(state.expected_on_hand, sold_4w)),
                "value": money(stock_value(state.expected_on_hand, cost)),
            }
        )
    return sorted(rows, key=lambda row: (row["distributor_id"], row["sku"]))


def product_rows(stores: ChannelStores) -> list[dict[str, Any]]:
    rows = [
        {
            "sku": product.sku,
            "base_unit": product.base_unit,
            "unit_conversions": dict(sorted(product.conversions.items())),
            "identifiers": dict(sorted(product.identifiers.items())),
        }
        for product in stores.products.values()
    ]
    return sorted(rows, key=lambda row: row["sku"])


def quality_rows(stores: ChannelStores) -> list[dict[str, Any]]:
    rows = [
        {
            "distributor_id": state.distributor_id,
            "accepted": state.accepted,
            "duplicates": state.duplicates,
            "conflicts": state.conflicts,
            "rejected": state.rejected_total,
            "rejected_by_reason": dict(sorted(state.rejected.items())),
        }
        for state in stores.quality.values()
    ]
    return sorted(rows, key=lambda row: row["distributor_id"])


def dead_letter_rows(stores: ChannelStores) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    for state in stores.dead_letters.values():
        counts[state.reason] += state.count
    return [{"reason": reason, "count": n} for reason, n in sorted(counts.items()) if n]
