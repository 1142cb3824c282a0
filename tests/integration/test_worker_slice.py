"""The vertical slice on the real broker: Kafka -> Faust agent -> reducer -> table -> HTTP."""

from __future__ import annotations

import pytest

from tests.integration.conftest import wait_until
from tests.integration.helpers import (
    comparable,
    expected_snapshot,
    order_independent_channel,
    publish,
    publish_reference_first,
)

pytestmark = pytest.mark.kafka


def test_published_events_reach_the_http_view_with_the_right_numbers(settings, worker_factory):
    events = order_independent_channel()
    expected = comparable(expected_snapshot(events))
    assert any(row["duplicates"] for row in expected["quality"]), "fixture needs duplicates"
    assert any(row["conflicts"] for row in expected["quality"]), "fixture needs conflicts"
    for key in ("violations", "price_protection", "rebates", "sell_in_vs_through"):
        assert expected[key], f"fixture needs {key}"

    worker = worker_factory().start()
    publish_reference_first(settings, worker, events)

    live = wait_until(
        lambda: (s := comparable(worker.get("/api/snapshot"))) == expected and s,
        90,
        "the live snapshot to equal the replay",
    )
    assert live["inventory"] == expected["inventory"]
    row = worker.get("/api/inventory?distributor_id=" + expected["inventory"][0]["distributor_id"])
    assert {r["sku"] for r in row["rows"]} == {
        r["sku"]
        for r in expected["inventory"]
        if r["distributor_id"] == row["rows"][0]["distributor_id"]
    }


def test_a_worker_killed_before_committing_does_not_double_count(settings, worker_factory):
    events = order_independent_channel(seed=5)
    half = len(events) // 2
    expected_half = comparable(expected_snapshot(events[:half]))
    expected_all = comparable(expected_snapshot(events))

    first = worker_factory().start()
    publish_reference_first(settings, first, events[:half])
    wait_until(
        lambda: comparable(first.get("/api/snapshot")) == expected_half,
        90,
        "the first half to be applied",
    )
    first.kill()  # SIGKILL right after applying: offsets of the last batches are not committed

    second = worker_factory().start()
    publish(settings, events[half:])
    wait_until(
        lambda: comparable(second.get("/api/snapshot")) == expected_all,
        120,
        "the restarted worker to reach the full snapshot",
    )
