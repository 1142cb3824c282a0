"""A sale judged before its floor's rate, on the real broker and PostgreSQL (docs/DESIGN.md,
"Late rates"): a EUR sale of an SKU whose floor is 20.00 USD is unpriced while no EUR>USD
rate is known for its day; the rate arrives through the rates topic, and the distributor's
next sale judges the waiting one by that floor at that rate (16.00 EUR at 1.25): a major
violation, its rate in the lineage. The auditor's replay of the raw topics (every rate read
first) derives the same."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from infra.eventstore import open_audit_log
from schemas.agreements import ExchangeRatePublished
from schemas.events import SaleReported
from streams.audit.trail import history
from tests.integration.conftest import wait_until
from tests.integration.helpers import catalog, matches_replay, publish, publish_reference_first
from tests.unit.price_events import price

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SOLD = datetime(2026, 7, 10, 12, tzinfo=UTC)


def sale(distributor: str, txn: str, unit_price: str) -> SaleReported:
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="kafka", distributor_id=distributor,
        transaction_id=txn, reseller_id="R1", sku="SKU-L", quantity=1,
        unit_price=Decimal(unit_price), currency="EUR", sold_at=SOLD,
    )  # fmt: skip


def test_the_next_sale_after_a_late_rate_judges_the_waiting_one(settings, worker_factory, pg_dsn):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    worker = worker_factory(eventstore_url=pg_dsn).start()
    january = datetime(2026, 1, 1, tzinfo=UTC)  # announced then: in effect on July 10
    listed = price(1, "12.50", "20.00", january, sku="SKU-L", published_at=january)
    publish_reference_first(settings, worker, [*catalog("SKU-L"), listed])
    publish(settings, [sale(distributor, "T1", "15.00")])
    unpriced = f"/api/unpriced?distributor_id={distributor}"
    wait_until(lambda: worker.get(unpriced)["rows"] or None, 60, "T1 unpriced")

    rate = ExchangeRatePublished(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="erp", from_currency="EUR",
        to_currency="USD", rate=Decimal("1.25"), effective_date=date(2026, 7, 10),
        rate_source="ECB", published_at=SOLD,
    )  # fmt: skip
    publish(settings, [rate])
    publish(settings, [sale(distributor, "T2", "17.00")])  # compliant: 17.00 >= 16.00 EUR
    violations = f"/api/violations?distributor_id={distributor}"
    [row] = wait_until(lambda: worker.get(violations)["rows"] or None, 60, "T1 judged")
    assert (row["transaction_id"], row["floor_price"], row["severity"]) == ("T1", "16.00", "major")
    assert worker.get(unpriced)["rows"] == []
    # the rate in the violation's recorded lineage
    audit = open_audit_log(pg_dsn)
    [detected] = wait_until(
        lambda: history(audit, "violation", f"{distributor}/T1")["events"], 60, "T1 recorded"
    )
    assert detected["data"]["rate_event_id"] == str(rate.event_id)

    matches_replay(settings, worker)
