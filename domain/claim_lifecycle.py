"""A debit claim as an event-sourced audit aggregate: its line decisions and its lifecycle.

One `DebitClaim` per claim key (distributor_id, claim_id), its id derived from it, so a
resent, redelivered or replayed claim hits the same aggregate. Lifecycle::

    submitted ──(every line decided)──► validated ──approve──► approved ──pay────► paid
        ▲                                 │    ▲                  │    └──credit──► credited
        │                                 dispute  resolve        dispute
        └──(a line reopened)──────────────┘    └── disputed ◄─────┘

- `Submitted` (creation) records the claim's lines as claimed; `LineDecided` each line's
  decision (`domain.claim_rules.LineDecision`) with the figures and the ids of the
  authorization, POS line and price that decided it. Once no line is pending the claim is
  validated. The same decision recorded again is a no-op (a replay, a redelivery).
- `LineReopened`: a replacement report reversed a POS line an accepted line held; the line
  is pending again and the claim back to submitted (an approval not yet paid is withdrawn;
  a paid or credited claim keeps its status and `outstanding` shows what to recover).
- approve (validated → approved), pay / credit (approved → paid / credited, with the
  payment's or credit note's reference), dispute (validated or approved → disputed: the
  distributor contests decisions, naming the lines) and resolve (disputed → validated,
  `upheld` or `rejected`, with the amount granted on top when upheld).

Every step records who (actor, role, the actor's distributor), when (an explicit `at`:
the aggregate never reads a clock) and why. Roles: a distributor may dispute its own
claims only; admin may take every step. A step the state does not allow raises
`IllegalTransition`, one the role does not permit `NotAllowed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.claim_rules import LineDecision, claim_aggregate_id
from domain.claim_steps import (
    DISPUTE_OUTCOMES,
    TRANSITIONS,
    ClaimAction,
    ClaimStatus,
    ClaimStep,
    IllegalTransition,
    NotAllowed,
    check_allowed,
)
from domain.currency import zero_in
from domain.lifecycle_steps import allowed_from, check_who_when_why
from domain.timeutil import utc
from schemas.claims import DebitClaimSubmitted


@dataclass(frozen=True, slots=True)
class ClaimedLine:
    """A line as the distributor claimed it."""

    line_no: int
    transaction_id: str
    sku: str
    quantity: int
    authorization_id: str
    amount_claimed: Decimal
    currency: str


class DebitClaim(Aggregate):
    """A ship-and-debit claim: what was claimed, each line's decision, and its handling."""

    @staticmethod
    def create_id(distributor_id: str, claim_id: str, **_: Any) -> UUID:
        return claim_aggregate_id(distributor_id, claim_id)

    @classmethod
    def submit(cls, claim: DebitClaimSubmitted, recorded_at: datetime) -> DebitClaim:
        """The aggregate of a claim as submitted (recorded at `recorded_at`)."""
        lines = [
            {
                "line_no": line.line_no,
                "transaction_id": line.transaction_id,
                "sku": line.sku,
                "quantity": line.quantity,
                "authorization_id": line.authorization_id,
                "amount_claimed": line.amount_claimed,
                "currency": line.currency,
            }
            for line in sorted(claim.lines, key=lambda line: line.line_no)
        ]
        return cls(
            distributor_id=claim.distributor_id,
            claim_id=claim.claim_id,
            event_id=claim.event_id,
            recorded_at=utc(recorded_at, "recorded_at"),
            lines=lines,
        )

    @event("Submitted")
    def __init__(
        self,
        distributor_id: str,
        claim_id: str,
        event_id: UUID,
        recorded_at: datetime,
        lines: list[dict[str, Any]],
    ) -> None:
        self.distributor_id = distributor_id
        self.claim_id = claim_id
        self.event_id = event_id
        self.recorded_at = recorded_at
        self.lines = {line["line_no"]: ClaimedLine(**line) for line in lines}
        self.decisions: dict[int, LineDecision] = {}
        self.status = ClaimStatus.SUBMITTED
        self.steps: tuple[ClaimStep, ...] = ()
        self.granted = zero_in({line.currency for line in self.lines.values()})
        self.settled_total: Decimal | None = None

    # --- reads ---------------------------------------------------------------------------

    @property
    def pending_lines(self) -> tuple[int, ...]:
        return tuple(
            number
            for number in sorted(self.lines)
            if number not in self.decisions or self.decisions[number].status == "pending_pos"
        )

    @property
    def _zero(self) -> Decimal:
        """Nothing in the claim's currency (two places when its lines mix currencies)."""
        return zero_in({line.currency for line in self.lines.values()})

    @property
    def total_claimed(self) -> Decimal:
        return sum((line.amount_claimed for line in self.lines.values()), self._zero)

    @property
    def total_accepted(self) -> Decimal:
        """Accepted amounts plus what upheld disputes granted."""
        decided = sum((d.amount_accepted for d in self.decisions.values()), self._zero)
        return decided + self.granted

    @property
    def outstanding(self) -> Decimal | None:
        """What the claim is worth now minus what was paid or credited (None before)."""
        return None if self.settled_total is None else self.total_accepted - self.settled_total

    # --- decisions -----------------------------------------------------------------------

    def record_decision(self, decision: LineDecision) -> bool:
        """Record one line's decision; False when it is recorded already or not this claim's."""
        if (decision.distributor_id, decision.claim_id) != (self.distributor_id, self.claim_id):
            raise ValueError(f"decision of claim {decision.claim_id!r} given to {self.claim_id!r}")
        if decision.line_no not in self.lines:
            raise ValueError(f"claim {self.claim_id!r} has no line {decision.line_no}")
        if self.decisions.get(decision.line_no) == decision:
            return False
        fields = {name: getattr(decision, name) for name in LineDecision.__dataclass_fields__}
        self._decided(decision={**fields, "reasons": list(decision.reasons)})
        return True

    def reopen_line(self, line_no: int, *, replacement_event_id: UUID, at: datetime) -> bool:
        """A reversed POS line reopens an accepted or adjusted line; False otherwise."""
        current = self.decisions.get(line_no)
        if current is None or not current.takes_units:
            return False
        self._reopened(line_no=line_no, replacement_event_id=replacement_event_id, at=utc(at))
        return True

    @event("LineDecided")
    def _decided(self, decision: dict[str, Any]) -> None:
        line = LineDecision(**{**decision, "reasons": tuple(decision["reasons"])})
        self.decisions[line.line_no] = line
        if self.status is ClaimStatus.SUBMITTED and not self.pending_lines:
            self.status = ClaimStatus.VALIDATED

    @event("LineReopened")
    def _reopened(self, line_no: int, replacement_event_id: UUID, at: datetime) -> None:
        del self.decisions[line_no]
        if self.status not in (ClaimStatus.PAID, ClaimStatus.CREDITED):
            self.status = ClaimStatus.SUBMITTED

    # --- lifecycle commands: check, then record ------------------------------------------

    def approve(
        self,
        *,
        actor_id: str,
        role: str,
        at: datetime,
        reason: str,
        actor_distributor_id: str | None = None,
    ) -> None:
        """validated → approved, at the accepted total."""
        who = self._check(ClaimAction.APPROVE, actor_id, role, actor_distributor_id, at, reason)
        self._stepped(*who, amount=self.total_accepted)

    def pay(
        self,
        *,
        actor_id: str,
        role: str,
        at: datetime,
        reference: str,
        actor_distributor_id: str | None = None,
    ) -> None:
        """approved → paid, with the payment's reference."""
        self._settle(ClaimAction.PAY, actor_id, role, actor_distributor_id, at, reference)

    def credit(
        self,
        *,
        actor_id: str,
        role: str,
        at: datetime,
        reference: str,
        actor_distributor_id: str | None = None,
    ) -> None:
        """approved → credited, with the credit note's reference."""
        self._settle(ClaimAction.CREDIT, actor_id, role, actor_distributor_id, at, reference)

    def dispute(
        self,
        *,
        actor_id: str,
        role: str,
        at: datetime,
        reason: str,
        lines: tuple[int, ...],
        actor_distributor_id: str | None = None,
    ) -> None:
        """validated / approved → disputed: the distributor contests these lines' decisions."""
        who = self._check(ClaimAction.DISPUTE, actor_id, role, actor_distributor_id, at, reason)
        unknown = sorted(set(lines) - set(self.lines))
        if not lines or unknown:
            raise ValueError(f"a dispute names lines of the claim (unknown: {unknown})")
        self._stepped(*who, lines=sorted(set(lines)))

    def resolve(
        self,
        *,
        actor_id: str,
        role: str,
        at: datetime,
        reason: str,
        outcome: str,
        granted: Decimal | None = None,
        actor_distributor_id: str | None = None,
    ) -> None:
        """disputed → validated: `upheld` (granting `granted` on top) or `rejected`."""
        who = self._check(ClaimAction.RESOLVE, actor_id, role, actor_distributor_id, at, reason)
        if outcome not in DISPUTE_OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r} (use {', '.join(DISPUTE_OUTCOMES)})")
        if granted is not None and (outcome != "upheld" or not granted.is_finite() or granted <= 0):
            raise ValueError("only an upheld dispute grants an amount, and it is positive")
        self._stepped(*who, reference=outcome, amount=granted)

    def _settle(
        self,
        action: ClaimAction,
        actor_id: str,
        role: str,
        actor_distributor_id: str | None,
        at: datetime,
        reference: str,
    ) -> None:
        who = self._check(action, actor_id, role, actor_distributor_id, at, reference)
        self._stepped(*who, reference=reference.strip(), amount=self.total_accepted)

    def _check(
        self,
        action: ClaimAction,
        actor_id: str,
        role: str,
        actor_distributor_id: str | None,
        at: datetime,
        reason: str,
    ) -> tuple[ClaimAction, str, str, str | None, datetime, str]:
        """Permission, then state, then who / when / why; the step's fields when all hold."""
        check_allowed(role, actor_distributor_id, self.distributor_id, action)
        if (self.status, action) not in TRANSITIONS:
            allowed = allowed_from(TRANSITIONS, self.status)
            raise IllegalTransition(
                f"cannot {action} claim {self.claim_id!r}: it is {self.status} "
                f"(allowed: {', '.join(allowed) or 'nothing'})"
            )
        last = self.steps[-1].at if self.steps else None
        moment, why = check_who_when_why(
            action, actor_id, reason, at, last, reason_kind="reason or reference"
        )
        return action, actor_id, str(role), actor_distributor_id, moment, why

    @event("Stepped")
    def _stepped(
        self,
        action: ClaimAction,
        actor_id: str,
        role: str,
        actor_distributor_id: str | None,
        at: datetime,
        reason: str,
        reference: str | None = None,
        amount: Decimal | None = None,
        lines: list[int] | None = None,
    ) -> None:
        step_action = ClaimAction(action)
        target = TRANSITIONS[(self.status, step_action)]
        self.steps = (
            *self.steps,
            ClaimStep(
                step_action,
                self.status,
                target,
                actor_id,
                role,
                actor_distributor_id,
                at,
                reason,
                reference,
                amount,
                tuple(lines or ()),
            ),
        )
        if step_action is ClaimAction.RESOLVE and amount is not None:
            self.granted += amount
        if step_action in (ClaimAction.PAY, ClaimAction.CREDIT):
            self.settled_total = amount
        self.status = target


__all__ = [
    "ClaimAction",
    "ClaimStatus",
    "ClaimStep",
    "ClaimedLine",
    "DebitClaim",
    "IllegalTransition",
    "NotAllowed",
]
