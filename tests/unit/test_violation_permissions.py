"""Who may take which step on a pricing violation: the matrix, its messages, and the aggregate
enforcing it before its state."""

from __future__ import annotations

from typing import Any

import pytest

from domain.roles import Role
from domain.violation_lifecycle import (
    Action,
    NotAllowed,
    ViolationStatus,
    check_allowed,
    is_allowed,
)
from tests.unit.violation_cases import (
    DIST,
    T1,
    T3,
    detected,
    in_status,
)

# --- permissions ---------------------------------------------------------------------------

MATRIX: list[tuple[str, str | None, str, bool]] = [
    # role, actor's distributor, action, allowed on a violation of D01
    ("distributor", "D01", "acknowledge", True),
    ("distributor", "D01", "dispute", True),
    ("distributor", "D01", "resolve", False),
    ("distributor", "D02", "acknowledge", False),
    ("distributor", "D02", "dispute", False),
    ("distributor", "D02", "resolve", False),
    ("distributor", None, "acknowledge", False),
    ("admin", None, "acknowledge", True),
    ("admin", None, "dispute", True),
    ("admin", None, "resolve", True),
    ("channel_manager", None, "acknowledge", False),
    ("channel_manager", None, "dispute", False),
    ("channel_manager", None, "resolve", False),
    ("auditor", None, "acknowledge", False),
    ("auditor", None, "dispute", False),
    ("auditor", None, "resolve", False),
    ("monitor", None, "acknowledge", False),
    ("monitor", None, "dispute", False),
    ("monitor", None, "resolve", False),
    ("superuser", None, "resolve", False),
]


@pytest.mark.parametrize(("role", "actor_distributor", "action", "allowed"), MATRIX)
def test_permission_matrix(
    role: str, actor_distributor: str | None, action: str, allowed: bool
) -> None:
    assert is_allowed(role, actor_distributor, "D01", action) is allowed
    if allowed:
        check_allowed(role, actor_distributor, "D01", action)
    else:
        with pytest.raises(NotAllowed):
            check_allowed(role, actor_distributor, "D01", action)


def test_the_matrix_covers_every_role_and_action() -> None:
    covered = {(role, action) for role, _, action, _ in MATRIX}
    assert {(r.value, a.value) for r in Role for a in Action} <= covered


def test_permission_messages() -> None:
    with pytest.raises(NotAllowed, match="role auditor may not resolve a violation"):
        check_allowed("auditor", None, "D01", "resolve")
    with pytest.raises(NotAllowed, match="distributor 'D02' may not dispute a violation of"):
        check_allowed("distributor", "D02", "D01", "dispute")
    with pytest.raises(NotAllowed, match="unknown role 'root'"):
        check_allowed("root", None, "D01", "resolve")
    assert issubclass(NotAllowed, PermissionError)
    with pytest.raises(ValueError, match="unknown violation action"):
        check_allowed("admin", None, "D01", "delete")


@pytest.mark.parametrize(
    "who",
    [
        {"actor_id": "cm", "role": "channel_manager"},
        {"actor_id": "au", "role": "auditor"},
        {"actor_id": "x", "role": "distributor", "actor_distributor_id": "D02"},
    ],
)
def test_the_aggregate_enforces_permissions_too(who: dict[str, Any]) -> None:
    v = detected()
    v.collect_events()
    with pytest.raises(NotAllowed):
        v.acknowledge(at=T1, reason="ok", **who)
    with pytest.raises(NotAllowed):
        v.resolve(at=T1, reason="ok", resolution="waived", **who)
    assert v.status is ViolationStatus.DETECTED and v.collect_events() == []


def test_a_distributor_cannot_resolve_its_own_violation() -> None:
    v = detected()
    with pytest.raises(NotAllowed, match="role distributor may not resolve"):
        v.resolve(at=T1, reason="we fixed it", resolution="waived", **DIST)


def test_permission_is_checked_before_the_state() -> None:
    v = in_status(ViolationStatus.RESOLVED)
    with pytest.raises(NotAllowed):  # not IllegalTransition: says nothing about the state
        v.acknowledge(at=T3, reason="ok", actor_id="x", role="auditor")
