"""An accepted stock rotation cancelled (`StockRotationCancelled`, on the `rotations` topic
keyed by distributor) as the channel projection applies it.

A cancellation withdraws an accepted rotation before any unit of its return came back or of
its exchange order went out: its expected shipments are dropped (a shipment under their ids
is then an ordinary movement), its units are released from the distributor's reservations,
and its value is given back to its period's allowance (nothing was sent back under it). It
writes the request's record, its two shipments' keys, the distributor's reservations and
the period's ledger: five keyed values, whatever the history.

Refused, each dead-lettered for its reason: `unknown_rotation` (no such request),
`rotation_not_accepted` (it was rejected), `already_returned` (units of its return came
back), `exchange_shipped` (units of its exchange order went out), `already_cancelled`
(cancelled before, by someone else, at another time or for another reason). The same
cancellation again is a duplicate (a redelivery: nothing).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from projections.dedup import Verdict
from projections.outcome import Outcome
from projections.positions import Position, advance, already_applied
from projections.rejections import reject_input
from projections.rotation_facts import RotationCancelled
from projections.rotation_inputs import reserve, return_key
from projections.rotation_state import RotationRecord, record_key
from projections.stock_rotations import ledger_key
from projections.stores import ChannelStores
from schemas.agreements import StockRotationCancelled

UNKNOWN_ROTATION = "unknown_rotation"
NOT_ACCEPTED = "rotation_not_accepted"
ALREADY_RETURNED = "already_returned"
ALREADY_CANCELLED = "already_cancelled"
EXCHANGE_SHIPPED = "exchange_shipped"


def cancellation_of(event: StockRotationCancelled) -> dict[str, str]:
    """What a record keeps of its cancellation (the event id apart, its content)."""
    return {
        "at": event.cancelled_at.isoformat(),
        "by": event.cancelled_by,
        "role": event.role,
        "reason": event.reason,
        "event_id": str(event.event_id),
    }


def apply_cancel(
    stores: ChannelStores, event: StockRotationCancelled, position: Position | None
) -> Outcome:
    """Cancel an accepted rotation once; the cancellation is the outcome's audit fact."""
    distributor, request_id = event.distributor_id, event.request_id
    key = record_key(distributor, request_id)
    record = stores.rotations.get(key)
    if record is not None and already_applied(record.applied, position):
        return Outcome(Verdict.REDELIVERY)
    cancelled = None if record is None else record.cancelled
    if cancelled is not None and _content(cancelled) == _content(cancellation_of(event)):
        return Outcome(Verdict.DUPLICATE)
    problem = cancel_problem(record, event)
    if problem is not None:
        reason, detail = problem
        return reject_input(stores, reason, distributor, position, detail=detail)
    assert record is not None
    applied = advance(record.applied, position) or record.applied
    stores.rotations.put(key, replace(record, cancelled=cancellation_of(event), applied=applied))
    shipment_id = record.decision["return_shipment_id"]
    if shipment_id is not None:
        where = return_key(distributor, shipment_id)
        expected = stores.rotation_returns.get(where)
        if expected is not None:
            stores.rotation_returns.delete(where)
            reserve(stores, distributor, {sku: -units for sku, units in expected.due.items()})
    exchange_id = record.decision.get("exchange_shipment_id")
    if exchange_id is not None:
        stores.rotation_returns.delete(return_key(distributor, exchange_id))
    _give_back(stores, record)
    fact = RotationCancelled(
        distributor, request_id, event.event_id, event.cancelled_by, event.role,
        event.cancelled_at, event.reason,
    )  # fmt: skip
    return Outcome(Verdict.ACCEPTED, facts=(fact,))


def cancel_problem(
    record: RotationRecord | None, event: StockRotationCancelled
) -> tuple[str, str] | None:
    """Why this cancellation is refused (reason, detail); None when it cancels."""
    what = f"request_id: {event.request_id!r}"
    if record is None:
        return UNKNOWN_ROTATION, f"{what} is no rotation request of {event.distributor_id}"
    if record.cancelled is not None:
        return ALREADY_CANCELLED, f"{what} was cancelled at {record.cancelled['at']}"
    if record.decision["status"] != "accepted":
        return NOT_ACCEPTED, f"{what} was rejected: there is nothing to cancel"
    if record.received:
        units = sum(record.received.values())
        return ALREADY_RETURNED, f"{what}: {units} units of its return came back already"
    if record.exchanged:
        units = sum(record.exchanged.values())
        return EXCHANGE_SHIPPED, f"{what}: {units} units of its exchange order went out already"
    return None


def _content(cancellation: dict[str, str]) -> tuple[str, ...]:
    return tuple(cancellation[name] for name in ("at", "by", "role", "reason"))


def _give_back(stores: ChannelStores, record: RotationRecord) -> None:
    """The rotation's value no longer counts against its period's allowance."""
    period = record.decision["period"]
    ledger = stores.rotation_ledgers.get(ledger_key(record.distributor_id, period))
    if ledger is None or record.request_id not in ledger.requests:
        return
    released = replace(
        ledger,
        used=ledger.used - Decimal(record.decision["return_value"]),
        requests=tuple(r for r in ledger.requests if r != record.request_id),
    )
    stores.rotation_ledgers.put(ledger_key(record.distributor_id, period), released)
