"""Stores whose product catalog already knows the SKUs a test uses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from projections.channel import apply_event
from projections.stores import ChannelStores
from schemas.events import ProductDefined

DEFINED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def product(sku: str, **fields: object) -> ProductDefined:
    values: dict[str, object] = {
        "event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"product:{sku}"),
        "occurred_at": DEFINED_AT,
        "source": "erp",
        "sku": sku,
        "base_unit": "EA",
        **fields,
    }
    return ProductDefined.model_validate(values)


def catalog_stores(*skus: str) -> ChannelStores:
    stores = ChannelStores()
    for sku in skus:
        apply_event(stores, product(sku), None)
    return stores
