"""The inventory reconciliation as an event-sourced audit aggregate.

Its id derives from the count's business key (distributor, SKU, counted_at), so a count
recorded twice is reconciled once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from domain.identity import derived_id


class InventoryReconciliation(Aggregate):
    """A physical count compared with the expected on-hand as of the count's time."""

    @staticmethod
    def create_id(distributor_id: str, sku: str, counted_at: datetime, **_: Any) -> UUID:
        return derived_id("reconciliation", distributor_id, sku, counted_at.isoformat())

    def __init__(
        self,
        distributor_id: str,
        sku: str,
        counted_at: datetime,
        on_hand: int,
        expected: int,
        variance: int,
        stale: bool,
    ) -> None:
        self.distributor_id = distributor_id
        self.sku = sku
        self.counted_at = counted_at
        self.on_hand = on_hand
        self.expected = expected
        self.variance = variance
        self.stale = stale


#: events stored while this class lived in domain/audit.py name it by that topic
register_topic("domain.audit:InventoryReconciliation", InventoryReconciliation)


#: events stored while this class lived in domain/audit.py name it by that topic
register_topic("domain.audit:InventoryReconciliation", InventoryReconciliation)
