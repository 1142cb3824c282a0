"""A claim that no longer stands is revised to zero, and verify tells withdrawn from forged."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from infra.eventstore import open_audit_log
from projections.inventory import Reconciliation
from projections.pricing import PriceProtectionClaim, claim_id_for
from streams.verify import audit_differences

DAY = datetime(2026, 7, 6, tzinfo=UTC)


def claim(units: int) -> PriceProtectionClaim:
    return PriceProtectionClaim(
        claim_id_for("D01", "SKU-C", DAY), "D01", "SKU-C", DAY, units,
        Decimal("10.00"), Decimal("8.00"), Decimal(2 * units), "USD", UUID(int=7),
    )  # fmt: skip


def test_a_zero_claim_records_nothing_new() -> None:
    audit = open_audit_log("sqlite:///:memory:")
    assert not audit.record(claim(0))
    assert audit.aggregate_ids() == []


def test_a_recorded_claim_that_no_longer_stands_is_revised_to_zero() -> None:
    audit = open_audit_log("sqlite:///:memory:")
    assert audit.record(claim(6))
    assert audit.record(claim(0))
    withdrawn = audit.claim("D01", "SKU-C", DAY)
    assert (withdrawn.units, withdrawn.amount) == (0, Decimal(0))
    assert not audit.record(claim(0))  # already withdrawn: nothing more


def test_verify_accepts_a_withdrawn_claim_the_replay_does_not_derive() -> None:
    recorded = open_audit_log("sqlite:///:memory:")
    recorded.record(claim(6))
    recorded.record(claim(0))
    replayed = open_audit_log("sqlite:///:memory:")
    assert audit_differences(replayed, recorded) == (0, [])


def test_verify_reports_a_recorded_fact_the_replay_does_not_derive() -> None:
    recorded = open_audit_log("sqlite:///:memory:")
    recorded.record(claim(6))
    recorded.record(Reconciliation("D01", "SKU-A", DAY, 10, 9, 1, False))
    replayed = open_audit_log("sqlite:///:memory:")
    replayed.record(Reconciliation("D01", "SKU-A", DAY, 10, 9, 1, False))
    verified, differences = audit_differences(replayed, recorded)
    assert verified == 1
    assert [d.where.split()[0] for d in differences] == ["PriceProtection"]
    assert differences[0].replayed is None
    assert audit_differences(replayed, recorded, complete=False) == (1, [])
