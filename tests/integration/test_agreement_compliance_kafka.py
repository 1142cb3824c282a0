"""An agreement with a monthly reporting schedule and a volume commitment, reports and a
shipment through Kafka, a worker on PostgreSQL: compliance on the distributor's calendar
and the commitment over the API, and the replay equal to live.

The broker stamps `recorded_at`, so the agreement is recorded today: the weeks that ended
before today stay on the seed's weekly calendar (an agreement never rewrites an ended
period), the month holding today and the ones after it are monthly. "Today" is the day the
broker records the agreement on, so the test's own times stay on it (`the_day_s_time`)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.calendar_periods import month_after
from projections.commitment_reads import commitment_rows
from projections.snapshot import compliance_by_distributor, quality_rows
from schemas.events import Envelope, ReportSubmitted, ShipmentRecorded
from streams.timeparse import parse_as_of
from tests.integration.conftest import wait_until
from tests.integration.helpers import (
    catalog,
    matches_replay,
    publish,
    publish_reference_first,
    replayed_channel,
)
from tests.unit.agreement_events import signed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SKU = "SKU-CM"
MONTHLY: dict[str, Any] = {"frequency": "monthly", "due_day": 10, "grace_days": 2}
COMMITMENT: dict[str, Any] = {
    "period": "month", "basis": "sell_in", "measure": "units", "minimum": 100,
}  # fmt: skip


def report(distributor: str, report_id: str, first: date, last: date, at: datetime) -> Envelope:
    return ReportSubmitted(
        event_id=uuid.uuid4(), occurred_at=at, source="edi867", distributor_id=distributor,
        report_id=report_id, period_start=first, period_end=last, line_count=0,
        submitted_at=at,
    )  # fmt: skip


def the_day_s_time() -> datetime:
    """A few minutes ago, on the day the broker will record the agreement: never before
    today's midnight (five minutes past it, "a few minutes ago" was yesterday, while the
    broker recorded the agreement today), and within two minutes of the next midnight the
    test waits for it (the agreement would be recorded tomorrow)."""
    wall = datetime.now(UTC)
    midnight = datetime.combine(wall.date() + timedelta(days=1), datetime.min.time(), UTC)
    if midnight - wall < timedelta(minutes=2):
        time.sleep((midnight - wall).total_seconds() + 1)
        wall = datetime.now(UTC)
    today = datetime.combine(wall.date(), datetime.min.time(), UTC)
    return max(wall - timedelta(minutes=5), today)


def test_compliance_and_commitments_on_the_agreement_equal_the_replay(
    settings, worker_factory, pg_dsn
):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    now = the_day_s_time()
    today = now.date()
    this_month = today.replace(day=1)
    next_month = month_after(this_month)
    monday = today - timedelta(days=today.weekday())
    old_week = monday - timedelta(weeks=3)
    agreement = signed(
        distributor_id=distributor, signed_at=now, occurred_at=now, term_start=this_month,
        term_end=month_after(this_month, 12) - timedelta(days=1), reporting=MONTHLY,
        commitments=[COMMITMENT],
    )  # fmt: skip
    shipped = ShipmentRecorded(
        event_id=uuid.uuid4(), occurred_at=now, source="erp", shipment_id="S-1",
        distributor_id=distributor, sku=SKU, quantity=150, unit_price=Decimal("10.00"),
        currency="USD", shipped_at=now,
    )  # fmt: skip
    worker = worker_factory(eventstore_url=pg_dsn).start()
    publish_reference_first(settings, worker, catalog(SKU))
    publish(settings, [agreement])
    wait_until(lambda: worker.get(f"/api/agreements?distributor_id={distributor}")["rows"], 60,
               "the agreement")  # fmt: skip
    publish(
        settings,
        [
            shipped,
            # from this week's Monday at the earliest: last week, still weekly (it began
            # before the term), may hold the 1st, and a report starting in it answers it
            report(distributor, "R-NOW", max(this_month, monday), today,
                   now + timedelta(minutes=1)),
            report(distributor, "R-OLD", old_week, old_week + timedelta(days=6),
                   now + timedelta(minutes=2)),
        ],
    )  # fmt: skip

    # the 13th of the month after next: the month after this one is past its grace
    as_of = month_after(next_month).replace(day=13).isoformat()
    path = f"/api/compliance?distributor_id={distributor}&as_of={as_of}"
    rows = wait_until(lambda: len(worker.get(path)["rows"]) == 5 and worker.get(path)["rows"],
                      60, "the five periods")  # fmt: skip
    assert [(r["frequency"], r["period_start"], r["status"], r["report_id"]) for r in rows] == [
        ("weekly", old_week.isoformat(), "late", "R-OLD"),
        ("weekly", (old_week + timedelta(weeks=1)).isoformat(), "missing", None),
        ("weekly", (old_week + timedelta(weeks=2)).isoformat(), "missing", None),
        ("monthly", this_month.isoformat(), "on_time", "R-NOW"),
        ("monthly", next_month.isoformat(), "missing", None),
    ]
    assert rows[0]["agreement_event_id"] is None
    assert rows[3]["agreement_event_id"] == str(agreement.event_id)
    assert rows[3]["due"] == f"{next_month.replace(day=10).isoformat()}T23:59:59Z"

    # the reports (sales topic) and the shipment (shipments topic) are read side by side:
    # the commitment's row stands on the agreement alone, so it is read once the shipment is
    stocked = f"/api/inventory?distributor_id={distributor}"
    wait_until(lambda: [r["expected_on_hand"] for r in worker.get(stocked)["rows"]] == [150], 60,
               "the shipment applied")  # fmt: skip
    commitments = f"/api/commitments?distributor_id={distributor}"
    found = wait_until(lambda: worker.get(f"{commitments}&as_of={today}")["rows"], 60,
                       "the commitment")  # fmt: skip
    assert [(r["period"], r["volume"], r["status"], r["closed"]) for r in found] == [
        (this_month.strftime("%Y-%m"), "150", "met", False)
    ]
    later = worker.get(f"{commitments}&as_of={next_month.replace(day=15)}")["rows"]
    assert [(r["period"], r["volume"], r["status"], r["closed"]) for r in later] == [
        (this_month.strftime("%Y-%m"), "150", "met", True),
        (next_month.strftime("%Y-%m"), "0", "open", False),
    ]

    live = matches_replay(settings, worker)  # quality, reports and commitments included
    assert any(row["distributor_id"] == distributor for row in live["commitments"])
    replay = replayed_channel(settings)
    when = parse_as_of(as_of)
    weeks = compliance_by_distributor(replay.stores, when)[distributor]
    assert [{"distributor_id": distributor, **period.row()} for period in weeks] == rows
    (quality,) = [
        q for q in quality_rows(replay.stores, when) if q["distributor_id"] == distributor
    ]
    assert (quality["periods_missing"], quality["missing_by_frequency"]) == (
        3,
        {"weekly": 2, "monthly": 1},
    )
    assert commitment_rows(replay.stores, parse_as_of(str(today)), distributor) == found
