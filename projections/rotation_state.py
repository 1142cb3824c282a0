"""The stored state of stock rotations: each request as decided, each accepted rotation's
return still awaited, and each distributor's units reserved by them
(`projections/rotation_inputs.py` writes them)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class RotationRecord:
    """One request as decided, and what came back of its return (the read side's row)."""

    distributor_id: str
    request_id: str
    event_id: str
    requested_at: str  # ISO, UTC
    recorded_at: str  # ISO, UTC
    returns: dict[str, int]
    orders: dict[str, int]
    #: `domain.rotation_lifecycle.decision_summary`, ids as strings
    decision: dict[str, Any]
    received: dict[str, int] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)
    #: the cancellation of an accepted rotation (`rotation_cancels.cancellation_of`), once
    cancelled: dict[str, str] | None = None
    #: units of the exchange order shipped so far, per sku
    exchanged: dict[str, int] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """accepted / rejected as decided; returned once every returned unit came back;
        cancelled once withdrawn."""
        if self.cancelled is not None:
            return "cancelled"
        if self.decision["status"] == "accepted" and self.received == self.returns:
            return "returned"
        return str(self.decision["status"])

    def with_units(self, exchange: bool, sku: str, units: int) -> RotationRecord:
        """The record with more units of its return received (`exchange`: of its exchange
        order shipped)."""
        if exchange:
            return replace(
                self, exchanged={**self.exchanged, sku: self.exchanged.get(sku, 0) + units}
            )
        return replace(self, received={**self.received, sku: self.received.get(sku, 0) + units})

    @property
    def content(self) -> tuple[Any, ...]:
        return (self.requested_at, self.returns, self.orders)

    def to_json(self) -> dict[str, Any]:
        return {
            "k": [self.distributor_id, self.request_id, self.event_id],
            "at": [self.requested_at, self.recorded_at],
            "returns": self.returns,
            "orders": self.orders,
            "decision": self.decision,
            "received": self.received,
            "applied": self.applied,
            "cancelled": self.cancelled,
            "exchanged": self.exchanged,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RotationRecord:
        distributor_id, request_id, event_id = data["k"]
        requested_at, recorded_at = data["at"]
        return cls(
            distributor_id, request_id, event_id, requested_at, recorded_at,
            dict(data["returns"]), dict(data["orders"]), data["decision"],
            dict(data["received"]), dict(data["applied"]), data.get("cancelled"),
            dict(data.get("exchanged", {})),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ExpectedReturn:
    """An accepted rotation's shipment still awaited, its return (`ROT-RET-…`) or its
    exchange order (`ROT-EXC-…`): sku -> units still due. Keyed by
    distributor_id|shipment_id, so a shipment line finds it with one read."""

    distributor_id: str
    request_id: str
    due: dict[str, int]
    applied: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"k": [self.distributor_id, self.request_id], "due": self.due,
                "applied": self.applied}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExpectedReturn:
        distributor_id, request_id = data["k"]
        return cls(distributor_id, request_id, dict(data["due"]), dict(data["applied"]))


@dataclass(frozen=True, slots=True)
class Reservations:
    """Per sku, the units a distributor's accepted rotations still expect back: no longer
    available to another request. Bounded by the skus it holds."""

    distributor_id: str
    units: dict[str, int] = field(default_factory=dict)

    def plus(self, lines: dict[str, int]) -> Reservations:
        """The reservations with `lines` added (negative: released); zeros dropped."""
        units = dict(self.units)
        for sku, count in lines.items():
            units[sku] = units.get(sku, 0) + count
        return Reservations(self.distributor_id, {k: n for k, n in units.items() if n > 0})

    def to_json(self) -> dict[str, Any]:
        return {"d": self.distributor_id, "units": self.units}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reservations:
        return cls(data["d"], dict(data["units"]))


def record_key(distributor_id: str, request_id: str) -> str:
    return f"{distributor_id}|{request_id}"
