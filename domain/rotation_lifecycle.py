"""A stock rotation request as an event-sourced audit aggregate.

One `StockRotation` per request key (distributor_id, request_id), its id derived from it,
so a resent, redelivered or replayed request reaches the same aggregate. Lifecycle::

    requested ──decided──► accepted ──returns received in full──► returned
        │                     └──cancel──► cancelled
        └──decided──► rejected

- `Requested` (creation) records the lines as asked; `Decided` the decision
  (`domain.stock_rotation.RotationDecision`) with its reasons, figures, expected
  shipments and the ids of the agreement version, prices and rates that decided it. A
  request is decided once: the same decision again changes nothing, another one is
  refused.
- `ReturnReceived`: units of the expected return shipment arrived (a negative
  `ShipmentRecorded` under the expected shipment id); once every returned sku is in, the
  rotation is `returned`. More than was accepted is refused.
- `ExchangeShipped`: units of the exchange order went out (a positive `ShipmentRecorded`
  under the expected exchange shipment id), before or after the return; never more than
  was ordered.
- `Cancelled`: the distributor (its own requests) or admin withdraws an accepted rotation
  before anything came back or went out in exchange, saying who, when and why.

The aggregate never reads a clock: every step carries its time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.claim_steps import IllegalTransition, NotAllowed
from domain.identity import derived_id
from domain.lifecycle_steps import check_role_may
from domain.permissions import Permission
from domain.stock_rotation import RotationDecision
from domain.timeutil import utc
from schemas.agreements import StockRotationRequested


class RotationStatus(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RETURNED = "returned"
    CANCELLED = "cancelled"


def rotation_aggregate_id(distributor_id: str, request_id: str) -> UUID:
    """The id of a request's audit aggregate, derived from its key."""
    return derived_id("stock-rotation", distributor_id, request_id)


