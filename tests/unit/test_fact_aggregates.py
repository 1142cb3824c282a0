"""Which aggregate an audit fact becomes, and what a repeat changes (fact_aggregates.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from domain.price_protection import PriceProtection
from domain.reconciliation import InventoryReconciliation
from projections.fact_aggregates import aggregate_id, new_aggregate, revised
from projections.inventory import Reconciliation
from projections.price_protection_claims import PriceProtectionClaim, claim_id_for

DAY = datetime(2026, 7, 6, tzinfo=UTC)


def claim(units: int) -> PriceProtectionClaim:
    amount = Decimal("2.00") * units
    return PriceProtectionClaim(
        claim_id_for("D01", "SKU-C", DAY), "D01", "SKU-C", DAY, units,
        Decimal("10.00"), Decimal("8.00"), amount, "USD", UUID(int=7, version=4),
    )  # fmt: skip


def test_a_claim_is_recorded_under_the_id_of_its_business_key() -> None:
    aggregate = new_aggregate(claim(5))
    assert isinstance(aggregate, PriceProtection)
    assert aggregate.id == aggregate_id(claim(5)) == claim_id_for("D01", "SKU-C", DAY)


def test_a_withdrawn_claim_never_recorded_is_not_recorded() -> None:
    assert new_aggregate(claim(0)) is None


def test_a_claim_is_revised_only_when_its_units_changed() -> None:
    recorded = new_aggregate(claim(5))
    assert revised(recorded, claim(5)) is None
    changed = revised(recorded, claim(3))
    assert changed is recorded and changed is not None
    assert (changed.units, changed.amount) == (3, Decimal("6.00"))


def test_a_reconciliation_is_recorded_once() -> None:
    fact = Reconciliation("D01", "SKU-1", DAY, 10, 9, 1, False)
    recorded = new_aggregate(fact)
    assert isinstance(recorded, InventoryReconciliation)
    assert revised(recorded, dataclasses.replace(fact, on_hand=11)) is None
