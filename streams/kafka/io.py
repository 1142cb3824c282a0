"""Kafka plumbing for the CLI and tests: create the raw topics, publish events keyed correctly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar, cast

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner

from schemas.decisions import DECISIONS_TOPIC
from schemas.events import Envelope
from schemas.topics import DEAD_LETTER_TOPIC, INTERNAL_TOPICS, RAW_TOPICS, topic_name
from streams import metrics
from streams.config import Settings
from streams.kafka.bootstrap_log import bootstrap_lines_held
from streams.kafka.messages import BUNDLE_EVENTS, Message, bundled, message_of

log = logging.getLogger("channelflow.topics")

_partitioner = DefaultPartitioner()


def kafka_partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2) gives a message key."""
    everything = list(range(partitions))
    return int(_partitioner(key.encode(), everything, everything))


#: Raw topics keep every event forever (auditors replay them), and the broker stamps each
#: message with its append time: the recorded_at of every event (a producer's own
#: timestamp is never trusted)
RAW_TOPIC_CONFIG = {
    "retention.ms": "-1",
    "cleanup.policy": "delete",
    "message.timestamp.type": "LogAppendTime",
}


async def ensure_topics(
    settings: Settings, check_partitions: bool = False, also: Sequence[NewTopic] = ()
) -> list[str]:
    """Create the raw, dead-letter, decisions and internal topics (idempotent), all with the same
    partition count, and the topics `also` names (a worker's own: `worker_topics`); with
    `check_partitions` (a worker, which computes each distributor's partition), refuse
    existing topics with another count. Producers need no check: the partitioner hashes a
    key over the topic's own partitions. Returns once the broker's metadata lists every
    topic created (`_visible`); returns every topic's name."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    with bootstrap_lines_held():
        await admin.start()
    try:
        existing = set(await admin.list_topics())
        logical = (*RAW_TOPICS, DEAD_LETTER_TOPIC, DECISIONS_TOPIC, *INTERNAL_TOPICS)
        wanted = [
            NewTopic(
                topic_name(settings.topic_prefix, t),
                settings.partitions,
                settings.replication_factor,
                topic_configs=RAW_TOPIC_CONFIG,
            )
            for t in logical
        ] + list(also)
        if check_partitions:
            split = [t.name for t in wanted if t.num_partitions == settings.partitions]
            await _check_partitions(admin, [name for name in split if name in existing], settings)
        missing = [topic for topic in wanted if topic.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker was first
                _refused(await admin.create_topics(missing))
            await _visible(admin, [topic.name for topic in missing])
        ours = [topic.name for topic in wanted[: len(logical)]]  # not `also`'s
        await _stamp_appends(admin, [name for name in ours if name in existing])
        return [topic.name for topic in wanted]
    finally:
        await admin.close()


#: how long `_visible` waits for the broker's metadata to list topics just created
VISIBLE_SECONDS = 30.0


async def _visible(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Wait until the broker's metadata lists each topic with a leader for every partition.
    The broker answers CreateTopics before its metadata has the topic (a KRaft broker
    applies it a moment later); a consumer group joined meanwhile is assigned without it
    (`streams.kafka.worker_topics`)."""
    deadline = time.monotonic() + VISIBLE_SECONDS
    while True:
        described = await admin.describe_topics(names)
        waiting = [
            topic["topic"]
            for topic in described
            if topic["error_code"]
            or not topic["partitions"]
            or any(p["leader"] < 0 for p in topic["partitions"])
        ]
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise TopicsRefused(
                f"created, but not in the broker's metadata after {VISIBLE_SECONDS:g} s: "
                + ", ".join(waiting)
            )
        await asyncio.sleep(0.1)


class TopicsRefused(Exception):
    """The broker would not create a topic (a replication factor above its broker count,
    a partition count it does not allow, ...)."""


def _refused(response: Any) -> None:
    """Raise what the broker refused in a CreateTopics answer (aiokafka returns it silently);
    a topic another process created meanwhile is no refusal."""
    already = TopicAlreadyExistsError.errno
    refusals: dict[str, list[str]] = {}
    for topic, code, message in response.topic_errors:
        if code not in (0, already):
            refusals.setdefault(message or f"error {code}", []).append(topic)
    if refusals:
        raise TopicsRefused(
            "; ".join(f"{', '.join(topics)}: {why}" for why, topics in refusals.items())
        )


