"""The lifecycle of a pricing violation (the aggregate: domain/violation.py): its statuses,
the steps between them, and who may take each step.

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

Roles (the table in domain/permissions.py): a distributor may acknowledge or dispute its
own violations only; admin (vendor pricing / finance) may do every step and is the only
role that resolves; channel_manager and auditor read but never change a violation.
`check_allowed` is pure so the HTTP and CLI layers can call it before loading anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from domain.lifecycle_steps import RecordedStep, allowed_from, check_role_may
from domain.permissions import Permission


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

#: The state each action asks for (used in error messages): where its transitions lead.
REQUESTED: Final[Mapping[Action, ViolationStatus]] = {
    action: status for (_, action), status in TRANSITIONS.items()
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
        allowed = allowed_from(TRANSITIONS, current)
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
    check_role_may(
        role,
        actor_distributor_id,
        violation_distributor_id,
        (STEP_PERMISSIONS[step],),
        f"{step} a violation",
        NotAllowed,
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
class Step(RecordedStep[Action, ViolationStatus]):
    """One recorded violation step, and how a resolve closed it."""

    resolution: Resolution | None = None
    amount: Decimal | None = None


def _action(action: str) -> Action:
    try:
        return Action(action)
    except ValueError:
        choices = ", ".join(str(a) for a in Action)
        raise ValueError(f"unknown violation action {action!r} (use {choices})") from None
