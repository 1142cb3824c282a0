"""What every audited lifecycle (violations, debit claims, stock rotations) checks the
same way before it records a step: may this role take it on this distributor's record,
does the state allow it, and does the step say who, when and why.

Each lifecycle keeps its own statuses, actions, transition table and error classes (the
API maps them to 403 / 409); these helpers take them as arguments.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from domain.permissions import Permission, allows, within_scope
from domain.roles import Role
from domain.timeutil import utc

ActionT = TypeVar("ActionT")
StatusT = TypeVar("StatusT")


@dataclass(frozen=True, slots=True)
class RecordedStep(Generic[ActionT, StatusT]):
    """One recorded lifecycle step: what, from and to which state, who, role, when, why."""

    action: ActionT
    from_status: StatusT
    to_status: StatusT
    actor_id: str
    role: str
    actor_distributor_id: str | None
    at: datetime
    reason: str


def check_role_may(
    role: str,
    actor_distributor_id: str | None,
    owner_distributor_id: str,
    permissions: Collection[Permission],
    what: str,
    denied: type[PermissionError],
) -> None:
    """Raise `denied` unless `role` holds one of `permissions` and may act for the owner.

    `what` names the step and its record, e.g. "dispute a claim"; an unknown role may
    nothing.
    """
    try:
        known = Role(role)
    except ValueError:
        raise denied(f"unknown role {role!r} may not {what}") from None
    if not any(allows(known, permission) for permission in permissions):
        raise denied(f"role {known} may not {what}")
    if not within_scope(known, actor_distributor_id, owner_distributor_id):
        raise denied(
            f"distributor {actor_distributor_id!r} may not {what} of "
            f"distributor {owner_distributor_id!r}"
        )


def allowed_from(
    transitions: Mapping[tuple[StatusT, ActionT], StatusT], current: StatusT
) -> list[str]:
    """The actions `transitions` allows from `current`, sorted (for error messages)."""
    return sorted(str(action) for (status, action) in transitions if status == current)


def check_who_when_why(
    action: str,
    actor_id: str,
    reason: str,
    at: datetime,
    last_at: datetime | None,
    *,
    reason_kind: str = "reason",
) -> tuple[datetime, str]:
    """The step's time in UTC and its stripped reason, or ValueError: every step names its
    actor and a reason, and never goes back before the previous step (`last_at`)."""
    if not actor_id or not actor_id.strip():
        raise ValueError("every step needs the id of the actor who took it")
    if not reason or not reason.strip():
        raise ValueError(f"{action} needs a non-empty {reason_kind}")
    moment = utc(at)
    if last_at is not None and moment < last_at:
        raise ValueError(
            f"{action} at {moment.isoformat()} is before the previous step at {last_at.isoformat()}"
        )
    return moment, reason.strip()
