"""A pricing violation as an event-sourced audit aggregate, and who may move it along.

The id derives from the sale key (distributor_id, transaction_id), so a redelivered,
resent or replayed sale never opens a second violation for the same line.

Lifecycle, as a vendor pricing team works a violation notice::

    detected ──acknowledge──► acknowledged ──resolve──► resolved (waived | credited | penalized)
       │  └────────────resolve─────────────────────────►  ▲
       └──dispute──► disputed ──resolve────────────────────┘
                        └──acknowledge──► acknowledged

- detected → acknowledged: the distributor (or pricing on its behalf) accepts the finding.
- detected → disputed: the distributor contests it (e.g. a special price it was quoted,
  a mis-keyed line); pricing reviews the evidence.
- disputed → acknowledged: the dispute is withdrawn, or rejected and accepted.
- acknowledged → resolved, disputed → resolved: pricing/finance closes it as waived
  (dispute upheld, first offence), credited (the difference was credited back / the
  line corrected) or penalized (a penalty or rebate deduction applied).
- detected → resolved: pricing/finance may close a violation the distributor never
  answered (its response window lapsed) or an obvious false positive, without forcing a
  pro-forma acknowledgement first.
- acknowledged → disputed is not allowed: an acknowledgement is an admission; a
  distributor who changes its mind asks pricing, who resolves (e.g. waived).
- Nothing follows resolved: a closed finding is never reopened or rewritten; a mistake is
  corrected by a new business action (a credit), recorded elsewhere.
- Repeating a step (acknowledging twice) is illegal too: every recorded step is a
  decision somebody made.

Every step records who (actor id, and for a distributor its distributor id), the role, when
(an explicit `at`: the aggregate never reads a clock) and why (a non-empty reason).
An illegal step raises `IllegalTransition` (HTTP 409); a step the actor's role does not
permit raises `NotAllowed` (HTTP 403). Permission is checked before the transition, so a
caller without the right learns nothing about the violation's state.

Roles (the table in domain/permissions.py): a distributor may acknowledge or dispute its
own violations only; admin (vendor pricing / finance) may do every step and is the only
role that resolves; channel_manager and auditor read but never change a violation.
`check_allowed` is pure so the HTTP and CLI layers can call it before loading anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.identity import derived_id
from domain.permissions import Permission, allows, within_scope
from domain.roles import Role
from domain.timeutil import utc


class ViolationStatus(StrEnum):
    DETECTED = "detected"
    ACKNOWLEDGED = "acknowledged"
    DISPUTED = "disputed"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    WAIVED = "waived"
    CREDITED = "credited"
    PENALIZED = "penalized"


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    DISPUTE = "dispute"
    RESOLVE = "resolve"


#: (current status, action) -> the status the action leads to; anything else is illegal.
TRANSITIONS: Final[Mapping[tuple[ViolationStatus, Action], ViolationStatus]] = {
    (ViolationStatus.DETECTED, Action.ACKNOWLEDGE): ViolationStatus.ACKNOWLEDGED,
    (ViolationStatus.DETECTED, Action.DISPUTE): ViolationStatus.DISPUTED,
    (ViolationStatus.DETECTED, Action.RESOLVE): ViolationStatus.RESOLVED,
    (ViolationStatus.DISPUTED, Action.ACKNOWLEDGE): ViolationStatus.ACKNOWLEDGED,
    (ViolationStatus.DISPUTED, Action.RESOLVE): ViolationStatus.RESOLVED,
    (ViolationStatus.ACKNOWLEDGED, Action.RESOLVE): ViolationStatus.RESOLVED,
}

#: The state each action asks for (used in error messages).
REQUESTED: Final[Mapping[Action, ViolationStatus]] = {
    Action.ACKNOWLEDGE: ViolationStatus.ACKNOWLEDGED,
    Action.DISPUTE: ViolationStatus.DISPUTED,
    Action.RESOLVE: ViolationStatus.RESOLVED,
}

#: The permission each step needs (who holds it: domain/permissions.py).
STEP_PERMISSIONS: Final[Mapping[Action, Permission]] = {
    Action.ACKNOWLEDGE: Permission.ACKNOWLEDGE_VIOLATION,
    Action.DISPUTE: Permission.DISPUTE_VIOLATION,
    Action.RESOLVE: Permission.RESOLVE_VIOLATION,
}


class IllegalTransition(ValueError):
    """The violation's current state does not allow the requested step (HTTP 409)."""

    def __init__(self, current: ViolationStatus, action: Action) -> None:
        self.current = current
        self.action = action
        self.requested = REQUESTED[action]
        allowed = sorted(str(a) for (status, a) in TRANSITIONS if status == current)
        hint = f"allowed from {current}: {', '.join(allowed)}" if allowed else "it is final"
        super().__init__(
            f"illegal transition: cannot {action} a violation that is {current} "
            f"({current} → {self.requested} is not allowed; {hint})"
        )


