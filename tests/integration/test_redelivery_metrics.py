"""A worker handed again every message it had stored counts none of their events again
(docs/dashboard.md, `channelflow_messages_redelivered_total`).

The worker stores a channel, stops; its consumer group's offsets are set back to the second
message of every partition it reads (as faust leaves them behind the stored checkpoints when
a worker dies before it commits; with nothing committed past 0 the worker resumes at its
checkpoints instead, docs/DESIGN.md "Progress checkpoints"), and the same worker, on the same
data directory, starts again: it reads every message after the first again, changes nothing,
and counts each as redelivered, not its events as consumed, nor its dead letters."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from schemas.topics import INTERNAL_TOPICS, topic_name
from streams.config import Settings
from streams.generator import generate_channel
from streams.worker.app import CONSUMED_TOPICS
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.helpers import expected_snapshot, publish_reference_first, weeks_ago

pytestmark = pytest.mark.kafka


#: the counters read, each summed over its series
COUNTERS = (
    "channelflow_events_consumed",
    "channelflow_messages_redelivered",
    "channelflow_dead_letters",
)


def totals(worker: WorkerProcess) -> dict[str, float]:
    """The counters, and `lagging`: the partitions whose lag is not measured at 0."""
    text = worker.metrics_text()
    found = dict.fromkeys(COUNTERS, 0.0)
    lag = []
    for family in text_string_to_metric_families(text):
        samples = [s.value for s in family.samples if s.name.endswith("_total")]
        if family.name in found:
            found[family.name] += sum(samples)
        elif family.name == "channelflow_consumer_lag_messages":
            lag = [s.value for s in family.samples]
    found["lagging"] = len(partitions(worker.settings)) - lag.count(0)
    return found


def partitions(settings: Settings) -> list[TopicPartition]:
    names = (topic_name(settings.topic_prefix, t) for t in (*CONSUMED_TOPICS, *INTERNAL_TOPICS))
    return [TopicPartition(name, p) for name in names for p in range(settings.partitions)]


async def ends(settings: Settings) -> dict[TopicPartition, int]:
    """The end offset of every partition the worker reads."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        return await consumer.end_offsets(partitions(settings))
    finally:
        await consumer.stop()


async def commit_for_the_group(settings: Settings, *, at_the_ends: bool = False) -> bool:
    """Commit offset 1 (or its end) on every partition that has a message for the worker's
    consumer group; False while the group still has its (static) member, until the
    broker's session timeout ends it."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=settings.app_id,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        every = partitions(settings)
        consumer.assign(every)
        ends = {tp: end for tp, end in (await consumer.end_offsets(every)).items() if end}
        offsets = ends if at_the_ends else dict.fromkeys(ends, 1)
        await consumer.commit(offsets)
        return True
    except Exception:
        return False
    finally:
        await consumer.stop()


def test_a_worker_reading_every_stored_message_again_counts_no_event_again(settings, tmp_path):
    events = generate_channel(seed=41, weeks=1, start=weeks_ago(2))
    assert expected_snapshot(events)["dead_letters"]  # the generator's conflicting resends
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    try:
        worker.start()
        publish_reference_first(settings, worker, events)
        wait_until(lambda: totals(worker)["lagging"] == 0, 120, "every message stored")
        stored = asyncio.run(ends(settings))
        messages = sum(stored.values())
        first = totals(worker)
        assert first["channelflow_events_consumed"] >= messages  # a bundle holds several
        assert first["channelflow_messages_redelivered"] == 0
        before = worker.get("/api/snapshot")
        worker.stop()
        wait_until(lambda: asyncio.run(commit_for_the_group(settings)), 60, "the group rewound")
        again_read = sum(end - 1 for end in stored.values() if end)

        worker.start()
        again = wait_until(
            lambda: (t := totals(worker))["channelflow_messages_redelivered"] == again_read and t,
            120,
            "every message read again",
        )
        assert again["channelflow_events_consumed"] == 0
        assert again["channelflow_dead_letters"] == 0
        assert worker.get("/api/snapshot") == before
    finally:
        worker.kill()
