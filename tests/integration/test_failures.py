"""Proof under failure on the real broker, with the audit store in PostgreSQL: SIGKILLs and
a rebalance never lose or double count a line, nor lose or repeat an audit record.

The stream is published in rounds and the worker is killed as soon as it has made progress
in each: five kills, each with more of the stream still to come, however fast the worker
is. Bounded: 100,000 sales plus resends, each test a few minutes at most.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest

from schemas.events import Envelope, PriceChanged, SaleReported
from streams.generator import DEFAULT_SALES_START, generate_sales, sales_catalog
from tests.integration.audit_db import EVENTS as AUDIT_EVENTS
from tests.integration.audit_db import fresh_database
from tests.integration.conftest import (
    HEAVY,
    WorkerProcess,
    free_port,
    wait_for_count,
    wait_until,
)
from tests.integration.helpers import (
    comparable,
    expected_snapshot,
    matches_replay,
    publish,
    publish_reference_first,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, HEAVY]

EVENTS = 100_000
KILLS = 5


def sales_with_resends(count: int, seed: int) -> list[Envelope]:
    """`count` sales, and every 400th resent later with a new event_id (a business duplicate)."""
    sales = list(generate_sales(count, seed=seed))
    stream: list[Envelope] = []
    for n, sale in enumerate(sales):
        stream.append(sale)
        if n % 400 == 399:
            stream.append(sales[n - 7].model_copy(update={"event_id": uuid.uuid4()}))
    return stream


def floor_prices(stream: Sequence[Envelope]) -> list[PriceChanged]:
    """A floor per SKU just above its lowest sale price, in effect before the first sale:
    the lines at that price (about one in thirty) are violations, audit records in
    PostgreSQL."""
    prices: dict[str, list[Decimal]] = defaultdict(list)
    for event in stream:
        if isinstance(event, SaleReported) and event.quantity > 0:
            prices[event.sku].append(event.unit_price)
    at = DEFAULT_SALES_START - timedelta(days=30)
    return [
        PriceChanged(
            event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"failures-floor:{sku}"),
            occurred_at=at,
            source="erp",
            sku=sku,
            distributor_cost=(min(seen) / 2).quantize(Decimal("0.01")),
            floor_price=sorted(set(seen))[1],
            currency="USD",
            effective_from=at,
            published_at=at,
        )
        for sku, seen in sorted(prices.items())
    ]


def accepted_total(worker: WorkerProcess) -> int:
    return sum(row["accepted"] + row["duplicates"] for row in worker.get("/api/quality")["rows"])


def violations_recorded(dsn: str) -> int:
    """Violations in the audit store (each recorded once, whatever was redelivered)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            f"SELECT count(*) FROM {AUDIT_EVENTS} WHERE topic LIKE '%PricingViolation.Detected'"
        ).fetchone()
    return int(row[0]) if row else 0


def rounds(stream: Sequence[Envelope], count: int) -> list[Sequence[Envelope]]:
    size = -(-len(stream) // count)
    return [stream[start : start + size] for start in range(0, len(stream), size)]


def test_sigkill_five_times_mid_stream_then_snapshot_equals_replay(
    settings, worker_factory, pg_dsn
):
    stream = sales_with_resends(EVENTS, seed=42)
    reference = [*sales_catalog(), *floor_prices(stream)]
    expected = comparable(expected_snapshot([*reference, *stream]))
    assert sum(row["duplicates"] for row in expected["quality"]) == EVENTS // 400
    expected_lines = sum(row["accepted"] + row["duplicates"] for row in expected["quality"])
    expected_violations = len(expected["violations"])
    assert EVENTS // 100 < expected_violations < EVENTS // 20

    with fresh_database(pg_dsn) as dsn, ThreadPoolExecutor(1) as publisher:
        worker = worker_factory(eventstore_url=dsn).start()
        publish_reference_first(settings, worker, reference)
        *killed_in, last = rounds(stream, KILLS + 1)
        seen = 0
        for number, part in enumerate(killed_in, start=1):
            published = publisher.submit(publish, settings, part)  # arriving while it works

            def progressed(current: WorkerProcess = worker, before: int = seen) -> int:
                done = accepted_total(current)
                return done if done > before else 0

            seen = wait_until(progressed, 120, f"progress in round {number}")
            worker.kill()
            assert seen < expected_lines  # mid-stream: the last round is not even published
            published.result(timeout=120)
            worker = worker_factory(eventstore_url=dsn).start()
        publish(settings, last)

        wait_for_count(
            lambda: accepted_total(worker),
            expected_lines,
            120,
            f"the worker restarted {KILLS} times accounting for all lines",
        )
        live = matches_replay(settings, worker, 120, "the restarted worker")
        originals = generate_sales(EVENTS, seed=42)
        assert sum(r["sell_through"] for r in live["inventory"]) == sum(
            s.quantity for s in originals
        )
        assert len(live["violations"]) == expected_violations == violations_recorded(dsn)


def test_survivor_takes_over_a_killed_worker_and_snapshot_equals_replay(
    settings, worker_factory, pg_dsn
):
    stream: Sequence[Envelope] = sales_with_resends(40_000, seed=7)
    reference = [*sales_catalog(), *floor_prices(stream)]
    expected = comparable(expected_snapshot([*reference, *stream]))
    expected_violations = len(expected["violations"])
    assert expected_violations > 0

    with fresh_database(pg_dsn) as dsn:
        first = worker_factory(eventstore_url=dsn).start()
        second = worker_factory(
            web_port=free_port(), data_dir=settings.data_dir + "-second", eventstore_url=dsn
        ).start()
        publish_reference_first(settings, first, reference)
        wait_until(
            lambda: len(second.get("/api/products")["rows"]) == len(sales_catalog()),
            60,
            "the second worker to see the catalog (global table)",
        )
        publish(settings, stream)
        wait_until(
            lambda: accepted_total(first) > 0 and accepted_total(second) > 0, 60, "both working"
        )
        first.kill()

        expected_lines = sum(row["accepted"] + row["duplicates"] for row in expected["quality"])
        wait_for_count(
            lambda: accepted_total(second), expected_lines, 120, "the survivor accounting for all"
        )
        live = matches_replay(settings, second, 120, "the survivor")
        assert len(live["violations"]) == expected_violations == violations_recorded(dsn)
