"""A rebate over lines in two currencies on the real broker and PostgreSQL: a EUR sale line
in a USD program is `unconverted` until its day's rate arrives through the rates topic,
then converted; the API, the read-model row and the auditor's replay agree. The quarter
closed before the rate arrived: its statement stays, and the rate is one adjustment. The
distributor's scorecard counts the EUR line as waiting, then converts it too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from domain.rebate_statement import RebateStatement
from infra.eventstore import open_audit_log
from schemas.agreements import ExchangeRatePublished
from schemas.events import RebateProgramDefined, SaleReported, Tier
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.helpers import (
    catalog,
    matches_replay,
    publish,
    publish_reference_first,
    stored_events,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SOLD = datetime(2026, 8, 10, 12, tzinfo=UTC)


@pytest.fixture
def schema(pg_dsn: str) -> Iterator[str]:
    name = f"rm_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def sale(distributor: str, txn: str, quantity: int, currency: str) -> SaleReported:
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="kafka", distributor_id=distributor,
        transaction_id=txn, reseller_id="R1", sku="SKU-C", quantity=quantity,
        unit_price=Decimal("100.00"), currency=currency, sold_at=SOLD,
    )  # fmt: skip


def stored_row(dsn: str, schema: str, program_id: str) -> dict[str, Any] | None:
    query = sql.SQL(
        "SELECT revenue, rebate, events, rate_event_ids, unconverted FROM {} WHERE program_id = %s"
    ).format(sql.Identifier(schema, "rebates"))
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        return conn.execute(query, (program_id,)).fetchone()


def api_row(worker: WorkerProcess, program_id: str) -> dict[str, Any] | None:
    rows = worker.get(f"/api/rebates?program_id={program_id}")["rows"]
    return rows[0] if rows else None


def test_a_eur_line_is_unconverted_until_its_rate_arrives_live_stored_and_replayed(
    settings, worker_factory, pg_dsn, schema
):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    program_id = f"VPA-{uuid.uuid4().hex[:6]}"
    program = RebateProgramDefined(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="erp", program_id=program_id,
        distributor_ids=[distributor], basis="sell_through", measure="revenue", period="quarter",
        tier_mode="retroactive", currency="USD",
        tiers=[Tier(threshold=Decimal(t), rate=Decimal(r))
               for t, r in (("0", "0"), ("100000", "0.02"), ("250000", "0.035"))],
    )  # fmt: skip
    worker = worker_factory(
        eventstore_url=pg_dsn,
        env={
            "CHANNELFLOW_READMODEL_URL": pg_dsn,
            "CHANNELFLOW_READMODEL_SCHEMA": schema,
            "CHANNELFLOW_READMODEL_INTERVAL_SECONDS": "1",
        },
    ).start()
    publish_reference_first(settings, worker, [*catalog("SKU-C"), program])
    # 2,400 × 100.00 USD = 240,000.00; 200 × 100.00 EUR = 20,000.00 EUR, no rate yet
    publish(settings, [sale(distributor, "T1", 2400, "USD"), sale(distributor, "T2", 200, "EUR")])
    # the quarter ended long before the broker's clock: it closes by itself (grace passed)
    before = wait_until(
        lambda: (row := api_row(worker, program_id)) and row["status"] == "closed" and row,
        60,
        "the closed accrual",
    )
    assert (before["revenue"], before["rebate"], before["events"]) == ("240000.00", "4800.00", 2)
    assert before["unconverted"] == [{"currency": "EUR", "day": "2026-08-10", "amount": "20000.00"}]
    card = f"/api/scorecard/{distributor}?period=2026-Q3"
    waiting = worker.get(card)
    assert (waiting["sell_through_revenue"], waiting["other_currency_lines"]) == ("240000.00", 1)

    rate = ExchangeRatePublished(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="erp", from_currency="EUR",
        to_currency="USD", rate=Decimal("1.10"), effective_date=date(2026, 8, 3),
        rate_source="ECB", published_at=SOLD,
    )  # fmt: skip
    publish(settings, [rate])
    # 20,000.00 EUR × 1.10 = 22,000.00 USD: 262,000.00 reaches 3.5 % = 9,170.00
    after = wait_until(
        lambda: (row := api_row(worker, program_id)) and not row["unconverted"] and row,
        60,
        "the EUR line converted",
    )
    assert (after["revenue"], after["rebate"], after["events"]) == ("262000.0000", "9170.00", 2)
    assert after["rate_event_ids"] == [str(rate.event_id)]
    converted = worker.get(card)  # the card converts the line that came before its rate
    assert (converted["sell_through_revenue"], converted["other_currency_lines"]) == (
        "262000.00",
        0,
    )
    assert converted["sell_through_units"] == 2600

    stored = wait_until(
        lambda: (row := stored_row(pg_dsn, schema, program_id)) and row["rebate"] == 9170 and row,
        60,
        "the read-model row converted",
    )
    assert (stored["revenue"], stored["events"]) == (Decimal("262000.0000"), 2)
    assert (stored["rate_event_ids"], stored["unconverted"]) == ([str(rate.event_id)], [])

    statement_id = RebateStatement.create_id(program_id, distributor, "2026-Q3")
    wait_until(lambda: stored_events(pg_dsn, statement_id) == 2, 60, "the rate's adjustment")
    statement = open_audit_log(pg_dsn).rebate_statement(program_id, distributor, "2026-Q3")
    assert (statement.rebate, statement.event_count) == (Decimal("4800.00"), 2)  # as closed
    assert statement.unconverted == (
        {"currency": "EUR", "day": "2026-08-10", "amount": "20000.00"},
    )
    assert [(a.event_id, a.reason, a.amount) for a in statement.adjustments] == [
        (str(rate.event_id), "rate_arrived", Decimal("4370.00"))
    ]

    live = matches_replay(settings, worker)  # the replay of the raw topics derives the same
    assert [r for r in live["rebates"] if r["program_id"] == program_id] == [after]
