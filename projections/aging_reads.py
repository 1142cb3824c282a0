"""Inventory aging rows (schemas/rows/inventory.py, `AgingRow`): each (distributor, sku)'s
held units by age band on "now"'s day, valued at the distributor cost in effect.

The units held are the inventory's count-aware expected on-hand (a count above the
receipts leaves units of unknown age); the lots are the newest units received (FIFO,
`projections.inventory_aging.held_lots`). A row reads its aging state, its inventory state
and its price history: a page costs its rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from projections.costs import money, unit_cost
from projections.inventory import inventory_key
from projections.inventory_aging import AgingState, aging_of, held_lots
from projections.stores import ChannelStores


def aging_page(
    stores: ChannelStores,
    now: datetime | None,
    distributor_id: str | None,
    sku: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """(the page's rows, how many there are): rows are computed for the page alone; none
    before anything was recorded (no "now")."""
    if now is None:
        return [], 0
    states = [s for s in aging_states(stores, distributor_id) if sku is None or s.sku == sku]
    return [aging_row(stores, s, now) for s in states[offset : offset + limit]], len(states)


def aging_rows(
    stores: ChannelStores, now: datetime | None, distributor_id: str | None = None
) -> list[dict[str, Any]]:
    """One row per (distributor, sku), in key order (one distributor's, if given)."""
    if now is None:
        return []
    return [aging_row(stores, state, now) for state in aging_states(stores, distributor_id)]


def aging_states(stores: ChannelStores, distributor_id: str | None) -> Iterable[AgingState]:
    """Every aging state in key order, or one distributor's."""
    if distributor_id is None:
        return stores.aging.values()
    return (state for _, state in stores.aging.scan(f"{distributor_id}|"))


def aging_row(stores: ChannelStores, state: AgingState, now: datetime) -> dict[str, Any]:
    inventory = stores.inventory.get(inventory_key(state.distributor_id, state.sku))
    on_hand = state.on_hand if inventory is None else inventory.expected_on_hand
    cost, currency = unit_cost(stores, state.sku, state.distributor_id, now)
    aged = aging_of(state, now.date(), cost, currency, on_hand)
    lots = held_lots(state, on_hand)
    values = [value for value in aged.values.values() if value is not None]
    return {
        "distributor_id": state.distributor_id,
        "sku": state.sku,
        "on_hand": on_hand,
        "units": aged.units,
        "values": {band: money(value) for band, value in aged.values.items()},
        "unknown_age": aged.unknown_age,
        "value": None if cost is None else money(sum(values, Decimal(0))),
        "currency": None if cost is None else currency,
        "oldest_receipt": lots[0].received.isoformat() if lots and lots[0].received else None,
    }
