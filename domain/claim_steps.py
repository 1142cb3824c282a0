"""The steps of a debit claim's lifecycle: statuses, actions, which step leads where, who
may take it, and the record of a step taken (`domain.claim_lifecycle` applies them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from domain.lifecycle_steps import RecordedStep, check_role_may
from domain.permissions import Permission


class ClaimStatus(StrEnum):
    SUBMITTED = "submitted"
    VALIDATED = "validated"
    DISPUTED = "disputed"
    APPROVED = "approved"
    PAID = "paid"
    CREDITED = "credited"


class ClaimAction(StrEnum):
    APPROVE = "approve"
    PAY = "pay"
    CREDIT = "credit"
    DISPUTE = "dispute"
    RESOLVE = "resolve"


#: (current status, action) -> the status it leads to; anything else is illegal
TRANSITIONS: Final[Mapping[tuple[ClaimStatus, ClaimAction], ClaimStatus]] = {
    (ClaimStatus.VALIDATED, ClaimAction.APPROVE): ClaimStatus.APPROVED,
    (ClaimStatus.APPROVED, ClaimAction.PAY): ClaimStatus.PAID,
    (ClaimStatus.APPROVED, ClaimAction.CREDIT): ClaimStatus.CREDITED,
    (ClaimStatus.VALIDATED, ClaimAction.DISPUTE): ClaimStatus.DISPUTED,
    (ClaimStatus.APPROVED, ClaimAction.DISPUTE): ClaimStatus.DISPUTED,
    (ClaimStatus.DISPUTED, ClaimAction.RESOLVE): ClaimStatus.VALIDATED,
}

#: the permission each step needs; a dispute is the distributor's answer to a decision
STEP_PERMISSIONS: Final[Mapping[ClaimAction, Permission]] = {
    ClaimAction.APPROVE: Permission.ADMINISTER,
    ClaimAction.PAY: Permission.ADMINISTER,
    ClaimAction.CREDIT: Permission.ADMINISTER,
    ClaimAction.DISPUTE: Permission.SUBMIT,
    ClaimAction.RESOLVE: Permission.ADMINISTER,
}

DISPUTE_OUTCOMES: Final = ("upheld", "rejected")


class IllegalTransition(ValueError):
    """The claim's state does not allow the step (HTTP 409)."""


class NotAllowed(PermissionError):
    """The actor's role may not take the step on this claim (HTTP 403)."""


def check_allowed(
    role: str, actor_distributor_id: str | None, claim_distributor_id: str, action: ClaimAction
) -> None:
    """Raise `NotAllowed` unless `role` may take `action` on a claim of that distributor."""
    check_role_may(
        role,
        actor_distributor_id,
        claim_distributor_id,
        (STEP_PERMISSIONS[action],),
        f"{action} a claim",
        NotAllowed,
    )


@dataclass(frozen=True, slots=True)
class ClaimStep(RecordedStep[ClaimAction, ClaimStatus]):
    """One recorded claim step, with its payment / credit reference, amount and lines."""

    reference: str | None = None
    amount: Decimal | None = None
    lines: tuple[int, ...] = ()