class StockRotation(Aggregate):
    """A stock rotation request: what was asked, the decision, and what came back."""

    @staticmethod
    def create_id(distributor_id: str, request_id: str, **_: Any) -> UUID:
        return rotation_aggregate_id(distributor_id, request_id)

    @classmethod
    def request(cls, request: StockRotationRequested, recorded_at: datetime) -> StockRotation:
        return cls(
            distributor_id=request.distributor_id,
            request_id=request.request_id,
            event_id=request.event_id,
            recorded_at=utc(recorded_at, "recorded_at"),
            returns={line.sku: line.quantity for line in request.returns},
            orders={line.sku: line.quantity for line in request.orders},
        )

    @event("Requested")
    def __init__(
        self,
        distributor_id: str,
        request_id: str,
        event_id: UUID,
        recorded_at: datetime,
        returns: dict[str, int],
        orders: dict[str, int],
    ) -> None:
        self.distributor_id = distributor_id
        self.request_id = request_id
        self.event_id = event_id
        self.recorded_at = recorded_at
        self.returns = dict(returns)
        self.orders = dict(orders)
        self.status = RotationStatus.REQUESTED
        self.decision: dict[str, Any] | None = None
        self.received: dict[str, int] = {}
        #: the shipment events whose units were received (each is taken once)
        self.return_events: list[UUID] = []
        self.cancelled_by: tuple[str, str, datetime, str] | None = None
        #: the cancellation event (lineage)
        self.cancel_event: UUID | None = None
        #: units of the exchange order shipped, and the shipment events that carried them
        self.exchanged: dict[str, int] = {}
        self.exchange_events: list[UUID] = []

    def record_decision(self, decision: RotationDecision) -> bool:
        """Record the decision; False when this very decision is recorded already."""
        if (decision.distributor_id, decision.request_id) != (self.distributor_id, self.request_id):
            raise ValueError(f"decision of {decision.request_id!r} given to {self.request_id!r}")
        summary = decision_summary(decision)
        if self.decision is not None:
            if self.decision == summary:
                return False
            raise IllegalTransition(f"rotation {self.request_id!r} is decided already")
        self._decided(decision=summary)
        return True

    @event("Decided")
    def _decided(self, decision: dict[str, Any]) -> None:
        self.decision = decision
        accepted = decision["status"] == "accepted"
        self.status = RotationStatus.ACCEPTED if accepted else RotationStatus.REJECTED

    def receive(self, shipment_event_id: UUID, lines: dict[str, int], at: datetime) -> None:
        """Returned units arrived (`lines`: sku → units, positive)."""
        if self.status is not RotationStatus.ACCEPTED:
            raise IllegalTransition(f"rotation {self.request_id!r} is {self.status}: no return due")
        for sku, units in lines.items():
            due = self.returns.get(sku, 0) - self.received.get(sku, 0)
            if units <= 0 or units > due:
                raise ValueError(f"{units} units of {sku!r} returned, {due} due")
        self._received(shipment_event_id=shipment_event_id, lines=dict(lines), at=utc(at))

    @event("ReturnReceived")
    def _received(self, shipment_event_id: UUID, lines: dict[str, int], at: datetime) -> None:
        self.return_events.append(shipment_event_id)
        for sku, units in lines.items():
            self.received[sku] = self.received.get(sku, 0) + units
        if self.received == self.returns:
            self.status = RotationStatus.RETURNED

    def ship_exchange(self, shipment_event_id: UUID, lines: dict[str, int], at: datetime) -> None:
        """Units of the exchange order shipped (`lines`: sku → units, positive), whether
        the return came back yet or not."""
        if self.status not in (RotationStatus.ACCEPTED, RotationStatus.RETURNED):
            raise IllegalTransition(
                f"rotation {self.request_id!r} is {self.status}: no exchange due"
            )
        for sku, units in lines.items():
            due = self.orders.get(sku, 0) - self.exchanged.get(sku, 0)
            if units <= 0 or units > due:
                raise ValueError(f"{units} units of {sku!r} shipped in exchange, {due} due")
        self._exchanged(shipment_event_id=shipment_event_id, lines=dict(lines), at=utc(at))

    @event("ExchangeShipped")
    def _exchanged(self, shipment_event_id: UUID, lines: dict[str, int], at: datetime) -> None:
        self.exchange_events.append(shipment_event_id)
        for sku, units in lines.items():
            self.exchanged[sku] = self.exchanged.get(sku, 0) + units

    def cancel(
        self,
        *,
        actor_id: str,
        role: str,
        at: datetime,
        reason: str,
        actor_distributor_id: str | None = None,
        event_id: UUID | None = None,
    ) -> None:
        """accepted → cancelled, before any unit came back or went out in exchange (`event_id`: the
        `StockRotationCancelled` that asked, if one did)."""
        check_role_may(
            role,
            actor_distributor_id,
            self.distributor_id,
            (Permission.ADMINISTER, Permission.SUBMIT),
            "cancel a rotation",
            NotAllowed,
        )
        if self.status is not RotationStatus.ACCEPTED or self.received or self.exchanged:
            raise IllegalTransition(f"rotation {self.request_id!r} is {self.status}: cannot cancel")
        if not actor_id.strip() or not reason.strip():
            raise ValueError("a cancellation names its actor and a reason")
        self._cancelled(
            actor_id=actor_id, role=role, at=utc(at), reason=reason.strip(), event_id=event_id
        )

    @event("Cancelled")
    def _cancelled(
        self, actor_id: str, role: str, at: datetime, reason: str, event_id: UUID | None = None
    ) -> None:
        self.cancelled_by = (actor_id, role, at, reason)
        self.cancel_event = event_id
        self.status = RotationStatus.CANCELLED


def decision_summary(decision: RotationDecision) -> dict[str, Any]:
    """The decision as the aggregate stores it: plain values, lineage included."""
    expected, exchange = decision.expected_return, decision.expected_exchange
    return {
        "status": decision.status,
        "reasons": list(decision.reasons),
        "problems": [[p.reason, p.side, p.sku, p.detail] for p in decision.problems],
        "period": decision.period,
        "currency": decision.currency,
        "return_value": str(decision.return_value),
        "order_value": str(decision.order_value),
        "allowance": None if decision.allowance is None else str(decision.allowance),
        "used_before": str(decision.used_before),
        "agreement_event_id": decision.agreement_event_id,
        "rate_event_ids": list(decision.rate_event_ids),
        "price_event_ids": list(decision.price_event_ids),
        "return_shipment_id": None if expected is None else expected.shipment_id,
        "exchange_shipment_id": None if exchange is None else exchange.shipment_id,
    }
