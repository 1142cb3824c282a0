"""Proof under failure on the real broker: SIGKILLs and a rebalance never lose or double count.

Bounded: 100,000 sales plus resends, 5 kills at random points, each test a few minutes at most.
"""

from __future__ import annotations

import functools
import random
import time
import uuid
from collections.abc import Sequence

import pytest

from schemas.events import Envelope
from streams.generator import generate_sales, sales_catalog
from tests.integration.conftest import WorkerProcess, free_port, wait_until
from tests.integration.helpers import (
    comparable,
    expected_snapshot,
    matches_replay,
    publish,
    publish_reference_first,
)

pytestmark = pytest.mark.kafka

EVENTS = 100_000


def sales_with_resends(count: int, seed: int) -> list[Envelope]:
    """`count` sales, and every 400th resent later with a new event_id (a business duplicate)."""
    sales = list(generate_sales(count, seed=seed))
    stream: list[Envelope] = []
    for n, sale in enumerate(sales):
        stream.append(sale)
        if n % 400 == 399:
            stream.append(sales[n - 7].model_copy(update={"event_id": uuid.uuid4()}))
    return stream


def accepted_total(worker: WorkerProcess) -> int:
    return sum(row["accepted"] + row["duplicates"] for row in worker.get("/api/quality")["rows"])


def test_sigkill_five_times_mid_stream_then_snapshot_equals_replay(settings, worker_factory):
    rng = random.Random(20261127)
    stream = sales_with_resends(EVENTS, seed=42)
    reference = sales_catalog()
    expected = comparable(expected_snapshot([*reference, *stream]))
    total = len(stream)
    assert sum(row["duplicates"] for row in expected["quality"]) == EVENTS // 400

    worker = worker_factory().start()
    publish_reference_first(settings, worker, reference)
    publish(settings, stream)
    kills = 0
    while kills < 5:
        progress = wait_until(functools.partial(accepted_total, worker), 120, "progress")
        if progress >= total:
            break  # finished before the next kill: publish more to keep killing mid-stream
        time.sleep(rng.uniform(0.2, 2.0))
        worker.kill()
        kills += 1
        worker = worker_factory().start()
    assert kills == 5, "the stream ended before five kills; make it longer"

    expected_lines = sum(row["accepted"] + row["duplicates"] for row in expected["quality"])
    wait_until(
        lambda: accepted_total(worker) == expected_lines,
        240,
        f"the restarted worker to account for all {expected_lines} lines",
    )
    live = matches_replay(settings, worker, 120, "the restarted worker")
    originals = generate_sales(EVENTS, seed=42)
    assert sum(r["sell_through"] for r in live["inventory"]) == sum(s.quantity for s in originals)


def test_survivor_takes_over_a_killed_worker_and_snapshot_equals_replay(settings, worker_factory):
    stream: Sequence[Envelope] = sales_with_resends(40_000, seed=7)
    reference = sales_catalog()
    expected = comparable(expected_snapshot([*reference, *stream]))

    first = worker_factory().start()
    second = worker_factory(web_port=free_port(), data_dir=settings.data_dir + "-second").start()
    publish_reference_first(settings, first, reference)
    wait_until(
        lambda: len(second.get("/api/products")["rows"]) == len(reference),
        60,
        "the second worker to see the catalog (global table)",
    )
    publish(settings, stream)
    wait_until(lambda: accepted_total(first) > 0 and accepted_total(second) > 0, 60, "both working")
    first.kill()

    expected_lines = sum(row["accepted"] + row["duplicates"] for row in expected["quality"])
    wait_until(
        lambda: accepted_total(second) == expected_lines,
        240,
        f"the survivor to account for all {expected_lines} lines",
    )
    matches_replay(settings, second, 120, "the survivor")
