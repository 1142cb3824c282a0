"""The stored state of stock rotations: each request as decided, and each distributor's
accepted rotations still awaiting their return (`projections/rotation_inputs.py` writes
them)."""

from __future__ import annotations

from dataclasses import dataclass, field
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

    @property
    def status(self) -> str:
        """accepted / rejected as decided; returned once every returned unit came back."""
        if self.decision["status"] == "accepted" and self.received == self.returns:
            return "returned"
        return str(self.decision["status"])

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
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RotationRecord:
        distributor_id, request_id, event_id = data["k"]
        requested_at, recorded_at = data["at"]
        return cls(
            distributor_id, request_id, event_id, requested_at, recorded_at,
            dict(data["returns"]), dict(data["orders"]), data["decision"],
            dict(data["received"]), dict(data["applied"]),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class OpenReturns:
    """A distributor's accepted rotations awaiting their return shipment: shipment id ->
    (request id, sku -> units still due). Bounded by the rotations open at once."""

    distributor_id: str
    due: dict[str, tuple[str, dict[str, int]]] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)

    def reserved(self) -> dict[str, int]:
        """Units per sku that accepted rotations still expect back (not available)."""
        units: dict[str, int] = {}
        for _, lines in self.due.values():
            for sku, count in lines.items():
                units[sku] = units.get(sku, 0) + count
        return units

    def to_json(self) -> dict[str, Any]:
        due = {shipment: list(entry) for shipment, entry in self.due.items()}
        return {"d": self.distributor_id, "due": due, "applied": self.applied}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OpenReturns:
        due = {
            shipment: (request, dict(lines)) for shipment, (request, lines) in data["due"].items()
        }
        return cls(data["d"], due, dict(data["applied"]))


def record_key(distributor_id: str, request_id: str) -> str:
    return f"{distributor_id}|{request_id}"
