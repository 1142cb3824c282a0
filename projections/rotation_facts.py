"""The audit facts of a stock rotation: its decision, units of its return received, units
of its exchange order shipped, and its cancellation.

Each is recorded in the request's `StockRotation` aggregate (its id derived from
(distributor_id, request_id)), so a redelivered or replayed one changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.stock_rotation import RotationDecision
from schemas.agreements import StockRotationRequested


@dataclass(frozen=True, slots=True)
class RotationDecided:
    """A request as recorded (the broker's time) and the decision taken on it."""

    distributor_id: str
    request_id: str
    request: StockRotationRequested
    recorded_at: datetime
    decision: RotationDecision


@dataclass(frozen=True, slots=True)
class RotationShipment:
    """Units of a shipment an accepted rotation expects (sku -> units, positive)."""

    distributor_id: str
    request_id: str
    shipment_event_id: UUID
    lines: dict[str, int]
    at: datetime


class RotationReturned(RotationShipment):
    """The units of the rotation's return shipment that arrived."""

    __slots__ = ()


class RotationExchanged(RotationShipment):
    """The units of the rotation's exchange order that shipped."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class RotationCancelled:
    """An accepted rotation withdrawn: by whom (actor, role), when and why."""

    distributor_id: str
    request_id: str
    event_id: UUID
    actor_id: str
    role: str
    at: datetime
    reason: str


RotationFact = RotationDecided | RotationReturned | RotationExchanged | RotationCancelled