class PartitionsDiffer(Exception):
    """Existing topics have another partition count than the settings say."""


async def _check_partitions(
    admin: AIOKafkaAdminClient, names: list[str], settings: Settings
) -> None:
    """Existing topics must have the partitions the settings say: a distributor's partition
    is computed from that count, so another one would split its lines between two."""
    if not names:
        return
    for topic in await admin.describe_topics(names):
        count = len(topic["partitions"])
        if count != settings.partitions:
            raise PartitionsDiffer(
                f"topic {topic['topic']} has {count} partitions, CHANNELFLOW_PARTITIONS is "
                f"{settings.partitions}: a topic's partition count is fixed when it is "
                f"created; set CHANNELFLOW_PARTITIONS={count} (or --partitions {count})"
            )


async def _stamp_appends(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Give raw topics created before their config said so the broker's append time."""
    if not names:
        return
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    described = await admin.describe_configs(resources)
    stale = [
        name
        for response in described
        for _, _, _, name, entries in response.resources
        if any(e[0] == "message.timestamp.type" and e[1] != "LogAppendTime" for e in entries)
    ]
    if stale:
        log.warning("raw topics %s now stamp messages with the broker's append time", stale)
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, RAW_TOPIC_CONFIG) for name in stale]
        )


async def delete_topics(bootstrap: str, prefix: str) -> list[str]:
    """Delete every topic whose name starts with `prefix` (what a test or bench run created
    under its own prefix); returns their names."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
        return names
    finally:
        await admin.close()


class _Client(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


Client = TypeVar("Client", bound=_Client)


async def started(client: Client) -> Client:
    """`client` (a consumer or a producer) started; stopped again when it cannot start (Kafka
    unreachable, or cancelled as a client started beside it gave up), so the command's
    one-line error is not followed by aiokafka's "Unclosed AIOKafkaConsumer"."""
    try:
        with bootstrap_lines_held():
            await client.start()
    except BaseException:
        await client.stop()
        raise
    return client


def start_producer(settings: Settings, linger_ms: int = 20) -> AIOKafkaProducer:
    """The idempotent `acks=all` producer; `linger_ms` 0 for a caller that awaits each
    call's acknowledgements at once (lingering would only add its delay to every call)."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        max_batch_size=512 * 1024,
    )


async def publish_events(
    settings: Settings, events: Iterable[Envelope], bundle: int = BUNDLE_EVENTS
) -> int:
    """Publish events to their raw topics, keyed for partitioning, runs of one topic and
    key in bundles of up to `bundle` (1: an event per message); returns the count."""
    producer = await started(start_producer(settings))
    sent = 0
    try:

        async def send(topic: str, key: bytes, value: bytes) -> Awaitable[Any]:
            return cast(Awaitable[Any], await producer.send(topic, value, key=key))

        chunk: list[Message] = []
        for event in events:
            chunk.append(message_of(event))
            if len(chunk) >= 10_000:
                sent += await send_messages(send, settings.topic_prefix, chunk, bundle)
                chunk = []
        sent += await send_messages(send, settings.topic_prefix, chunk, bundle)
    finally:
        await producer.stop()
    return sent


#: sends one Kafka message (topic, key, value); what it returns resolves once the broker
#: has it
Send = Callable[[str, bytes, bytes], Awaitable[Awaitable[Any]]]


async def send_messages(
    send: Send, prefix: str, messages: Sequence[Message], bundle: int = BUNDLE_EVENTS
) -> int:
    """Send messages to their raw topics in order, in bundles of up to `bundle`, and wait
    until the broker has them all; count them in the metrics; returns how many events
    went."""
    deliveries = [
        await send(topic_name(prefix, run.topic), run.key, run.value)
        for run in bundled(messages, bundle)
    ]
    for delivery in deliveries:
        await delivery
    produced = Counter((m.topic, m.event_type) for m in messages)
    for (topic, event_type), count in produced.items():
        metrics.EVENTS_PRODUCED.labels(topic_name(prefix, topic), event_type).inc(count)
    return len(messages)
