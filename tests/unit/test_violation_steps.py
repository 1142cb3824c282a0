"""The PricingViolation aggregate: who, role, when and why every step records, and the steps
refused for a missing or wrong one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from domain.violation import PricingViolation
from domain.violation_lifecycle import (
    Action,
    Resolution,
    Step,
    ViolationStatus,
)
from tests.unit.violation_cases import (
    ADMIN,
    DIST,
    T1,
    T2,
    acknowledge,
    detected,
    dispute,
    resolve,
)

# --- who, role, when, why ------------------------------------------------------------------


#: the steps of a violation disputed by D01 (at T1, written in UTC+2) and resolved by an admin
DISPUTED_THEN_RESOLVED = (
    Step(
        Action.DISPUTE,
        ViolationStatus.DETECTED,
        ViolationStatus.DISPUTED,
        "d01-ops",
        "distributor",
        "D01",
        T1,
        "quoted a special price",
    ),
    Step(
        Action.RESOLVE,
        ViolationStatus.DISPUTED,
        ViolationStatus.RESOLVED,
        "pricing-ann",
        "admin",
        None,
        T2,
        "quote not on file",
        Resolution.PENALIZED,
        Decimal("37.50"),
    ),
)


def disputed_then_resolved() -> PricingViolation:
    """A detected violation disputed by D01 at T1 written in UTC+2, then penalized by an admin."""
    v = detected()
    plus2 = timezone(timedelta(hours=2))
    v.dispute(
        actor_id="d01-ops",
        role="distributor",
        actor_distributor_id="D01",
        at=T1.astimezone(plus2),
        reason="  quoted a special price  ",
    )
    v.resolve(
        actor_id="pricing-ann",
        role="admin",
        at=T2,
        reason="quote not on file",
        resolution="penalized",
        amount=Decimal("37.50"),
    )
    return v


def test_who_role_when_why_are_recorded_in_the_events() -> None:
    v = disputed_then_resolved()
    created, disputed, resolved = v.collect_events()
    assert type(disputed).__name__ == "Disputed"
    assert type(resolved).__name__ == "Resolved"
    d: Any = disputed
    assert (d.actor_id, d.role, d.actor_distributor_id, d.at, d.reason) == (
        "d01-ops",
        "distributor",
        "D01",
        T1,
        "quoted a special price",
    )
    assert d.at.utcoffset() == timedelta(0)
    r: Any = resolved
    assert (r.actor_id, r.role, r.at, r.reason, r.resolution, r.amount) == (
        "pricing-ann",
        "admin",
        T2,
        "quote not on file",
        "penalized",
        Decimal("37.50"),
    )
    assert [e.originator_version for e in (created, disputed, resolved)] == [1, 2, 3]
    assert v.steps == DISPUTED_THEN_RESOLVED


def test_pending_events_before_collection() -> None:
    v = detected()
    acknowledge(v)
    assert [type(e).__name__ for e in v.pending_events] == ["Detected", "Acknowledged"]


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(reason: str) -> None:
    v = detected()
    with pytest.raises(ValueError, match="acknowledge needs a non-empty reason"):
        v.acknowledge(at=T1, reason=reason, **DIST)
    assert v.status is ViolationStatus.DETECTED


def test_an_actor_is_required() -> None:
    with pytest.raises(ValueError, match="id of the actor"):
        detected().resolve(actor_id=" ", role="admin", at=T1, reason="x", resolution="waived")


def test_a_naive_time_is_refused() -> None:
    naive = datetime(2026, 7, 3, 10)  # noqa: DTZ001
    with pytest.raises(ValueError, match="naive"):
        detected().acknowledge(at=naive, reason="ok", **DIST)


def test_a_step_before_the_previous_one_is_refused() -> None:
    v = detected()
    dispute(v, T2)
    with pytest.raises(ValueError, match="before the previous step"):
        resolve(v, T1)
    resolve(v, T2)  # the same instant is fine
    assert v.status is ViolationStatus.RESOLVED


def test_unknown_resolution_and_bad_amounts() -> None:
    v = detected()
    with pytest.raises(ValueError, match="unknown resolution 'forgiven'"):
        resolve(v, resolution="forgiven")
    with pytest.raises(ValueError, match="non-negative"):
        v.resolve(at=T1, reason="x", resolution="penalized", amount=Decimal("-1"), **ADMIN)
    with pytest.raises(ValueError, match="waived violation carries no amount"):
        v.resolve(at=T1, reason="x", resolution="waived", amount=Decimal("1"), **ADMIN)
    assert v.status is ViolationStatus.DETECTED and v.collect_events()[-1].originator_version == 1
