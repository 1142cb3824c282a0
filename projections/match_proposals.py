"""The match queue: a distributor's reseller id the matcher could not decide alone.

When a distributor onboards a reseller with a country and the id means no master yet, the
matcher (`domain.party_matching.decide` over the blocking index) decides. In the review
band the id becomes a `Proposal`: the candidate masters with their scores and the reasons,
best first, for a person to confirm (a `ResellerAliasMapped` by that person) or reject (a
`ResellerMatchRejected`). One proposal per (distributor, reseller id), so the queue is
bounded by the resellers; a closed one stays, with who closed it, why and when, and is not
reopened by a later onboarding of the same id.

Pure: functions return new values; an input at or below the value's applied position
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal

from projections.positions import Position, advance

Status = Literal["open", "confirmed", "rejected"]
#: the candidates a proposal keeps, best first
MAX_PROPOSED: Final = 5


def proposal_key(distributor_id: str, alias_id: str) -> str:
    return f"{distributor_id}|{alias_id}"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A master proposed for the alias: its score and why."""

    master_id: str
    score: Decimal
    reasons: tuple[str, ...]

    def to_json(self) -> list[Any]:
        return [self.master_id, str(self.score), list(self.reasons)]

    @classmethod
    def from_json(cls, data: list[Any]) -> Candidate:
        master_id, score, reasons = data
        return cls(master_id, Decimal(score), tuple(reasons))


@dataclass(frozen=True, slots=True)
class Closing:
    """How a proposal was closed: confirmed (mapped to `master_id`) or rejected."""

    status: Literal["confirmed", "rejected"]
    changed_by: str
    reason: str
    changed_at: datetime
    event_id: str
    master_id: str | None = None

    def to_json(self) -> list[Any]:
        return [
            self.status, self.changed_by, self.reason, self.changed_at.isoformat(),
            self.event_id, self.master_id,
        ]  # fmt: skip

    @classmethod
    def from_json(cls, data: list[Any]) -> Closing:
        status, by, reason, at, event_id, master_id = data
        return cls(status, by, reason, datetime.fromisoformat(at), event_id, master_id)


@dataclass(frozen=True, slots=True)
class Proposal:
    """A reseller id in the review band: the masters it may mean, and how it was closed."""

    distributor_id: str
    alias_id: str
    proposed_at: datetime
    #: the onboarding that raised (or last refreshed) it
    event_id: str
    candidates: tuple[Candidate, ...]
    closing: Closing | None = None
    applied: dict[str, int] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return "open" if self.closing is None else self.closing.status

    def to_json(self) -> dict[str, Any]:
        return {
            "d": self.distributor_id,
            "a": self.alias_id,
            "at": self.proposed_at.isoformat(),
            "ev": self.event_id,
            "c": [candidate.to_json() for candidate in self.candidates],
            "x": None if self.closing is None else self.closing.to_json(),
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Proposal:
        closing = None if data["x"] is None else Closing.from_json(data["x"])
        return cls(
            data["d"], data["a"], datetime.fromisoformat(data["at"]), data["ev"],
            tuple(Candidate.from_json(item) for item in data["c"]), closing,
            dict(data["applied"]),
        )  # fmt: skip


def propose(
    state: Proposal | None,
    distributor_id: str,
    alias_id: str,
    candidates: tuple[Candidate, ...],
    at: datetime,
    event_id: str,
    position: Position | None,
) -> Proposal | None:
    """The proposal raised (or refreshed: a later onboarding may name the reseller
    better) by an onboarding; a closed one stays as it is. None: nothing changes."""
    applied = advance({} if state is None else state.applied, position)
    if applied is None or (state is not None and state.closing is not None):
        return None
    if state is not None and state.event_id == event_id:
        return None  # a resend
    return Proposal(
        distributor_id, alias_id, at, event_id, candidates[:MAX_PROPOSED], None, applied
    )


def close(state: Proposal, closing: Closing, position: Position | None) -> Proposal | None:
    """The open proposal closed; None: nothing changes (closed already, or applied)."""
    applied = advance(state.applied, position)
    if applied is None or state.closing is not None:
        return None
    return replace(state, closing=closing, applied=applied)
