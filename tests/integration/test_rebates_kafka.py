"""Rebates through Kafka and PostgreSQL: a close over the API, the statement, its adjustments.

Lines published straight to Kafka without `recorded_at` (or with one their producer made
up) are recorded when the broker appended them: the live statement and adjustments must be
what the auditor's replay of the raw topics derives (the case where live kept 9,187.50 with
no adjustment and the replay recorded 4,950.00).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain.rebate_statement import RebateStatement
from infra.eventstore import open_audit_log
from schemas.events import RebateProgramDefined, SaleReported, Tier
from streams.auth import token_hash
from tests.integration.audit_db import fresh_database
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.helpers import (
    catalog,
    publish,
    publish_reference_first,
    stored_events,
    verify,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

Q3 = datetime(2026, 8, 10, 12, tzinfo=UTC)
ADMIN = "admin-secret-token"
TOKENS = json.dumps([{"sha256": token_hash(ADMIN), "role": "admin", "actor": "carol"}])


def sale(distributor: str, txn: str, quantity: int, recorded: datetime | None) -> SaleReported:
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=Q3, recorded_at=recorded, source="kafka",
        distributor_id=distributor, transaction_id=txn, reseller_id="R1", sku="SKU-R",
        quantity=quantity, unit_price=Decimal("100.00"), currency="USD", sold_at=Q3,
    )  # fmt: skip


@dataclass
class Closed:
    worker: WorkerProcess
    distributor: str
    program_id: str
    statement_id: UUID


def closed_quarter(
    settings: Any, worker_factory: Any, pg_dsn: str, recorded: datetime | None
) -> Closed:
    """A program, two sales of 2026-Q3 (262,500.00: the 3.5 % tier), the quarter closed over
    the API, and its statement in PostgreSQL."""
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    program_id = f"VPA-{uuid.uuid4().hex[:6]}"
    program = RebateProgramDefined(
        event_id=uuid.uuid4(), occurred_at=Q3, source="erp", program_id=program_id,
        distributor_ids=[distributor], basis="sell_through", measure="revenue", period="quarter",
        tier_mode="retroactive", currency="USD",
        tiers=[Tier(threshold=Decimal(t), rate=Decimal(r))
               for t, r in (("0", "0"), ("100000", "0.02"), ("250000", "0.035"))],
    )  # fmt: skip
    worker = worker_factory(eventstore_url=pg_dsn, env={"CHANNELFLOW_TOKENS": TOKENS}).start()
    worker.token = ADMIN
    publish_reference_first(settings, worker, [*catalog("SKU-R"), program])
    publish(
        settings, [sale(distributor, "T1", 2000, recorded), sale(distributor, "T2", 625, recorded)]
    )
    wait_until(
        lambda: [r["rebate"] for r in worker.get("/api/rebates", ADMIN)["rows"]] == ["9187.50"],
        60,
        "the accrual",
    )
    status, body = worker.post(f"/api/rebates/{program_id}/2026-Q3/close", {}, ADMIN)
    assert status == 202, body
    statement_id = RebateStatement.create_id(program_id, distributor, "2026-Q3")
    wait_until(lambda: stored_events(pg_dsn, statement_id) == 1, 60, "the statement in PostgreSQL")
    statement = open_audit_log(pg_dsn).rebate_statement(program_id, distributor, "2026-Q3")
    assert (statement.rebate, statement.revenue, statement.event_count) == (
        Decimal("9187.50"),
        Decimal("262500.00"),
        2,
    )
    return Closed(worker, distributor, program_id, statement_id)


@pytest.mark.usefixtures("no_automatic_close")  # two lines, one statement
def test_close_through_the_api_statement_in_postgres_and_one_adjustment(
    settings, worker_factory, pg_dsn
):
    closed = closed_quarter(settings, worker_factory, pg_dsn, Q3)
    distributor, program_id = closed.distributor, closed.program_id
    late_return = sale(distributor, "T9", -150, datetime.now(UTC))
    publish(settings, [late_return])
    wait_until(lambda: stored_events(pg_dsn, closed.statement_id) == 2, 60, "the adjustment")
    closed.worker.kill()
    restarted = worker_factory(eventstore_url=pg_dsn, env={"CHANNELFLOW_TOKENS": TOKENS}).start()
    publish(settings, [late_return])  # redelivered
    publish(settings, [sale(distributor, "T10", 1, Q3)])  # on time for the live view only
    wait_until(
        lambda: (
            restarted.get(f"/api/quality?distributor_id={distributor}", ADMIN)["rows"][0][
                "accepted"
            ]
            == 4
        ),
        60,
        "the restarted worker to catch up",
    )
    statement = open_audit_log(pg_dsn).rebate_statement(program_id, distributor, "2026-Q3")
    amounts = [a.amount for a in statement.adjustments]
    assert amounts[0] == Decimal("-4237.50")
    assert [a.event_id for a in statement.adjustments].count(str(late_return.event_id)) == 1
    document = restarted.get(f"/api/rebates/statements/{program_id}/{distributor}/2026-Q3", ADMIN)
    assert document["rebate"] == "9187.50"


@pytest.mark.usefixtures("no_automatic_close")  # two lines, one statement
def test_statement_and_adjustments_of_lines_without_recorded_at_equal_the_replay(
    settings, worker_factory, pg_dsn
):
    # verify compares the whole event store with the whole replay: an empty database of
    # its own (other tests may record into the shared one meanwhile)
    with fresh_database(pg_dsn) as dsn:
        adjustments_verified(settings, worker_factory, dsn)


def adjustments_verified(settings, worker_factory, pg_dsn: str) -> None:
    closed = closed_quarter(settings, worker_factory, pg_dsn, None)
    # after the close: a return without recorded_at, and a sale whose producer claims it
    # was recorded in August; the broker recorded both after the close
    late_return = sale(closed.distributor, "T3", -150, None)
    backdated = sale(closed.distributor, "T4", 1, Q3)
    publish(settings, [late_return])
    wait_until(lambda: stored_events(pg_dsn, closed.statement_id) == 2, 60, "one adjustment")
    publish(settings, [backdated])
    wait_until(lambda: stored_events(pg_dsn, closed.statement_id) == 3, 60, "a second one")

    audit = open_audit_log(pg_dsn)
    statement = audit.rebate_statement(closed.program_id, closed.distributor, "2026-Q3")
    assert (statement.rebate, statement.event_count) == (Decimal("9187.50"), 2)
    assert [(a.event_id, a.amount) for a in statement.adjustments] == [
        (str(late_return.event_id), Decimal("-4237.50")),  # 247,500 falls to the 2 % tier
        (str(backdated.event_id), Decimal("2.00")),
    ]
    assert statement.total == Decimal("4952.00")

    result = verify(closed.worker, pg_dsn, ADMIN)  # the replay derives the same adjustments
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified" in result.stdout
