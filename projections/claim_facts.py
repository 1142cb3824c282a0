"""The audit facts of a debit claim: submitted, lines decided, lines reopened.

All are recorded in the claim's `DebitClaim` aggregate (its id derived from
(distributor_id, claim_id)), so a redelivered or replayed one changes nothing: a claim is
submitted once; a line's decision is recorded while it has none or waits for its POS line
(a decision given stands until a reversal reopens it); a line is reopened only while its
decision was taken against the reversed POS line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.claim_rules import LineDecision
from schemas.claims import DebitClaimSubmitted


@dataclass(frozen=True, slots=True)
class ClaimSubmitted:
    """A claim as recorded (the broker's time); its decisions follow as `ClaimLinesDecided`."""

    distributor_id: str
    claim_id: str
    claim: DebitClaimSubmitted
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimLinesDecided:
    """Decisions on lines of one claim, with the ids of what decided each."""

    distributor_id: str
    claim_id: str
    decisions: tuple[LineDecision, ...]


@dataclass(frozen=True, slots=True)
class ClaimLinesReopened:
    """A replacement report reversed the POS line (`pos_event_id`) these accepted lines
    held: only a decision taken against that line is reopened."""

    distributor_id: str
    claim_id: str
    line_nos: tuple[int, ...]
    pos_event_id: UUID
    replacement_event_id: UUID
    at: datetime


ClaimFact = ClaimSubmitted | ClaimLinesDecided | ClaimLinesReopened
