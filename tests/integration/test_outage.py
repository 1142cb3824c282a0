"""PostgreSQL away and back while lines keep coming: nothing is lost, nothing is counted
twice, the API answers 503 within seconds meanwhile, and /health says what is down."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from schemas.events import PriceChanged, SaleReported
from streams.auth import token_hash
from tests.faults import proxied
from tests.integration.audit_db import EVENTS, fresh_database
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.helpers import (
    catalog,
    matches_replay,
    numbered_sales,
    publish,
    publish_reference_first,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
LINES = 300


def price() -> PriceChanged:
    return PriceChanged(
        event_id=uuid.uuid4(), occurred_at=T0, source="erp", sku="SKU-O", published_at=T0,
        distributor_cost=Decimal("8.00"), floor_price=Decimal("10.00"), currency="USD",
        effective_from=T0 - timedelta(days=30),
    )  # fmt: skip


def below_floor(first: int, count: int) -> list[SaleReported]:
    return numbered_sales(first, count, sku="SKU-O", distributors=4, at=T0)


def violations_recorded(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            f"SELECT count(*) FROM {EVENTS} WHERE topic LIKE '%PricingViolation.Detected'"
        ).fetchone()
    return int(row[0]) if row else 0


def answered(url: str, token: str | None = None, body: bytes | None = None) -> tuple[int, Any]:
    """(status, JSON answer) of one request; a request left hanging (on the database that
    is away, say) fails the test by its timeout, not by a wall-clock figure."""
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def batch_retries(worker: WorkerProcess) -> float:
    """The worker's `channelflow_batch_retries_total` (0 before its first retry)."""
    for line in worker.metrics_text().splitlines():
        if line.startswith("channelflow_batch_retries_total "):
            return float(line.split()[1])
    return 0.0


def test_postgres_away_and_back_loses_no_audit_record(settings, worker_factory, pg_dsn):
    tokens = [{"sha256": token_hash("admin"), "role": "admin", "actor": "finance"}]
    with fresh_database(pg_dsn) as dsn, proxied(dsn) as (proxy, through_proxy):
        worker = worker_factory(
            {"CHANNELFLOW_TOKENS": json.dumps(tokens)}, eventstore_url=through_proxy
        ).start()
        worker.token = "admin"
        publish_reference_first(settings, worker, [*catalog("SKU-O"), price()])
        publish(settings, below_floor(0, LINES))
        wait_until(lambda: violations_recorded(dsn) == LINES, 90, "the first violations")
        # recorded before the batch that found them is stored: its rows show a moment later
        first = wait_until(
            lambda: worker.get("/api/violations?limit=1")["rows"], 30, "the first violations' rows"
        )[0]

        proxy.cut()
        publish(settings, below_floor(LINES, LINES))
        wait_until(  # the probe notices within seconds
            lambda: worker.get("/health")["dependencies"]["event_store"].startswith("down"),
            10,
            "/health to say the event store is down",
        )
        status, health = answered(f"{worker.url}/health")
        assert (status, health["status"]) == (200, "degraded")
        for path in ("/api/violations", "/api/snapshot", "/api/audit/verify"):
            status, answer = answered(f"{worker.url}{path}", "admin")
            assert (status, answer["error"]["code"]) == (503, "unavailable"), path
        step = f"{worker.url}/api/violations/{first['violation_id']}/acknowledge"
        status, answer = answered(step, "admin", b'{"reason": "checked"}')
        assert (status, answer["error"]["code"]) == (503, "unavailable")
        # the worker tries its batch again and again meanwhile
        wait_until(lambda: batch_retries(worker) >= 1, 90, "the batch tried again")
        assert worker.proc is not None and worker.proc.poll() is None  # it did not crash
        assert worker.get("/api/quality")["total"] >= 1  # and kept answering from its state

        proxy.restore()
        wait_until(lambda: violations_recorded(dsn) == 2 * LINES, 120, "every violation")
        live = matches_replay(settings, worker)
        assert len(live["violations"]) == 2 * LINES
        assert worker.get("/health")["status"] == "ok"

        worker.kill()  # and a restart finds every record there, none twice
        restarted = worker_factory(
            {"CHANNELFLOW_TOKENS": json.dumps(tokens)}, eventstore_url=dsn
        ).start()
        restarted.token = "admin"
        assert len(matches_replay(settings, restarted)["violations"]) == 2 * LINES
        assert violations_recorded(dsn) == 2 * LINES
