"""A fetch waiting while faust's active partitions go empty hands over nothing
(streams/worker/committed.py, `Fetching`).

faust gives its consumer thread its set of active partitions and changes it while the fetch
waits; at the end of a recovery it pauses the changelogs before making the stream partitions
active, so the set is empty for a moment, and aiokafka reads an empty set as every partition:
the records of a paused partition were handed over, and faust let them go. Here a partition's
records wait fetched while the set holds another partition only; the set is emptied and a
record arrives on the other one, which wakes the fetch."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Set

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.kafka.io import delete_topics
from streams.worker.committed import Fetching

RECORDS = 10


async def handed_over(
    bootstrap: str, tag: str, view: Callable[[set[TopicPartition]], Set[TopicPartition]]
) -> set[TopicPartition]:
    paused, other = TopicPartition(f"{tag}.paused", 0), TopicPartition(f"{tag}.other", 0)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
    )  # fmt: skip
    try:
        for n in range(RECORDS):
            await producer.send_and_wait(paused.topic, f"record {n}".encode(), partition=0)
        await producer.send_and_wait(other.topic, b"first", partition=0)
        await consumer.start()
        consumer.assign([paused, other])
        fetcher = consumer._fetcher
        active = {other}
        assert await fetcher.fetched_records(view(active), timeout=30)  # "first"
        for _ in range(600):  # the paused partition's records fetched, waiting to be taken
            if paused in fetcher._records:
                break
            await asyncio.sleep(0.05)
        assert paused in fetcher._records

        async def empty_then_wake() -> None:
            await asyncio.sleep(0.5)
            active.clear()  # faust pausing the changelogs at a recovery's end
            await producer.send_and_wait(other.topic, b"wake", partition=0)

        waking = asyncio.ensure_future(empty_then_wake())
        got = await fetcher.fetched_records(view(active), timeout=5)
        await waking
        return set(got)
    finally:
        await consumer.stop()
        await producer.stop()


def test_a_fetch_hands_over_no_partition_once_none_is_active(kafka_bootstrap: str) -> None:
    tag = f"t{uuid.uuid4().hex[:10]}"
    try:
        assert asyncio.run(handed_over(kafka_bootstrap, tag, Fetching)) == set()
    finally:
        asyncio.run(delete_topics(kafka_bootstrap, tag))
