"""Pricing violations for the tests: a detected one, the steps taken on it, one in each status."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.violation import PricingViolation
from domain.violation_lifecycle import (
    Action,
    ViolationStatus,
)
from projections.price_rules import Severity, ViolationDetected, violation_id_for

SOLD = datetime(2026, 7, 2, 9, 30, tzinfo=UTC)
T1 = datetime(2026, 7, 3, 10, tzinfo=UTC)
T2 = T1 + timedelta(days=1)
T3 = T2 + timedelta(days=1)


def fact(distributor_id: str = "D01", transaction_id: str = "TX-1") -> ViolationDetected:
    return ViolationDetected(
        violation_id=violation_id_for(distributor_id, transaction_id),
        distributor_id=distributor_id,
        transaction_id=transaction_id,
        reseller_id="R01",
        sku="SKU-1",
        sold_at=SOLD,
        quantity=3,
        unit_price=Decimal("12.50"),
        floor_price=Decimal("15.00"),
        currency="USD",
        severity=Severity.MAJOR,
        event_id=UUID(int=7, version=4),
        scope="list",
        price_event_id=UUID(int=1, version=4),
    )


def detected(distributor_id: str = "D01", transaction_id: str = "TX-1") -> PricingViolation:
    return PricingViolation(**dataclasses.asdict(fact(distributor_id, transaction_id)))


ADMIN: dict[str, Any] = {"actor_id": "pricing-ann", "role": "admin"}
DIST: dict[str, Any] = {"actor_id": "d01-ops", "role": "distributor", "actor_distributor_id": "D01"}


def acknowledge(v: PricingViolation, at: datetime = T1, **who: Any) -> None:
    v.acknowledge(at=at, reason="price keyed wrong at the branch", **(who or DIST))


def dispute(v: PricingViolation, at: datetime = T1, **who: Any) -> None:
    v.dispute(at=at, reason="quoted a special price by the rep", **(who or DIST))


def resolve(v: PricingViolation, at: datetime = T2, resolution: str = "penalized") -> None:
    v.resolve(at=at, reason="second offence this quarter", resolution=resolution, **ADMIN)


Command = Callable[[PricingViolation], None]
COMMANDS: dict[Action, Command] = {
    Action.ACKNOWLEDGE: lambda v: acknowledge(v, T3, **ADMIN),
    Action.DISPUTE: lambda v: dispute(v, T3, **ADMIN),
    Action.RESOLVE: lambda v: resolve(v, T3),
}


def in_status(status: ViolationStatus) -> PricingViolation:
    v = detected()
    if status is ViolationStatus.ACKNOWLEDGED:
        acknowledge(v)
    elif status is ViolationStatus.DISPUTED:
        dispute(v)
    elif status is ViolationStatus.RESOLVED:
        resolve(v, T1)
    assert v.status is status
    return v