class NotAllowed(PermissionError):
    """The actor's role may not take this step on this violation (HTTP 403)."""


def check_allowed(
    role: str,
    actor_distributor_id: str | None,
    violation_distributor_id: str,
    action: str,
) -> None:
    """Raise `NotAllowed` unless `role` may take `action` on a violation of that distributor.

    Pure: needs no aggregate, so it can run before anything is loaded. An unknown role is
    not allowed anything; an unknown action is a ValueError (a caller bug, not a denial).
    """
    step = _action(action)
    try:
        known = Role(role)
    except ValueError:
        raise NotAllowed(f"unknown role {role!r} may not {step} a violation") from None
    if not allows(known, STEP_PERMISSIONS[step]):
        raise NotAllowed(f"role {known} may not {step} a violation")
    if not within_scope(known, actor_distributor_id, violation_distributor_id):
        raise NotAllowed(
            f"distributor {actor_distributor_id!r} may not {step} a violation of "
            f"distributor {violation_distributor_id!r}"
        )


def is_allowed(
    role: str,
    actor_distributor_id: str | None,
    violation_distributor_id: str,
    action: str,
) -> bool:
    """`check_allowed` as a yes/no answer (e.g. to show or hide a button)."""
    try:
        check_allowed(role, actor_distributor_id, violation_distributor_id, action)
    except NotAllowed:
        return False
    return True


def next_status(current: str, action: str) -> ViolationStatus:
    """The status `action` leads to from `current`, or `IllegalTransition`."""
    status = ViolationStatus(current)
    step = _action(action)
    try:
        return TRANSITIONS[(status, step)]
    except KeyError:
        raise IllegalTransition(status, step) from None


def allowed_actions(current: str) -> tuple[Action, ...]:
    """The actions the lifecycle allows from `current` (regardless of role)."""
    status = ViolationStatus(current)
    return tuple(action for action in Action if (status, action) in TRANSITIONS)


@dataclass(frozen=True, slots=True)
class Step:
    """One recorded lifecycle step: what, from and to which state, who, role, when, why."""

    action: Action
    from_status: ViolationStatus
    to_status: ViolationStatus
    actor_id: str
    role: str
    actor_distributor_id: str | None
    at: datetime
    reason: str
    resolution: Resolution | None = None
    amount: Decimal | None = None


