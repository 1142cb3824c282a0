"""A sale judged before its floor's rate, on the real broker and PostgreSQL (docs/DESIGN.md,
"Late rates"): a EUR sale of an SKU whose floor is 20.00 USD is unpriced while no EUR>USD
rate is known for its day; the rate arrives through the rates topic, and the distributor's
next sale judges the waiting one by that floor at that rate (16.00 EUR at 1.25): a major
violation, its rate in the lineage, and the scorecard's verdict revised to it. The auditor's
replay of the raw topics (every rate read first) derives the same. With a short wait
(`CHANNELFLOW_RATE_WAIT_DAYS`), a rate recorded after the wait ran out comes too late: the
sale is final as unpriced."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from infra.eventstore import open_audit_log
from schemas.agreements import ExchangeRatePublished
from schemas.events import SaleReported
from streams.audit.trail import history
from streams.config import Settings
from tests.integration.conftest import WorkerProcess, wait_until
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


def rate_of_july_10() -> ExchangeRatePublished:
    return ExchangeRatePublished(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="erp", from_currency="EUR",
        to_currency="USD", rate=Decimal("1.25"), effective_date=date(2026, 7, 10),
        rate_source="ECB", published_at=SOLD,
    )  # fmt: skip


def listed_x(settings: Settings, worker: WorkerProcess) -> None:
    january = datetime(2026, 1, 1, tzinfo=UTC)  # announced then: in effect on July 10
    listed = price(1, "12.50", "20.00", january, sku="SKU-L", published_at=january)
    publish_reference_first(settings, worker, [*catalog("SKU-L"), listed])


def test_the_next_sale_after_a_late_rate_judges_the_waiting_one(settings, worker_factory, pg_dsn):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    worker = worker_factory(eventstore_url=pg_dsn).start()
    listed_x(settings, worker)
    publish(settings, [sale(distributor, "T1", "15.00")])
    unpriced = f"/api/unpriced?distributor_id={distributor}"
    wait_until(lambda: worker.get(unpriced)["rows"] or None, 60, "T1 unpriced")

    rate = rate_of_july_10()
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

    live = matches_replay(settings, worker)
    # the scorecard's verdict revised: T1 and T2 accepted in the month(s) they were sent
    # (July's card holds their movements only), T1 a major violation there
    months = [
        c for c in live["scorecards"]
        if c["distributor_id"] == distributor and "Q" not in c["period"] and c["accepted_lines"]
    ]  # fmt: skip
    assert sum(c["accepted_lines"] for c in months) == 2
    assert sum(Decimal(c["major_per_1000"]) * c["accepted_lines"] for c in months) == 1000


#: the wait for a rate in the second test: seconds of recorded (broker append) time
WAIT_SECONDS = 2.0


def test_a_rate_recorded_after_the_wait_ran_out_comes_too_late(settings, worker_factory):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    days = WAIT_SECONDS / 86400
    waiting = settings.model_copy(update={"rate_wait_days": days})
    worker = worker_factory(env={"CHANNELFLOW_RATE_WAIT_DAYS": repr(days)}).start()
    listed_x(settings, worker)
    publish(settings, [sale(distributor, "T1", "15.00")])
    unpriced = f"/api/unpriced?distributor_id={distributor}"
    wait_until(lambda: worker.get(unpriced)["rows"] or None, 60, "T1 unpriced")
    time.sleep(WAIT_SECONDS + 1)  # the rate is recorded after T1's wait ran out
    publish(settings, [rate_of_july_10()])
    publish(settings, [sale(distributor, "T2", "17.00")])
    [row] = wait_until(
        lambda: [r for r in worker.get(unpriced)["rows"] if r["rate_wait_expired_at"]] or None,
        60, "T1's wait ended",
    )  # fmt: skip
    assert row["transaction_id"] == "T1"
    assert worker.get(f"/api/violations?distributor_id={distributor}")["rows"] == []
    matches_replay(waiting, worker)
