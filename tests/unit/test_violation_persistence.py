"""A pricing violation through an eventsourcing application and the audit log: round trip,
the same sale recorded twice."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError

from domain.violation import PricingViolation
from domain.violation_lifecycle import (
    IllegalTransition,
    Resolution,
    ViolationStatus,
)
from infra.eventstore import open_audit_log
from projections.price_rules import violation_row
from tests.unit.violation_cases import (
    ADMIN,
    SOLD,
    T1,
    T2,
    T3,
    detected,
    dispute,
    fact,
    resolve,
)

# --- persistence ---------------------------------------------------------------------------


def _worked(v: PricingViolation) -> PricingViolation:
    dispute(v, T1)
    v.resolve(at=T2, reason="upheld", resolution="credited", amount=Decimal("7.50"), **ADMIN)
    return v


@pytest.mark.parametrize(
    "make_app",
    [
        lambda: Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        lambda: open_audit_log("sqlite:///:memory:"),
    ],
    ids=["popo", "sqlite"],
)
def test_round_trip_through_an_application(make_app: Callable[[], Application[UUID]]) -> None:
    app = make_app()
    v = detected()
    app.save(v)
    loaded: PricingViolation = app.repository.get(v.id)
    assert loaded.status is ViolationStatus.DETECTED
    assert (loaded.sold_at, loaded.unit_price, loaded.severity) == (SOLD, Decimal("12.50"), "major")

    dispute(loaded, T1)
    app.save(loaded)
    again: PricingViolation = app.repository.get(v.id)
    assert again.status is ViolationStatus.DISPUTED
    again.resolve(at=T2, reason="upheld", resolution="credited", amount=Decimal("7.50"), **ADMIN)
    app.save(again)

    final: PricingViolation = app.repository.get(v.id)
    assert final.version == 3
    assert final.status is ViolationStatus.RESOLVED
    assert final.resolution is Resolution.CREDITED
    assert final.resolution_amount == Decimal("7.50")
    assert final.steps == _worked(detected()).steps
    assert [s.at for s in final.steps] == [T1, T2]
    with pytest.raises(IllegalTransition):
        resolve(final, T3)
    row = violation_row(fact(), final.status, final.resolution)
    assert (row["status"], row["resolution"]) == ("resolved", "credited")


def test_recording_the_same_sale_twice_is_one_violation() -> None:
    app = open_audit_log("sqlite:///:memory:")
    app.save(detected())
    with pytest.raises(IntegrityError):
        app.save(detected())  # a replay derives the same id: the store refuses a second
    assert app.repository.get(detected().id).version == 1
