"""What a stock figure is valued at: the distributor cost in effect, and money as rows
carry it (a decimal string). Read by the inventory rows (`projections.snapshot`) and the
aging rows (`projections.aging_reads`) alike."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from projections.price_book import price_in_effect
from projections.stores import ChannelStores


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def unit_cost(
    stores: ChannelStores, sku: str, distributor_id: str, at: datetime | None
) -> tuple[Decimal | None, str | None]:
    """The distributor cost in effect for the distributor at `at` and its currency (None,
    None when no price)."""
    history = stores.prices.get(sku)
    if history is None or at is None:
        return None, None
    entry = price_in_effect(history, at, distributor_id, None)
    return (None, None) if entry is None else (entry.distributor_cost, entry.currency)
