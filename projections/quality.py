"""Data quality per distributor: what happened to every line it sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from projections.positions import Position, advance


@dataclass(frozen=True, slots=True)
class QualityState:
    distributor_id: str
    accepted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "d": self.distributor_id,
            "ok": self.accepted,
            "dup": self.duplicates,
            "conf": self.conflicts,
            "rej": self.rejected,
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QualityState:
        return cls(data["d"], data["ok"], data["dup"], data["conf"], data["rej"], data["applied"])


def record_verdicts(
    state: QualityState,
    accepted: int,
    duplicates: int,
    conflicts: int,
    position: Position | None,
) -> QualityState:
    """Count lines' verdicts (one message's, under the position of the last counted one;
    redeliveries are never counted)."""
    applied = advance(state.applied, position)
    if applied is None:
        return state
    # built directly, not with dataclasses.replace: this runs once per message
    return QualityState(
        state.distributor_id,
        state.accepted + accepted,
        state.duplicates + duplicates,
        state.conflicts + conflicts,
        state.rejected,
        applied,
    )


def record_rejection(state: QualityState, reason: str, position: Position | None) -> QualityState:
    applied = advance(state.applied, position)
    if applied is None:
        return state
    rejected = dict(state.rejected)
    rejected[reason] = rejected.get(reason, 0) + 1
    return QualityState(
        state.distributor_id, state.accepted, state.duplicates, state.conflicts, rejected, applied
    )


@dataclass(frozen=True, slots=True)
class DeadLetterCount:
    """Dead letters of one reason from one scope (a distributor, or a source partition)."""

    scope: str
    reason: str
    count: int = 0
    applied: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "reason": self.reason,
            "n": self.count,
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeadLetterCount:
        return cls(data["scope"], data["reason"], data["n"], data["applied"])


def count_dead_letter(state: DeadLetterCount, position: Position | None) -> DeadLetterCount:
    applied = advance(state.applied, position)
    if applied is None:
        return state
    return DeadLetterCount(state.scope, state.reason, state.count + 1, applied)
