"""What the stores keep of a claim for reading it back: its lines' latest decisions.

One `ClaimRecord` per claim, by `distributor_id|claim_id`: bounded by the claim's lines
(a claim carries at most `schemas.claims.MAX_CLAIM_LINES`). A line waiting for its POS
line has its `pending_pos` decision; a line a reversal reopened has none until decided
again; a line waiting for its cap's grant has none yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.claim_rules import LineDecision

_MONEY = ("amount_claimed", "amount_accepted", "book_cost", "authorized_cost")
_IDS = ("pos_event_id", "price_event_id", "authorization_event_id", "agreement_event_id")


def record_key(distributor_id: str, claim_id: str) -> str:
    return f"{distributor_id}|{claim_id}"


def decision_to_json(decision: LineDecision) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(decision, name) for name in decision.__dataclass_fields__}
    for name in (*_MONEY, *_IDS):
        value = data[name]
        data[name] = None if value is None else str(value)
    data["reasons"] = list(decision.reasons)
    if data["agreement_event_id"] is None:  # stored as before unless an agreement priced it
        del data["agreement_event_id"]
    return data


def decision_from_json(data: dict[str, Any]) -> LineDecision:
    values = dict(data)
    for name in _MONEY:
        values[name] = None if values[name] is None else Decimal(values[name])
    for name in _IDS:  # a decision stored before lines named their agreement has none
        value = values.get(name)
        values[name] = None if value is None else UUID(value)
    values["reasons"] = tuple(values["reasons"])
    return LineDecision(**values)


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """A claim as submitted and its lines as decided so far (by line_no)."""

    distributor_id: str
    claim_id: str
    event_id: str
    recorded_at: str
    line_nos: tuple[int, ...]
    decisions: dict[int, LineDecision] = field(default_factory=dict)
    #: the claim's own input, by position (a redelivery changes nothing)
    applied: dict[str, int] = field(default_factory=dict)

    def decided(self, decisions: Iterable[LineDecision]) -> ClaimRecord:
        return replace(self, decisions={**self.decisions, **{d.line_no: d for d in decisions}})

    def reopened(self, line_nos: Iterable[int]) -> ClaimRecord:
        gone = set(line_nos)
        kept = {number: d for number, d in self.decisions.items() if number not in gone}
        return replace(self, decisions=kept)

    def to_json(self) -> dict[str, Any]:
        return {
            "d": self.distributor_id,
            "c": self.claim_id,
            "ev": self.event_id,
            "at": self.recorded_at,
            "lines": list(self.line_nos),
            "decided": [decision_to_json(d) for _, d in sorted(self.decisions.items())],
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClaimRecord:
        decisions = (decision_from_json(d) for d in data["decided"])
        return cls(
            data["d"],
            data["c"],
            data["ev"],
            data["at"],
            tuple(data["lines"]),
            {d.line_no: d for d in decisions},
            dict(data["applied"]),
        )
