"""Stock rotation rows (schemas/rows/rotations.py, `RotationRow`): each request as it was
decided, in store key order (distributor, request id). One row reads one record."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domain.rotation_lifecycle import rotation_aggregate_id
from domain.timeutil import iso_z
from projections.rotation_state import RotationRecord, record_key
from projections.stores import ChannelStores

Row = dict[str, Any]


def rotation_rows(stores: ChannelStores, distributor_id: str | None) -> list[Row]:
    """Every request (one distributor's, if given): as long as the list itself."""
    records: Iterable[RotationRecord]
    if distributor_id is None:
        records = stores.rotations.values()
    else:
        records = (record for _, record in stores.rotations.scan(f"{distributor_id}|"))
    return [rotation_row(record) for record in records]


def rotation_of(stores: ChannelStores, distributor_id: str, request_id: str) -> Row | None:
    record = stores.rotations.get(record_key(distributor_id, request_id))
    return None if record is None else rotation_row(record)


def rotation_row(record: RotationRecord) -> Row:
    decision, cancelled = record.decision, record.cancelled or {}
    return {
        "rotation_id": str(rotation_aggregate_id(record.distributor_id, record.request_id)),
        "distributor_id": record.distributor_id,
        "request_id": record.request_id,
        "status": record.status,
        "requested_at": _time(record.requested_at),
        "recorded_at": _time(record.recorded_at),
        "returns": record.returns,
        "orders": record.orders,
        "reasons": decision["reasons"],
        "problems": decision["problems"],
        "period": decision["period"],
        "currency": decision["currency"],
        "return_value": decision["return_value"],
        "order_value": decision["order_value"],
        "allowance": decision["allowance"],
        "used_before": decision["used_before"],
        "return_shipment_id": decision["return_shipment_id"],
        "received": record.received,
        "exchange_shipment_id": decision.get("exchange_shipment_id"),
        "exchanged": record.exchanged,
        "exchange_status": _exchange_status(record),
        "cancelled_at": _time(cancelled.get("at")),
        "cancelled_by": cancelled.get("by"),
        "cancel_reason": cancelled.get("reason"),
        "agreement_event_id": decision["agreement_event_id"],
        "price_event_ids": decision["price_event_ids"],
        "rate_event_ids": decision["rate_event_ids"],
        "event_id": record.event_id,
    }


def _time(stored: str | None) -> str | None:
    return None if stored is None else iso_z(datetime.fromisoformat(stored))


def _exchange_status(record: RotationRecord) -> str | None:
    """None without an exchange order (or not accepted); else none / partial / shipped."""
    if record.decision.get("exchange_shipment_id") is None:
        return None
    if record.exchanged == record.orders:
        return "shipped"
    return "partial" if record.exchanged else "none"