class PricingViolation(Aggregate):
    """A sale line below the floor in effect, and its handling.

    Create it with the fields of `projections.price_rules.ViolationDetected`
    (`PricingViolation(**dataclasses.asdict(fact))`); `violation_id` must be the id derived
    from the sale key.
    """

    @staticmethod
    def create_id(distributor_id: str, transaction_id: str, **_: Any) -> UUID:
        return derived_id("violation", distributor_id, transaction_id)

    @event("Detected")
    def __init__(
        self,
        violation_id: UUID,
        distributor_id: str,
        transaction_id: str,
        reseller_id: str,
        sku: str,
        sold_at: datetime,
        quantity: int,
        unit_price: Decimal,
        floor_price: Decimal,
        currency: str,
        severity: str,
        event_id: UUID,
        scope: str,
        price_event_id: UUID,
    ) -> None:
        if violation_id != self.id:
            raise ValueError(
                f"violation id {violation_id} is not the one derived from the sale key "
                f"({distributor_id}, {transaction_id}): {self.id}"
            )
        self.distributor_id = distributor_id
        self.transaction_id = transaction_id
        self._judged(
            reseller_id, sku, sold_at, quantity, unit_price, floor_price, currency, severity,
            event_id, scope, price_event_id,
        )  # fmt: skip
        self.status = ViolationStatus.DETECTED
        self.resolution: Resolution | None = None
        self.resolution_amount: Decimal | None = None
        self.steps: tuple[Step, ...] = ()

    @event("Revised")
    def revise(
        self,
        reseller_id: str,
        sku: str,
        sold_at: datetime,
        quantity: int,
        unit_price: Decimal,
        floor_price: Decimal,
        currency: str,
        severity: str,
        event_id: UUID,
        scope: str,
        price_event_id: UUID,
    ) -> None:
        """The sale key's line as a replacement report corrected it, judged again: its
        facts replace the replaced line's (kept in this aggregate's history); the
        lifecycle (status, steps) carries on."""
        self._judged(
            reseller_id, sku, sold_at, quantity, unit_price, floor_price, currency, severity,
            event_id, scope, price_event_id,
        )  # fmt: skip

    def _judged(
        self,
        reseller_id: str,
        sku: str,
        sold_at: datetime,
        quantity: int,
        unit_price: Decimal,
        floor_price: Decimal,
        currency: str,
        severity: str,
        event_id: UUID,
        scope: str,
        price_event_id: UUID,
    ) -> None:
        """The judged sale line's facts, as detected or revised."""
        self.reseller_id = reseller_id
        self.sku = sku
        self.sold_at = sold_at
        self.quantity = quantity
        self.unit_price = unit_price
        self.floor_price = floor_price
        self.currency = currency
        self.severity = str(severity)
        self.event_id = event_id
        self.scope = str(scope)
        self.price_event_id = price_event_id

    @property
    def violation_id(self) -> UUID:
        return self.id

    @property
    def last_step_at(self) -> datetime | None:
        return self.steps[-1].at if self.steps else None

    # --- commands: check, then record ----------------------------------------------------

    def acknowledge(
        self,
        *,
        actor_id: str,
        role: str,
        at: datetime,
        reason: str,
        actor_distributor_id: str | None = None,
    ) -> None:
        """The finding is accepted (detected or disputed → acknowledged)."""
        self._check(Action.ACKNOWLEDGE, actor_id, role, actor_distributor_id, at, reason)
        self._acknowledged(actor_id, str(role), actor_distributor_id, utc(at), reason.strip())

    def dispute(
        self,
        *,
        actor_id: str,
        role: str,
        at: datetime,
        reason: str,
        actor_distributor_id: str | None = None,
    ) -> None:
        """The finding is contested (detected → disputed)."""
        self._check(Action.DISPUTE, actor_id, role, actor_distributor_id, at, reason)
        self._disputed(actor_id, str(role), actor_distributor_id, utc(at), reason.strip())

    def resolve(
        self,
        *,
        actor_id: str,
        role: str,
        at: datetime,
        reason: str,
        resolution: str,
        amount: Decimal | None = None,
        actor_distributor_id: str | None = None,
    ) -> None:
        """Closed for good as waived, credited or penalized (`amount`: the money involved)."""
        self._check(Action.RESOLVE, actor_id, role, actor_distributor_id, at, reason)
        try:
            outcome = Resolution(resolution)
        except ValueError:
            choices = ", ".join(str(r) for r in Resolution)
            raise ValueError(f"unknown resolution {resolution!r} (use {choices})") from None
        if amount is not None:
            if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
                raise ValueError(f"resolution amount must be a non-negative Decimal: {amount!r}")
            if outcome is Resolution.WAIVED:
                raise ValueError("a waived violation carries no amount")
        self._resolved(
            actor_id,
            str(role),
            actor_distributor_id,
            utc(at),
            reason.strip(),
            str(outcome),
            amount,
        )

    def _check(
        self,
        action: Action,
        actor_id: str,
        role: str,
        actor_distributor_id: str | None,
        at: datetime,
        reason: str,
    ) -> None:
        check_allowed(role, actor_distributor_id, self.distributor_id, action)
        next_status(self.status, action)
        if not actor_id or not actor_id.strip():
            raise ValueError("every step needs the id of the actor who took it")
        if not reason or not reason.strip():
            raise ValueError(f"{action} needs a non-empty reason")
        moment = utc(at)
        last = self.last_step_at
        if last is not None and moment < last:
            raise ValueError(
                f"{action} at {moment.isoformat()} is before the previous step "
                f"at {last.isoformat()}"
            )

    # --- events: what happened (they also run on replay, so they never validate) ---------

    @event("Acknowledged")
    def _acknowledged(
        self,
        actor_id: str,
        role: str,
        actor_distributor_id: str | None,
        at: datetime,
        reason: str,
    ) -> None:
        self._step(Action.ACKNOWLEDGE, actor_id, role, actor_distributor_id, at, reason)

    @event("Disputed")
    def _disputed(
        self,
        actor_id: str,
        role: str,
        actor_distributor_id: str | None,
        at: datetime,
        reason: str,
    ) -> None:
        self._step(Action.DISPUTE, actor_id, role, actor_distributor_id, at, reason)

    @event("Resolved")
    def _resolved(
        self,
        actor_id: str,
        role: str,
        actor_distributor_id: str | None,
        at: datetime,
        reason: str,
        resolution: str,
        amount: Decimal | None,
    ) -> None:
        outcome = Resolution(resolution)
        self._step(
            Action.RESOLVE, actor_id, role, actor_distributor_id, at, reason, outcome, amount
        )
        self.resolution = outcome
        self.resolution_amount = amount

    def _step(
        self,
        action: Action,
        actor_id: str,
        role: str,
        actor_distributor_id: str | None,
        at: datetime,
        reason: str,
        resolution: Resolution | None = None,
        amount: Decimal | None = None,
    ) -> None:
        target = TRANSITIONS[(self.status, action)]
        step = Step(
            action=action,
            from_status=self.status,
            to_status=target,
            actor_id=actor_id,
            role=role,
            actor_distributor_id=actor_distributor_id,
            at=at,
            reason=reason,
            resolution=resolution,
            amount=amount,
        )
        self.steps = (*self.steps, step)
        self.status = target


def _action(action: str) -> Action:
    try:
        return Action(action)
    except ValueError:
        choices = ", ".join(str(a) for a in Action)
        raise ValueError(f"unknown violation action {action!r} (use {choices})") from None
