"""A history published before the worker starts is applied in broker-time order, as the
auditor's replay merges it (docs/DESIGN.md, "Broker-time order in the worker"): counts and
movements published together give the replay's `late_after_count` and reconciliations.
(Workers joining and dying during the backlog are not covered: docs/DESIGN.md says why.)"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, time

import pytest

from schemas.events import Envelope, InventoryCounted, SaleReported, ShipmentRecorded
from streams.config import Settings
from streams.generator import generate_channel
from streams.kafka.io import ensure_topics, publish_events
from tests.integration.conftest import WorkerProcess
from tests.integration.helpers import (
    catalog,
    counts_first_by_day,
    is_reference,
    matches_replay,
    metric_sum,
    numbered_sales,
    numbered_shipments,
    publish,
    verify,
    weeks_ago,
)

pytestmark = pytest.mark.kafka


def movements_by_day(events: Sequence[Envelope]) -> list[list[Envelope]]:
    assert sum(isinstance(e, InventoryCounted) for e in events) > 100, "fixture needs counts"
    return counts_first_by_day(events)


def late_moves(days: Sequence[Sequence[Envelope]]) -> int:
    """How many sales and shipments a count published before them on their day makes late."""
    late = 0
    for day in days:
        counted = {
            (e.distributor_id, e.sku): e.counted_at for e in day if isinstance(e, InventoryCounted)
        }
        for e in day:
            if isinstance(e, SaleReported | ShipmentRecorded):
                at = counted.get((e.distributor_id, e.sku))
                late += at is not None and e.business_time <= at
    return late


def publish_by_day(settings: Settings, days: Sequence[Sequence[Envelope]]) -> None:
    """Each day's counts, acknowledged by the broker, then its sales and shipments: sent
    together, a producer's request could append a sales batch before the counts batch,
    and the count would make nothing late (a fixture that failed now and then)."""

    async def run() -> None:
        await ensure_topics(settings)
        for day in days:
            counts = [e for e in day if isinstance(e, InventoryCounted)]
            await publish_events(settings, counts)
            await asyncio.sleep(0.002)  # the broker's clock has millisecond steps
            await publish_events(settings, [e for e in day if not isinstance(e, InventoryCounted)])

    asyncio.run(run())


def settled_like_the_replay(settings: Settings, worker: WorkerProcess, dsn: str) -> None:
    live = matches_replay(settings, worker)
    assert any(row["late_after_count"] for row in live["inventory"])
    # and the counts' reconciliations recorded as the replay derives them
    result = verify(worker, dsn)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified" in result.stdout


def test_a_backlog_of_counts_and_movements_is_applied_as_the_replay_reads_it(
    settings, worker_factory
):
    events = generate_channel(seed=5, weeks=1)
    publish(settings, [e for e in events if is_reference(e)])
    days = movements_by_day(events)
    assert late_moves(days) > 10, "fixture needs late moves"
    publish_by_day(settings, days)

    # The wait bound trades order for progress when a caught-up partition's next fetch is
    # late (an expired hold applies its inputs as they come); on a loaded machine a fetch
    # can lag past the default 1 s. The test is of the order: it gives the bound room, and
    # none may expire.
    worker = worker_factory({"CHANNELFLOW_ORDER_WAIT_SECONDS": "30"}).start()
    settled_like_the_replay(settings, worker, settings.eventstore_url)
    assert metric_sum(worker, "channelflow_order_waits_expired_total") == 0


def test_a_topic_behind_is_waited_for_past_the_bound(settings, worker_factory):
    """The bound governs caught-up topics only (Kafka Streams since KIP-695): with it at a
    millisecond, a backlog still comes out in the replay's order, since every topic behind
    (data on the broker not fetched yet) is waited for however long its fetch takes. A
    worker passing a topic behind after the bound applies the counts before the day's
    earlier sales and shipments from other topics' fetches, and differs."""
    events = generate_channel(seed=5, weeks=1)
    publish(settings, [e for e in events if is_reference(e)])
    publish_by_day(settings, movements_by_day(events))

    worker = worker_factory({"CHANNELFLOW_ORDER_WAIT_SECONDS": "0.001"}).start()
    settled_like_the_replay(settings, worker, settings.eventstore_url)
    assert metric_sum(worker, "channelflow_order_stalls_total") == 0


def test_a_topic_held_past_its_cap_stops_being_fetched_until_it_drains(settings, worker_factory):
    """A distributor's sales, one a message, published before its shipments, and fetched
    a few kilobytes at a time: every shipment is stamped after every sale, so they are all
    held until the sales are all in. Past the cap (100 events; the shipments are 1,000 in
    two bundles) their topic partition's fetching is paused, and resumed once they drain:
    the worker ends as the replay does, with nothing held or paused."""
    at = datetime.combine(weeks_ago(3), time(9), UTC)
    publish(settings, catalog("SKU-H"))
    publish(settings, numbered_sales(0, 2000, sku="SKU-H", distributors=1, at=at), bundle=1)
    publish(settings, numbered_shipments(1000, sku="SKU-H", at=at))

    worker = worker_factory(
        {"CHANNELFLOW_ORDER_HELD_MAX_EVENTS": "100", "CONSUMER_MAX_FETCH_SIZE": "16384"}
    ).start()
    matches_replay(settings, worker)
    assert metric_sum(worker, "channelflow_order_pauses_total") >= 1
    # what a paused partition's fetch brought is fetched again on resume: no gap to reread
    assert metric_sum(worker, "channelflow_input_rewinds_total") == 0
    assert metric_sum(worker, "channelflow_order_held_events") == 0
    assert metric_sum(worker, "channelflow_order_paused_partitions") == 0
