"""A price-protection claim as an event-sourced audit aggregate.

Its id derives from the claim's business key (distributor, SKU, effective_from), so a claim
recorded twice is recorded once; what it is owed is computed in
projections/price_protection_claims.py.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from domain.currency import round_money
from domain.identity import derived_id


class PriceProtection(Aggregate):
    """A price-protection claim: (old − new cost) × units on hand at the drop's effective time.

    The stock at effective_from can still change after the claim is first recorded: a
    shipment or sale dated before it may be processed later (another topic, a late line).
    The claim is then revised, with the units and amount it had before kept in history.
    So is an agreement (or amendment) recorded later that moves the distributor to another
    price list for the drop's day: the claim is withdrawn, naming that version.
    """

    @staticmethod
    def create_id(distributor_id: str, sku: str, effective_from: datetime, **_: Any) -> UUID:
        return derived_id("price-protection", distributor_id, sku, effective_from.isoformat())

    def __init__(
        self,
        claim_id: UUID,
        distributor_id: str,
        sku: str,
        effective_from: datetime,
        units: int,
        old_cost: Decimal,
        new_cost: Decimal,
        amount: Decimal,
        currency: str,
        price_event_id: UUID,
    ) -> None:
        if claim_id != self.id:
            raise ValueError(f"claim id {claim_id} is not derived from its business key")
        self.distributor_id = distributor_id
        self.sku = sku
        self.effective_from = effective_from
        self.units = units
        self.old_cost = old_cost
        self.new_cost = new_cost
        self.amount = amount
        self.currency = currency
        self.price_event_id = price_event_id

    @event("Revised")
    def revise(self, units: int, amount: Decimal) -> None:
        self.units = units
        self.amount = amount

    @event("Withdrawn")
    def withdraw(self, agreement_version: str | None, agreement_event_id: UUID | None) -> None:
        """Revised to nothing: an agreement version recorded after the claim (named in the
        event, with the event that made it; None: no agreement governs the day) puts
        another list, or the distributor's own price, first on the drop's day."""
        self.units = 0
        self.amount = round_money(Decimal(0), self.currency)


#: events stored while this class lived in domain/audit.py name it by that topic
register_topic("domain.audit:PriceProtection", PriceProtection)
