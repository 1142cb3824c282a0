"""Events and store readers shared by the channel projection tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from projections.channel import Outcome, apply_event
from projections.snapshot import build_snapshot
from projections.stores import ChannelStores
from schemas.codec import encode_event
from schemas.events import Envelope, InventoryCounted, SaleReported, ShipmentRecorded
from streams.runners.embedded import EmbeddedChannel, file_inputs

T0 = datetime(2026, 7, 6, 14, tzinfo=UTC)
SALES = "channelflow.sales:0"
SHIPMENTS = "channelflow.shipments:0"
COUNTS = "channelflow.inventory:0"


def uid(n: int) -> UUID:
    return UUID(int=n, version=4)


def sale(n: int, txn: str = "T1", quantity: int = 3, **changes: Any) -> SaleReported:
    fields: dict[str, Any] = {
        "event_id": uid(n),
        "occurred_at": T0,
        "recorded_at": T0 + timedelta(minutes=n),
        "source": "api",
        "distributor_id": "D01",
        "transaction_id": txn,
        "reseller_id": "R1",
        "sku": "SKU-1",
        "quantity": quantity,
        "unit_price": Decimal("12.50"),
        "currency": "USD",
        "sold_at": T0,
    }
    fields.update(changes)
    return SaleReported(**fields)


def shipment(
    n: int, shipment_id: str = "SH1", quantity: int = 10, **changes: Any
) -> ShipmentRecorded:
    fields: dict[str, Any] = {
        "event_id": uid(n),
        "occurred_at": T0 - timedelta(hours=2),
        "source": "erp",
        "shipment_id": shipment_id,
        "distributor_id": "D01",
        "sku": "SKU-1",
        "quantity": quantity,
        "unit_price": Decimal("9.00"),
        "currency": "USD",
        "shipped_at": T0 - timedelta(hours=2),
    }
    fields.update(changes)
    return ShipmentRecorded(**fields)


def count(n: int, on_hand: int, at: datetime, **changes: Any) -> InventoryCounted:
    fields: dict[str, Any] = {
        "event_id": uid(n),
        "occurred_at": at,
        "source": "edi852",
        "distributor_id": "D01",
        "sku": "SKU-1",
        "on_hand": on_hand,
        "counted_at": at,
    }
    fields.update(changes)
    return InventoryCounted(**fields)


def quality(stores: ChannelStores, distributor: str = "D01") -> dict[str, Any]:
    rows = [r for r in build_snapshot(stores)["quality"] if r["distributor_id"] == distributor]
    assert len(rows) == 1
    return rows[0]


def inventory(stores: ChannelStores, sku: str = "SKU-1") -> dict[str, Any]:
    rows = [r for r in build_snapshot(stores)["inventory"] if r["sku"] == sku]
    assert len(rows) == 1
    return rows[0]


def counts(row: dict[str, Any]) -> tuple[int, int, int, int]:
    return row["accepted"], row["duplicates"], row["conflicts"], row["rejected"]


def run(stores: ChannelStores, *events: Envelope) -> list[Outcome]:
    return [apply_event(stores, event, None) for event in events]


def replayed_file(directory: Path, events: Iterable[Envelope]) -> EmbeddedChannel:
    """The events written as a JSON Lines history file in `directory` and replayed from it
    (`channelflow replay --events`), as an auditor replays live's history."""
    path = directory / "history.jsonl"
    path.write_bytes(b"".join(encode_event(event) + b"\n" for event in events))
    replay = EmbeddedChannel()
    replay.feed(file_inputs(path))
    return replay
