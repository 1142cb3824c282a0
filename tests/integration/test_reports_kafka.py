"""Reports through the real broker: a replacement nets out, rejections are dead-lettered with
their original line, and the worker's snapshot equals the replay, also after a restart."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from schemas.events import (
    DistributorTargetsSet,
    Envelope,
    LineRejected,
    RebateProgramDefined,
    ReportSubmitted,
    ResellerOnboarded,
    SaleReported,
    Tier,
)
from schemas.topics import topic_name
from tests.integration.helpers import (
    catalog,
    comparable,
    expected_snapshot,
    matches_replay,
    publish,
    publish_reference_first,
)
from tests.integration.test_dead_letters import _consume

pytestmark = pytest.mark.kafka

SOLD = datetime(2026, 8, 4, 15, tzinfo=UTC)
FIRST = datetime(2026, 8, 10, 9, tzinfo=UTC)
SECOND = datetime(2026, 8, 12, 9, tzinfo=UTC)
BAD_LINE = b"D,T9,RS1,SKU-R,,ten,,100.00,USD,2026-08-04,,R1"


def header(distributor: str, report_id: str, at: datetime, replaces: str | None = None):
    return ReportSubmitted(
        event_id=uuid.uuid4(), occurred_at=at, recorded_at=at, source="edi867",
        distributor_id=distributor, report_id=report_id, period_start=date(2026, 8, 3),
        period_end=date(2026, 8, 9), line_count=2, submitted_at=at, replaces_report_id=replaces,
    )  # fmt: skip


def line(distributor: str, txn: str, quantity: int, price: str, report_id: str, reseller: str):
    recorded = FIRST if report_id == "R1" else SECOND
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=SOLD, recorded_at=recorded, source="edi867",
        distributor_id=distributor, transaction_id=txn, reseller_id=reseller, sku="SKU-R",
        quantity=quantity, unit_price=Decimal(price), currency="USD", sold_at=SOLD,
        report_id=report_id,
    )  # fmt: skip


def channel(distributor: str) -> list[Envelope]:
    program = RebateProgramDefined(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="erp", program_id="VPA-R",
        distributor_ids=[distributor], basis="sell_through", measure="revenue",
        period="quarter", tier_mode="retroactive", currency="USD",
        tiers=[Tier(threshold=Decimal("0"), rate=Decimal("0.02"))],
    )  # fmt: skip
    joined = SOLD - timedelta(days=30)
    onboarded = [
        ResellerOnboarded(
            event_id=uuid.uuid4(),
            occurred_at=joined,
            source="api",
            distributor_id=distributor,
            reseller_id=reseller,
            name=f"{reseller} Ltd",
            onboarded_at=joined,
        )
        for reseller in ("RS1", "RS2")
    ]
    rejected = LineRejected(
        event_id=uuid.uuid4(), occurred_at=FIRST, source="csv", source_ref="week32.csv:4",
        distributor_id=distributor, reason="bad_quantity", detail="quantity: not an integer",
        original_b64=base64.b64encode(BAD_LINE).decode(), report_id="R1",
    )  # fmt: skip
    targets = DistributorTargetsSet(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="erp", distributor_id=distributor,
        period="2026-Q3", sell_through_revenue=Decimal("1000.00"), currency="USD",
        reseller_population=2, set_by="channel-ann", set_at=SOLD,
    )  # fmt: skip
    return [
        *catalog("SKU-R"),
        program,
        targets,
        *onboarded,
        header(distributor, "R1", FIRST),
        line(distributor, "T1", 3, "100.00", "R1", "RS1"),
        line(distributor, "T2", 5, "100.00", "R1", "RS2"),
        rejected,
        header(distributor, "R2", SECOND, replaces="R1"),
        line(distributor, "T1", 3, "100.00", "R2", "RS1"),
        line(distributor, "T2", 4, "90.00", "R2", "RS1"),
        line(distributor, "T3", 2, "100.00", "R2", "RS1"),
        line(distributor, "T4", 1, "100.00", "R1", "RS1"),  # late line of the replaced report
    ]


def test_a_replacement_nets_out_through_the_worker_and_equals_the_replay(settings, worker_factory):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    events = channel(distributor)
    expected = comparable(expected_snapshot(events))
    (row,) = [r for r in expected["inventory"] if r["distributor_id"] == distributor]
    assert row["sell_through"] == 3 + 4 + 2  # the corrected report, counted once
    (rebate,) = expected["rebates"]
    assert rebate["revenue"] == "860.00"
    # the scorecard: the replacement nets out there too; every line's verdict counted once
    cards = {card["period"]: card for card in expected["scorecards"]}
    assert sorted(cards) == ["2026-08", "2026-Q3"]
    quarter = cards["2026-Q3"]
    assert (quarter["sell_through_revenue"], quarter["revenue_target"]) == ("860.00", "1000.00")
    assert (quarter["accepted_lines"], quarter["rejected_lines"]) == (5, 2)

    worker = worker_factory().start()
    publish_reference_first(settings, worker, events)
    live = matches_replay(settings, worker)
    (row,) = [r for r in live["inventory"] if r["distributor_id"] == distributor]
    assert row["sell_through"] == 3 + 4 + 2
    reports = {r["report_id"]: r for r in live["reports"]}
    assert (reports["R1"]["replaced_by"], reports["R2"]["lines_reversed"]) == ("R2", 2)
    # "now" (the broker's time) is after August and the quarter: their cards stand at their
    # end, on the worker as on the replay: on Aug 31, 9 sold in 4 weeks and none shipped
    # (-9 over 2.25 a week); on Sep 30, none sold in 4 weeks (no weeks of supply); RS1
    # active (RS2's only line was moved), VPA-R's one tier reached
    ended = {c["period"]: c for c in live["scorecards"] if c["period"] in ("2026-08", "2026-Q3")}
    standing = {
        period: (
            card["weeks_of_supply"],
            card["active_resellers"],
            card["rebates"][0]["tiers_reached"],
        )
        for period, card in ended.items()
    }
    assert standing == {"2026-08": ("-4.0", 1, 1), "2026-Q3": (None, 1, 1)}
    assert (ended["2026-Q3"]["parts"]["resellers"], ended["2026-Q3"]["parts"]["rebates"]) == (
        "0.5000", "1.0000",
    )  # fmt: skip
    (quality,) = live["quality"]
    assert quality["rejected_by_reason"] == {"bad_quantity": 1, "replaced_report": 1}
    assert (quality["accepted"], quality["duplicates"], quality["conflicts"]) == (5, 0, 0)
    # "now" is when the broker recorded the lines; as of a week after the sales:
    as_of = (SECOND + timedelta(days=7)).date().isoformat()
    (network,) = worker.get(f"/api/resellers?as_of={as_of}")["rows"]
    assert (network["onboarded"], network["active_90d"]) == (2, 1)  # RS2's only line moved
    card = worker.get(f"/api/scorecard/{distributor}?period=2026-Q3")
    assert (card["sell_through_revenue"], card["reseller_target"]) == ("860.00", 2)
    # the lines' verdicts count in the period the broker recorded them in (today's)
    quarters = [c for c in live["scorecards"] if "Q" in c["period"]]
    assert sum(c["accepted_lines"] for c in quarters) == 5
    assert sum(c["rejected_lines"] for c in quarters) == 2

    letters = asyncio.run(
        _consume(settings.kafka_bootstrap, topic_name(settings.topic_prefix, "deadletters"), 2)
    )
    by_reason = {letter.reason: letter for letter in letters}
    assert by_reason["bad_quantity"].original == BAD_LINE
    assert by_reason["bad_quantity"].detail == "week32.csv:4: quantity: not an integer"
    assert "replaced by report 'R2'" in by_reason["replaced_report"].detail

    # the replacement delivered again, and a restart that rebuilds the tables from their
    # changelogs: nothing is reversed twice
    worker.kill()
    restarted = worker_factory().start()
    replacement = events[-5]
    assert isinstance(replacement, ReportSubmitted) and replacement.replaces_report_id == "R1"
    after = line(distributor, "T5", 1, "100.00", "R2", "RS2")
    publish(settings, [replacement, after])
    expected = matches_replay(settings, restarted, what="the restarted worker")
    (row,) = [r for r in expected["inventory"] if r["distributor_id"] == distributor]
    assert row["sell_through"] == 3 + 4 + 2 + 1
