"""A claim that no longer stands is revised to zero, and verify tells withdrawn from forged."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from infra.eventstore import open_audit_log
from projections.inventory import Reconciliation
from projections.price_protection_claims import PriceProtectionClaim, claim_id_for
from schemas.codec import encode_event
from schemas.events import PriceChanged, ProductDefined, ShipmentRecorded
from streams.audit.verify import audit_differences
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import Input

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


def test_a_distributor_holding_stock_that_sends_nothing_after_a_drop_is_owed_the_claim() -> None:
    """Issue 13, item 11: the claim was withheld until the distributor had an event dated
    on or after the drop. Stock at effective_from is what is owed, quiet or not."""
    at = datetime(2026, 7, 1, tzinfo=UTC)

    def priced(n: int, cost: str, effective: datetime) -> PriceChanged:
        return PriceChanged(
            event_id=UUID(int=n), occurred_at=effective, recorded_at=effective, source="erp",
            sku="A", distributor_cost=Decimal(cost), floor_price=Decimal("10.00"),
            currency="USD", effective_from=effective,
        )  # fmt: skip

    shipped = datetime(2026, 7, 2, tzinfo=UTC)
    events = [
        ProductDefined(event_id=UUID(int=1), occurred_at=at, source="erp", sku="A", base_unit="EA"),
        priced(2, "8.00", at),
        ShipmentRecorded(
            event_id=UUID(int=3),
            occurred_at=shipped,
            recorded_at=shipped,
            source="erp",
            shipment_id="S1",
            distributor_id="D1",
            sku="A",
            quantity=10,
            unit_price=Decimal("8.00"),
            currency="USD",
            shipped_at=shipped,
        ),
        priced(4, "7.00", datetime(2026, 8, 1, tzinfo=UTC)),
    ]
    as_of = datetime(2026, 8, 31, tzinfo=UTC)
    channel = EmbeddedChannel()
    channel.feed(
        (Input(encode_event(e), None, "file", None, n) for n, e in enumerate(events)), as_of
    )
    assert channel.snapshot(as_of)["price_protection"] == [
        {
            "distributor_id": "D1",
            "sku": "A",
            "effective_from": "2026-08-01T00:00:00Z",
            "units": 10,
            "old_cost": "8.00",
            "new_cost": "7.00",
            "amount": "10.00",
        }
    ]
    (recorded,) = [channel.audit.claim("D1", "A", datetime(2026, 8, 1, tzinfo=UTC))]
    assert (recorded.units, recorded.amount) == (10, Decimal("10.00"))
