"""Pricing governance through Kafka and PostgreSQL: one violation per sale, claims recorded."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.price_protection import PriceProtection
from projections.price_rules import violation_id_for
from schemas.events import PriceChanged, SaleReported, ShipmentRecorded
from tests.integration.conftest import REPO, wait_until
from tests.integration.helpers import catalog, publish, publish_reference_first, stored_events

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

T0 = datetime(2026, 8, 3, 9, tzinfo=UTC)


def price(cost: str, at: datetime, announced: datetime) -> PriceChanged:
    """A price announced to distributors at `announced` (the broker records it now)."""
    return PriceChanged(
        event_id=uuid.uuid4(), occurred_at=at, source="erp", sku="SKU-P",
        distributor_cost=Decimal(cost), floor_price=Decimal("10.00"), currency="USD",
        effective_from=at, published_at=announced,
    )  # fmt: skip


def sale(distributor: str, transaction: str, unit_price: str, at: datetime) -> SaleReported:
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=at, source="kafka", distributor_id=distributor,
        transaction_id=transaction, reseller_id="R-9", sku="SKU-P", quantity=4,
        unit_price=Decimal(unit_price), currency="USD", sold_at=at,
    )  # fmt: skip


def test_a_sale_below_floor_is_one_violation_through_redelivery_restart_and_lifecycle(
    settings, worker_factory, pg_dsn
):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    below = sale(distributor, "T-1", "9.00", T0 + timedelta(hours=1))  # 10 % under: major
    violation_id = violation_id_for(distributor, "T-1")

    first = worker_factory(eventstore_url=pg_dsn).start()
    publish_reference_first(
        settings, first, [*catalog("SKU-P"), price("8.00", T0 - timedelta(days=30), T0)]
    )
    publish(settings, [below, sale(distributor, "T-2", "10.50", T0 + timedelta(hours=2))])
    rows = wait_until(lambda: first.get("/api/violations")["rows"], 60, "the violation")
    assert [(r["transaction_id"], r["severity"], r["status"]) for r in rows] == [
        ("T-1", "major", "detected")
    ]
    assert stored_events(pg_dsn, violation_id) == 1

    publish(settings, [below, below.model_copy(update={"event_id": uuid.uuid4()})])
    first.kill()
    second = worker_factory(eventstore_url=pg_dsn).start()
    publish(settings, [sale(distributor, "T-3", "10.00", T0 + timedelta(hours=3))])
    wait_until(
        lambda: (
            second.get(f"/api/quality?distributor_id={distributor}")["rows"][0]["accepted"] == 3
        ),
        60,
        "the sale after the restart",
    )
    quality = second.get(f"/api/quality?distributor_id={distributor}")["rows"][0]
    assert quality["duplicates"] == 1  # the resend; the redelivery is not counted
    assert stored_events(pg_dsn, violation_id) == 1
    assert len(second.get("/api/violations")["rows"]) == 1

    step = subprocess.run(
        [sys.executable, "-m", "streams.cli", "violation", "acknowledge", str(violation_id),
         "--role", "admin", "--actor", "pricing-alice", "--reason", "confirmed by phone",
         "--eventstore", pg_dsn],
        cwd=REPO, capture_output=True, timeout=60,
    )  # fmt: skip
    assert step.returncode == 0, step.stderr.decode()
    assert stored_events(pg_dsn, violation_id) == 2
    (row,) = second.get("/api/violations")["rows"]
    assert row["status"] == "acknowledged"


def test_a_cost_drop_records_one_price_protection_claim(settings, worker_factory, pg_dsn):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    drop_at = T0 + timedelta(days=2)
    worker = worker_factory(eventstore_url=pg_dsn).start()
    publish_reference_first(
        settings, worker, [*catalog("SKU-P"), price("8.00", T0 - timedelta(days=30), T0)]
    )
    shipment = ShipmentRecorded(
        event_id=uuid.uuid4(), occurred_at=T0, source="erp", shipment_id="S-1",
        distributor_id=distributor, sku="SKU-P", quantity=40, unit_price=Decimal("8.00"),
        currency="USD", shipped_at=T0,
    )  # fmt: skip
    publish(settings, [shipment, sale(distributor, "T-1", "12.00", T0 + timedelta(days=1))])
    # the shipments and sales topics are read side by side: a row shows either one first,
    # and a claim judged on half the stock is revised (a second event) when the other comes
    stocked = f"/api/inventory?distributor_id={distributor}"
    wait_until(lambda: [r["expected_on_hand"] for r in worker.get(stocked)["rows"]] == [36], 60,
               "the shipment and the sale applied")  # fmt: skip
    publish(settings, [price("7.55", drop_at, drop_at - timedelta(days=1))])
    publish(settings, [sale(distributor, "T-2", "12.00", drop_at + timedelta(hours=5))])

    claim_id = PriceProtection.create_id(distributor, "SKU-P", drop_at)
    wait_until(lambda: stored_events(pg_dsn, claim_id) == 1, 60, "the claim in PostgreSQL")
    (claim,) = worker.get("/api/price-protection")["rows"]
    # 40 shipped − 4 sold before the drop = 36 units × (8.00 − 7.55)
    assert (claim["units"], claim["amount"]) == (36, "16.20")
