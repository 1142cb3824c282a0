"""Rebates through Kafka and PostgreSQL: close over the API, statement and one adjustment."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.rebate_audit import RebateStatement
from infra.eventstore import open_audit_log
from schemas.events import RebateProgramDefined, SaleReported, Tier
from streams.auth import token_hash
from tests.integration.conftest import wait_until
from tests.integration.helpers import catalog, publish, publish_reference_first, stored_events

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

Q3 = datetime(2026, 8, 10, 12, tzinfo=UTC)
ADMIN = "admin-secret-token"


def sale(distributor: str, txn: str, quantity: int, recorded: datetime) -> SaleReported:
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=Q3, recorded_at=recorded, source="kafka",
        distributor_id=distributor, transaction_id=txn, reseller_id="R1", sku="SKU-R",
        quantity=quantity, unit_price=Decimal("100.00"), currency="USD", sold_at=Q3,
    )  # fmt: skip


def test_close_through_the_api_statement_in_postgres_and_one_adjustment(
    settings, worker_factory, pg_dsn
):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    program_id = f"VPA-{uuid.uuid4().hex[:6]}"
    program = RebateProgramDefined(
        event_id=uuid.uuid4(), occurred_at=Q3, source="erp", program_id=program_id,
        distributor_ids=[distributor], basis="sell_through", measure="revenue", period="quarter",
        tier_mode="retroactive", currency="USD",
        tiers=[Tier(threshold=Decimal(t), rate=Decimal(r))
               for t, r in (("0", "0"), ("100000", "0.02"), ("250000", "0.035"))],
    )  # fmt: skip
    tokens = json.dumps([{"sha256": token_hash(ADMIN), "role": "admin", "actor": "carol"}])
    env = {"CHANNELFLOW_TOKENS": tokens}
    worker = worker_factory(eventstore_url=pg_dsn, env=env).start()
    worker.token = ADMIN
    publish_reference_first(settings, worker, [*catalog("SKU-R"), program])
    publish(settings, [sale(distributor, "T1", 2000, Q3), sale(distributor, "T2", 625, Q3)])
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

    late_return = sale(distributor, "T9", -150, datetime.now(UTC))
    publish(settings, [late_return])
    wait_until(lambda: stored_events(pg_dsn, statement_id) == 2, 60, "the adjustment")
    worker.kill()
    restarted = worker_factory(eventstore_url=pg_dsn, env=env).start()
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
