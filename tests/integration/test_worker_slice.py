"""The vertical slice on the real broker: Kafka -> Faust agent -> reducer -> table -> HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.helpers import (
    comparable,
    expected_snapshot,
    matches_replay,
    order_independent_channel,
    publish_reference_first,
)

pytestmark = pytest.mark.kafka


def stock(snapshot: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What moved and what became of the lines, whatever "now" is (weeks of supply, value
    and missing weeks move with it)."""
    keys = ("distributor_id", "sku", "sell_in", "sell_through", "expected_on_hand")
    lines = ("distributor_id", "accepted", "duplicates", "conflicts", "rejected")
    return [
        *(tuple(row[k] for k in keys) for row in snapshot["inventory"]),
        *(tuple(row[k] for k in lines) for row in snapshot["quality"]),
        *(tuple(sorted(row.items())) for row in snapshot["violations"]),
    ]


def test_published_events_reach_the_http_view_with_the_right_numbers(settings, worker_factory):
    events = order_independent_channel()
    expected = comparable(expected_snapshot(events))
    assert any(row["duplicates"] for row in expected["quality"]), "fixture needs duplicates"
    assert any(row["conflicts"] for row in expected["quality"]), "fixture needs conflicts"
    for key in ("violations", "price_protection", "rebates", "sell_in_vs_through"):
        assert expected[key], f"fixture needs {key}"

    worker = worker_factory().start()
    publish_reference_first(settings, worker, events)

    live = matches_replay(settings, worker)
    # recorded now by the broker, not when the events say: the same stock and lines
    assert stock(live) == stock(expected)
    row = worker.get("/api/inventory?distributor_id=" + expected["inventory"][0]["distributor_id"])
    assert {r["sku"] for r in row["rows"]} == {
        r["sku"]
        for r in expected["inventory"]
        if r["distributor_id"] == row["rows"][0]["distributor_id"]
    }


def test_a_worker_killed_before_committing_does_not_double_count(settings, worker_factory):
    events = order_independent_channel(seed=5)
    half = len(events) // 2
    expected_all = comparable(expected_snapshot(events))

    first = worker_factory().start()
    publish_reference_first(settings, first, events[:half])
    matches_replay(settings, first, what="the first worker")
    first.kill()  # SIGKILL right after applying: offsets of the last batches are not committed

    second = worker_factory().start()
    # prices before the sales they govern (docs/DESIGN.md, "Order of arrival"): published
    # together, a sale could be judged before a price of the same half reached the worker
    publish_reference_first(settings, second, events[half:])
    live = matches_replay(settings, second, 120, "the restarted worker")
    assert stock(live) == stock(expected_all)
