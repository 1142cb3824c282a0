"""The permissions table (domain/permissions.py): role × permission, and the scope rule."""

from __future__ import annotations

import pytest

from domain.permissions import (
    Permission,
    allows,
    is_scoped,
    may_read,
    metrics_only,
    submittable_events,
    within_scope,
)
from domain.roles import Role


@pytest.mark.parametrize(
    ("role", "granted"),
    [
        (
            Role.DISTRIBUTOR,
            {Permission.SUBMIT, Permission.ACKNOWLEDGE_VIOLATION, Permission.DISPUTE_VIOLATION},
        ),
        (
            Role.CHANNEL_MANAGER,
            {Permission.READ_CHANNEL, Permission.MATCH_RESELLERS, Permission.READ_METRICS},
        ),
        (Role.AUDITOR, {Permission.READ_CHANNEL, Permission.READ_AUDIT, Permission.READ_METRICS}),
        (Role.ADMIN, set(Permission)),
        (Role.MONITOR, {Permission.READ_METRICS}),
    ],
)
def test_each_role_is_granted_exactly_its_row_of_the_table(
    role: Role, granted: set[Permission]
) -> None:
    assert {permission for permission in Permission if allows(role, permission)} == granted


def test_only_the_monitor_reads_the_metrics_alone() -> None:
    assert [role for role in Role if metrics_only(role)] == [Role.MONITOR]


def test_only_the_distributor_is_scoped_to_its_own_data() -> None:
    assert [role for role in Role if is_scoped(role)] == [Role.DISTRIBUTOR]
    assert within_scope(Role.DISTRIBUTOR, "D01", "D01")
    assert not within_scope(Role.DISTRIBUTOR, "D01", "D02")
    assert within_scope(Role.ADMIN, None, "D02")


@pytest.mark.parametrize(
    ("role", "own", "wanted", "expected"),
    [
        (Role.DISTRIBUTOR, "D01", "D01", True),
        (Role.DISTRIBUTOR, "D01", "D02", False),
        (Role.DISTRIBUTOR, "D01", None, False),  # channel-wide
        (Role.CHANNEL_MANAGER, None, "D02", True),
        (Role.CHANNEL_MANAGER, None, None, True),
        (Role.AUDITOR, None, None, True),
        (Role.ADMIN, None, "D01", True),
        (Role.MONITOR, None, None, False),
        (Role.MONITOR, None, "D01", False),
    ],
)
def test_reads_follow_the_table_and_the_scope_rule(
    role: Role, own: str | None, wanted: str | None, expected: bool
) -> None:
    assert may_read(role, own, wanted) is expected


def test_submittable_event_types_by_role() -> None:
    assert submittable_events(Role.DISTRIBUTOR) == {
        "SaleReported",
        "InventoryCounted",
        "ResellerOnboarded",
        "ReportSubmitted",
        "StockRotationRequested",
        "DebitClaimSubmitted",
    }
    admin = submittable_events(Role.ADMIN)
    assert {
        "PriceChanged",
        "ShipmentRecorded",
        "RebateProgramDefined",
        "DebitClaimSubmitted",
    } <= admin
    assert "LineRejected" not in admin
    assert submittable_events(Role.CHANNEL_MANAGER) == frozenset()
    assert submittable_events(Role.AUDITOR) == frozenset()
    assert submittable_events(Role.MONITOR) == frozenset()
