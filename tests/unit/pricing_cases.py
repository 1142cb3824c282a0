"""Sales and price histories for the pricing tests: a sale to judge, the list floor, the
cost drops of a price history."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from projections.price_book import CostDrop, PriceHistory, apply_price
from schemas.events import PriceChanged, SaleReported
from tests.unit.price_events import T0, D, history_of, price, uid

H = timedelta(hours=1)


def drops_of(*events: PriceChanged) -> tuple[PriceHistory, list[CostDrop]]:
    history = PriceHistory("SKU-1")
    drops = []
    for event in events:
        history, drop = apply_price(history, event, None, None)
        if drop is not None:
            drops.append(drop)
    return history, drops


def sale(
    unit_price: str = "15.00",
    quantity: int = 1,
    at: datetime = T0 + D,
    distributor_id: str = "D01",
    reseller_id: str = "R01",
    transaction_id: str = "T-1",
    n: int = 1000,
    **changes: Any,
) -> SaleReported:
    fields: dict[str, Any] = {
        "event_id": uid(n),
        "occurred_at": at,
        "source": "api",
        "distributor_id": distributor_id,
        "transaction_id": transaction_id,
        "reseller_id": reseller_id,
        "sku": "SKU-1",
        "quantity": quantity,
        "unit_price": Decimal(unit_price),
        "currency": "USD",
        "sold_at": at,
    }
    fields.update(changes)
    return SaleReported(**fields)


LIST = history_of(price(1, floor="15.00"))
D01: dict[str, Any] = {"distributor_id": "D01"}
