"""A distributor with an agreement, stock and prices for the stock rotation wiring tests.

D01 holds X at a distributor cost of 12.50 USD: 100 received January 15 (Q1) and 1,000
received April 10 at 9.00 (Q2's purchases: 9,000.00, so a 10 % allowance is 900.00).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from projections.channel import apply_event
from projections.stores import ChannelStores
from schemas.agreements import RotationLine, StockRotationRequested
from schemas.envelope import Envelope
from tests.unit.agreement_events import at, signed, uid
from tests.unit.channel_cases import shipment
from tests.unit.test_aging_wiring import priced_stores, receipt, send

MAY_20 = date(2026, 5, 20)
TERMS: dict[str, Any] = {
    "distributor_id": "D01",
    "inventory": {"rotation_allowance": "0.10", "rotation_min_age_days": 30},
    "discounts": [],  # values at the list cost (a discount: test_rotation_wiring)
}


def request(
    request_id: str, returns: dict[str, int], n: int = 1, day: date = MAY_20, **changes: Any
) -> StockRotationRequested:
    fields: dict[str, Any] = {
        "event_id": uid(900 + n),
        "occurred_at": at(day),
        "recorded_at": at(day, 13),
        "source": "api",
        "request_id": request_id,
        "distributor_id": "D01",
        "requested_at": at(day),
        "returns": [RotationLine(sku=sku, quantity=units) for sku, units in returns.items()],
        **changes,
    }
    return StockRotationRequested(**fields)


def returned(n: int, shipment_id: str, units: int, day: date = date(2026, 5, 28)) -> Envelope:
    """The vendor's return shipment: `units` of X back (a negative shipment)."""
    when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return shipment(
        n, shipment_id, -units, sku="X", occurred_at=when, shipped_at=when, recorded_at=when
    )


def stocked() -> list[Envelope]:
    """The agreement and the two receipts, in the order they are sent."""
    return [
        signed(**TERMS),
        receipt(1, 100, date(2026, 1, 15)),
        receipt(2, 1000, date(2026, 4, 10)),
    ]


def channel() -> ChannelStores:
    stores = priced_stores()
    agreement, *receipts = stocked()
    apply_event(stores, agreement, None)
    for offset, event in enumerate(receipts):
        send(stores, offset, event)
    return stores
