"""Reads of one distributor's state that several readers share (the snapshot, the API, the
scorecard): which distributors there are, a distributor's inventory states and its
reporting periods."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from projections.clock import recorded_now
from projections.inventory import InventoryState
from projections.keyvalue import KeyValue
from projections.report_compliance import PeriodCompliance, compliance_periods, schedule_at
from projections.resellers import first_sales
from projections.stores import ChannelStores


def distributors(stores: ChannelStores) -> list[str]:
    """Every distributor with lines (each line's verdict is counted in its quality)."""
    return [state.distributor_id for state in stores.quality.values()]


def is_known(stores: ChannelStores, distributor_id: str) -> bool:
    """Whether the channel has heard of the distributor: a line of its (its quality), an
    agreement, or anything else recorded under its id before its first line (a report, a
    reseller, a claim, a rotation request, an alias or a match proposal). A few lookups of
    one key or of a prefix's first key, whatever the length of the history."""
    if (
        stores.quality.get(distributor_id) is not None
        or stores.agreements.get(distributor_id) is not None
    ):
        return True
    own = f"{distributor_id}|"
    prefixed: tuple[tuple[KeyValue[Any], str], ...] = (
        (stores.reports, own),
        (stores.resellers, own),
        (stores.claims, own),
        (stores.rotations, own),
        (stores.match_proposals, own),
        (stores.party_aliases, f"id|{own}"),
        (stores.party_aliases, f"na|{own}"),
        (stores.customer_aliases, f"ci|{own}"),
        (stores.customer_aliases, f"cn|{own}"),
    )
    return any(next(store.scan(prefix), None) is not None for store, prefix in prefixed)


def inventory_states(stores: ChannelStores, distributor_id: str | None) -> Iterable[InventoryState]:
    """Every inventory state in key order, or one distributor's."""
    if distributor_id is None:
        return stores.inventory.values()
    return (state for _, state in stores.inventory.scan(f"{distributor_id}|"))


def compliance_of(
    stores: ChannelStores,
    distributor_id: str,
    now: datetime | None = None,
    since: date | None = None,
) -> list[PeriodCompliance]:
    """One distributor's reporting periods on its own calendar with their status, oldest
    first (for the API: `PeriodCompliance.row()`); with `since`, those touching it or
    later."""
    now = now or recorded_now(stores.clock)
    prefix = f"{distributor_id}|"
    reports = [report for _, report in stores.reports.scan(prefix)]
    first = first_sales(reseller for _, reseller in stores.resellers.scan(prefix))
    calendar = schedule_at(stores.agreements.get(distributor_id))
    return compliance_periods(reports, first.get(distributor_id), now, calendar, since)
