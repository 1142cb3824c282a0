"""The fault suite (`make chaos`): faults during ingest and during recording, and poison lines
of every kind, each ending with `channelflow verify` exit 0 and every unique line counted once.

Bounded: a few thousand lines per test, a few minutes in all, on the real Kafka broker and a
PostgreSQL event store of its own per test.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from schemas.codec import encode_event
from schemas.events import PriceChanged, RebateProgramDefined, SaleReported, Tier
from schemas.topics import topic_name
from streams.auth import token_hash
from tests.faults import proxied
from tests.integration.audit_db import fresh_database
from tests.integration.conftest import HEAVY, WorkerProcess, wait_for_count, wait_until
from tests.integration.helpers import (
    catalog,
    matches_replay,
    numbered_sale,
    publish,
    publish_reference_first,
    verify,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.chaos, HEAVY]

ADMIN = "admin"
TOKENS = json.dumps([{"sha256": token_hash(ADMIN), "role": "admin", "actor": "ops"}])
SOLD = datetime(2026, 8, 3, 9, tzinfo=UTC)
BATCH = 100


def reference() -> list[Any]:
    price = PriceChanged(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="erp", sku="SKU-C",
        distributor_cost=Decimal("8.00"), floor_price=Decimal("10.00"), currency="USD",
        effective_from=SOLD - timedelta(days=30), published_at=SOLD - timedelta(days=35),
    )  # fmt: skip
    program = RebateProgramDefined(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="erp", program_id="VPA-C",
        distributor_ids="all", basis="sell_through", measure="revenue", period="quarter",
        tier_mode="retroactive", currency="USD",
        tiers=[Tier(threshold=Decimal("0"), rate=Decimal("0.02"))],
    )  # fmt: skip
    return [*catalog("SKU-C"), price, program]


def sale(n: int, price: str = "9.50", quantity: int = 2) -> dict[str, Any]:
    return orjson.loads(
        encode_event(
            numbered_sale(
                n,
                sku="SKU-C",
                distributors=3,
                at=SOLD,
                price=price,
                quantity=quantity,
                apart=timedelta(seconds=1),
                source="api",
            )
        )
    )


def post_until_taken(worker: WorkerProcess, lines: list[dict[str, Any]]) -> None:
    """POST a batch, again after a 503 or while the worker is down (a line sent again is
    recognized, never counted twice)."""
    body = orjson.dumps(lines)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            status, _ = worker.post("/api/ingest/events", body, ADMIN)
        except (urllib.error.URLError, ConnectionError, OSError):
            status = 0
        if status == 200:
            return
        time.sleep(0.5)
    raise AssertionError("the batch was never taken")


def accepted(worker: WorkerProcess) -> int:
    return sum(row["accepted"] for row in worker.get("/api/quality")["rows"])


def in_background(work: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_postgres_away_and_a_kill_during_ingest_count_every_line_once(
    settings, worker_factory, pg_dsn
):
    lines = [sale(n) for n in range(20 * BATCH)]
    with fresh_database(pg_dsn) as dsn, proxied(dsn) as (proxy, through_proxy):
        start = worker_factory({"CHANNELFLOW_TOKENS": TOKENS}, eventstore_url=through_proxy)
        worker = start.start()
        worker.token = ADMIN
        publish_reference_first(settings, worker, reference())

        def ingest() -> None:
            for first in range(0, len(lines), BATCH):
                post_until_taken(worker, lines[first : first + BATCH])
                resent = [
                    {**line, "event_id": str(uuid.uuid4())} for line in lines[first : first + 10]
                ]
                post_until_taken(worker, resent)  # a business duplicate each

        sender = in_background(ingest)
        wait_until(lambda: accepted(worker) > 0, 60, "the first lines")
        proxy.cut()  # PostgreSQL away while lines keep coming
        time.sleep(4)
        proxy.restore()
        wait_until(lambda: accepted(worker) > 5 * BATCH, 120, "progress after the outage")
        worker.kill()  # and a kill -9 mid-ingest
        worker.start()
        sender.join(300)
        assert not sender.is_alive()
        wait_for_count(lambda: accepted(worker), len(lines), 120, "every unique line")
        live = matches_replay(settings, worker, 120)
        assert sum(row["accepted"] for row in live["quality"]) == len(lines)
        assert sum(row["duplicates"] for row in live["quality"]) == len(lines) // 10
        assert len(live["violations"]) == len(lines)  # each one below the floor, once
        result = verify(worker, dsn, ADMIN)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.usefixtures("no_automatic_close")  # the statement's close is the test's own
def test_a_kill_while_recording_a_statement_and_its_adjustments(settings, worker_factory, pg_dsn):
    lines = [sale(n, price="12.00") for n in range(10 * BATCH)]
    late = [sale(100_000 + n, price="12.00", quantity=-1) for n in range(5 * BATCH)]
    with fresh_database(pg_dsn) as dsn:
        start = worker_factory({"CHANNELFLOW_TOKENS": TOKENS}, eventstore_url=dsn)
        worker = start.start()
        worker.token = ADMIN
        publish_reference_first(settings, worker, reference())
        for first in range(0, len(lines), BATCH):
            post_until_taken(worker, lines[first : first + BATCH])
        wait_until(lambda: accepted(worker) == len(lines), 120, "the period's lines")
        status, _ = worker.post("/api/rebates/VPA-C/2026-Q3/close", b"{}", ADMIN)
        assert status == 202
        statement = "/api/rebates/statements/VPA-C/D0/2026-Q3"
        found = wait_until(lambda: worker.get(statement), 60, "the statement")
        assert found["event_count"] == sum(1 for line in lines if line["distributor_id"] == "D0")
        post_until_taken(worker, late[:BATCH])

        def adjusted() -> int:
            return len(worker.get(statement)["adjustments"])

        wait_until(lambda: adjusted() > 0, 120, "the first adjustments")
        for first in range(BATCH, len(late), BATCH):
            post_until_taken(worker, late[first : first + BATCH])
        worker.kill()  # while it records the rest
        worker.start()
        mine = sum(1 for line in late if line["distributor_id"] == "D0")
        wait_until(lambda: adjusted() >= mine, 180, "every adjustment")
        assert adjusted() == mine  # once: no more than the late lines
        matches_replay(settings, worker, 120)
        assert adjusted() == mine  # and none recorded again since
        result = verify(worker, dsn, ADMIN)
        assert result.returncode == 0, result.stdout + result.stderr


def poisoned(**changes: Any) -> bytes:
    """A sale of D1 (the key it is produced with) with one field made bad."""
    return orjson.dumps({**sale(1), **changes})


POISON: dict[str, bytes] = {
    "nul in an id": poisoned(transaction_id="RM-NUL\u0000"),
    "zero-width in an id": poisoned(reseller_id="R\u200b1"),
    "a negative price": poisoned(unit_price="-100.00"),
    "money in exponent form": poisoned(unit_price="1e3"),
    "a quantity past 10^12": poisoned(quantity=10**13),
    "a date that overflows UTC": poisoned(sold_at="0001-01-01T00:00:00+14:00"),
    "a sale dated 2062": poisoned(sold_at="2062-08-18T00:00:00Z"),
    "a sale dated 9999": poisoned(sold_at="9999-12-31T00:00:00Z"),
    "not JSON": b'{"event_type": "SaleReported", ',
    "not an object": b'"SaleReported"',
    "an empty bundle": b"[]",
    "a bundle of something else": b"[[1, 2, 3]]",
}


def test_every_poison_line_is_dead_lettered_and_nothing_stops(settings, worker_factory, pg_dsn):
    good = [sale(1000 + n) for n in range(BATCH)]
    with fresh_database(pg_dsn) as dsn:
        worker = worker_factory({"CHANNELFLOW_TOKENS": TOKENS}, eventstore_url=dsn).start()
        worker.token = ADMIN
        publish_reference_first(settings, worker, reference())

        async def produce() -> None:  # straight to Kafka: no gateway to stop them
            producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
            await producer.start()
            try:
                topic = topic_name(settings.topic_prefix, "sales")
                for raw in POISON.values():
                    await producer.send_and_wait(topic, raw, key=b"D1")
                await producer.send_and_wait(topic, orjson.dumps(sale(9)), key=b"D2")  # key
            finally:
                await producer.stop()

        import asyncio

        asyncio.run(produce())
        publish(settings, [SaleReported.model_validate(line) for line in good])
        wait_until(lambda: accepted(worker) == len(good), 120, "the good lines after the poison")
        reasons = {row["reason"]: row["count"] for row in worker.get("/api/dead-letters")["rows"]}
        assert sum(reasons.values()) == len(POISON) + 1, reasons
        expected = {"schema_violation", "future_date", "date_out_of_range", "invalid_json"}
        assert expected | {"invalid_bundle"} <= set(reasons)
        assert reasons["wrong_message_key"] == 1
        assert worker.proc is not None and worker.proc.poll() is None
        matches_replay(settings, worker)
        result = verify(worker, dsn, ADMIN)
        assert result.returncode == 0, result.stdout + result.stderr
