"""Agreement obligations found today (schemas/rows/agreements.py, `ObligationRow`).

Per distributor whose agreement has a version in effect on "now"'s day: every stocking
target that version names and the stock exceeds, and every sku with units older than its
maximum age (`domain.obligations`), under that version alone. The figures are the ones
the inventory and aging rows show: the count-aware expected on-hand, the sell-through of
the 28 days ending "now", the held lots (FIFO; none known for a sku never received) and
the distributor cost in effect.

A distributor's rows read its timeline, its skus' inventory and aging states and their
prices: what one distributor holds, never the history.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.agreements import AgreementVersion
from domain.obligations import OverAge, OverStock, SkuSupply, over_age, over_stock
from projections.agreement_reads import timelines_in_scope
from projections.costs import money, unit_cost
from projections.inventory_aging import held_lots
from projections.stores import ChannelStores
from projections.supply import sold_last_4_weeks

Row = dict[str, Any]


def obligation_rows(
    stores: ChannelStores, now: datetime | None, distributor_id: str | None
) -> list[Row]:
    """The obligations broken on `now`'s day, by distributor: over-stock first (in the
    order the terms list their targets), then over-age (by sku). None before anything
    was recorded (no "now")."""
    if now is None:
        return []
    rows: list[Row] = []
    for timeline in timelines_in_scope(stores, distributor_id):
        version = timeline.on(now.date())
        if version is not None:
            rows.extend(_distributor_rows(stores, version, now))
    return rows


def _distributor_rows(stores: ChannelStores, version: AgreementVersion, now: datetime) -> list[Row]:
    distributor = version.distributor_id
    terms = version.terms
    supply: dict[str, SkuSupply] = {}
    lots = {}
    costs: dict[str, Decimal] = {}
    currencies: dict[str, str | None] = {}
    for key, inventory in stores.inventory.scan(f"{distributor}|"):
        sku, on_hand = inventory.sku, inventory.expected_on_hand
        supply[sku] = SkuSupply(on_hand, sold_last_4_weeks(inventory, now, stores.day_totals))
        aging = stores.aging.get(key)  # none: no receipt, so no age known
        if aging is not None:
            lots[sku] = held_lots(aging, on_hand)
        cost, currencies[sku] = unit_cost(stores, sku, distributor, now)
        if cost is not None:
            costs[sku] = cost
    base = {
        "distributor_id": distributor,
        "agreement_id": version.agreement_id,
        "version_id": version.version_id,
        "as_of": now.date().isoformat(),
    }
    return [
        *(_over_stock_row(base, found) for found in over_stock(terms, supply)),
        *(
            _over_age_row(base, found, currencies.get(found.sku))
            for found in over_age(terms, lots, now.date(), costs, currencies)
        ),
    ]


def _over_stock_row(base: Row, found: OverStock) -> Row:
    weeks = found.weeks_of_supply
    return {
        **base,
        "kind": "over_stock",
        "scope": found.scope,
        "ref": found.ref,
        "on_hand": found.on_hand,
        "target_weeks": str(found.target_weeks),
        "weeks_of_supply": None if weeks is None else str(weeks),
        "excess_units": found.excess_units,
        "max_age_days": None,
        "units": None,
        "value": None,
        "currency": None,
    }


def _over_age_row(base: Row, found: OverAge, currency: str | None) -> Row:
    return {
        **base,
        "kind": "over_age",
        "scope": "sku",
        "ref": found.sku,
        "on_hand": None,
        "target_weeks": None,
        "weeks_of_supply": None,
        "excess_units": None,
        "max_age_days": found.max_age_days,
        "units": found.units,
        "value": money(found.value),
        "currency": None if found.value is None else currency,
    }
