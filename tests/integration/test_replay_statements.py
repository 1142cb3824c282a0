"""Live and replay decide statement membership alike for events that carry no recorded_at.

A line published straight to Kafka without `recorded_at` (or with one its producer made
up) is recorded when the broker appended it. The live worker's statement and adjustments
in PostgreSQL must be what the auditor's replay of the raw topics derives: the same lines
in the statement, the same late lines as adjustments (the case where live kept 9,187.50
with no adjustment and the replay recorded 4,950.00).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest

from domain.rebate_audit import RebateStatement
from infra.eventstore import open_audit_log
from schemas.events import RebateProgramDefined, SaleReported, Tier
from streams.auth import token_hash
from tests.integration.conftest import REPO, wait_until
from tests.integration.helpers import catalog, publish, publish_reference_first, stored_events

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SOLD = datetime(2026, 8, 10, 12, tzinfo=UTC)
ADMIN = "admin-replay-token"


def sale(distributor: str, txn: str, quantity: int, recorded: datetime | None) -> SaleReported:
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=SOLD, recorded_at=recorded, source="kafka",
        distributor_id=distributor, transaction_id=txn, reseller_id="R1", sku="SKU-RP",
        quantity=quantity, unit_price=Decimal("100.00"), currency="USD", sold_at=SOLD,
    )  # fmt: skip


def program(program_id: str, distributor: str) -> RebateProgramDefined:
    return RebateProgramDefined(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="erp", program_id=program_id,
        distributor_ids=[distributor], basis="sell_through", measure="revenue", period="quarter",
        tier_mode="retroactive", currency="USD",
        tiers=[Tier(threshold=Decimal(t), rate=Decimal(r))
               for t, r in (("0", "0"), ("100000", "0.02"), ("250000", "0.035"))],
    )  # fmt: skip


def verify(worker, pg_dsn: str) -> subprocess.CompletedProcess[str]:
    s = worker.settings
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "verify", "--url", worker.url,
         "--eventstore", pg_dsn, "--kafka", s.kafka_bootstrap, "--prefix", s.topic_prefix],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "CHANNELFLOW_TOKEN": ADMIN},
    )  # fmt: skip


def test_statement_and_adjustments_of_lines_without_recorded_at_equal_the_replay(
    settings, worker_factory, pg_dsn
):
    # verify compares the whole event store with the whole replay: start from an empty one
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "DROP TABLE IF EXISTS channelflow_audit_events, channelflow_audit_events_chain"
        )
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    program_id = f"VPA-{uuid.uuid4().hex[:6]}"
    tokens = json.dumps([{"sha256": token_hash(ADMIN), "role": "admin", "actor": "carol"}])
    worker = worker_factory(eventstore_url=pg_dsn, env={"CHANNELFLOW_TOKENS": tokens}).start()
    worker.token = ADMIN
    reference = [*catalog("SKU-RP"), program(program_id, distributor)]
    publish_reference_first(settings, worker, reference)
    publish(settings, [sale(distributor, "T1", 2000, None), sale(distributor, "T2", 625, None)])
    wait_until(
        lambda: [r["rebate"] for r in worker.get("/api/rebates", ADMIN)["rows"]] == ["9187.50"],
        60,
        "the accrual",
    )
    status, body = worker.post(f"/api/rebates/{program_id}/2026-Q3/close", {}, ADMIN)
    assert status == 202, body
    statement_id = RebateStatement.create_id(program_id, distributor, "2026-Q3")
    wait_until(lambda: stored_events(pg_dsn, statement_id) == 1, 60, "the statement")

    # after the close: a return without recorded_at, and a sale whose producer claims it
    # was recorded in August; the broker recorded both after the close
    late_return = sale(distributor, "T3", -150, None)
    backdated = sale(distributor, "T4", 1, SOLD)
    publish(settings, [late_return])
    wait_until(lambda: stored_events(pg_dsn, statement_id) == 2, 60, "the first adjustment")
    publish(settings, [backdated])
    wait_until(lambda: stored_events(pg_dsn, statement_id) == 3, 60, "the second adjustment")

    statement = open_audit_log(pg_dsn).rebate_statement(program_id, distributor, "2026-Q3")
    assert (statement.rebate, statement.event_count) == (Decimal("9187.50"), 2)
    assert [(a.event_id, a.amount) for a in statement.adjustments] == [
        (str(late_return.event_id), Decimal("-4237.50")),  # 247,500 falls to the 2 % tier
        (str(backdated.event_id), Decimal("2.00")),
    ]
    assert statement.total == Decimal("4952.00")

    result = verify(worker, pg_dsn)  # the replay derives the same statement and adjustments
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified" in result.stdout
