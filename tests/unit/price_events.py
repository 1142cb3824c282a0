"""Price events and histories for the price and pricing tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from projections.price_book import PriceHistory, apply_price
from schemas.events import PriceChanged

T0 = datetime(2026, 7, 1, tzinfo=UTC)
D = timedelta(days=1)
US = timedelta(microseconds=1)


def uid(n: int) -> UUID:
    return UUID(int=n, version=4)


def price(
    n: int,
    cost: str = "10.00",
    floor: str = "15.00",
    at: datetime = T0,
    distributor_id: str | None = None,
    reseller_id: str | None = None,
    **changes: Any,
) -> PriceChanged:
    fields: dict[str, Any] = {
        "event_id": uid(n),
        "occurred_at": at,
        "source": "erp",
        "sku": "SKU-1",
        "distributor_cost": Decimal(cost),
        "floor_price": Decimal(floor),
        "currency": "USD",
        "effective_from": at,
        "distributor_id": distributor_id,
        "reseller_id": reseller_id,
    }
    fields.update(changes)
    return PriceChanged(**fields)


def history_of(*events: PriceChanged) -> PriceHistory:
    history = PriceHistory("SKU-1")
    for event in events:
        history, _ = apply_price(history, event, None, None)
    return history
