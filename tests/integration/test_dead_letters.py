"""Malformed messages land in the dead-letter topic with their reason and original bytes."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError

from schemas.codec import encode_event
from schemas.deadletter import DeadLetter
from schemas.events import SaleReported
from schemas.topics import topic_name
from streams.config import Settings
from streams.ingest.deadletters import (
    LetterQuery,
    collect_dead_letters,
    dead_letter_page,
    page_of,
)
from streams.kafka.io import ensure_topics
from streams.kafka.letter_outbox import LetterOutbox
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.helpers import catalog, letter_counts, publish_reference_first

pytestmark = pytest.mark.kafka


def _sale(distributor: str, transaction: str) -> SaleReported:
    at = datetime(2026, 7, 7, 10, tzinfo=UTC)
    return SaleReported(
        event_id=uuid.uuid4(),
        occurred_at=at,
        source="kafka",
        distributor_id=distributor,
        transaction_id=transaction,
        reseller_id="R1",
        sku="SKU-1",
        quantity=2,
        unit_price=Decimal("10.00"),
        currency="USD",
        sold_at=at,
    )


async def _produce(
    bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]
) -> list[tuple[int, int]]:
    """Send in order; returns each message's (partition, offset)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = [await producer.send_and_wait(topic, value, key=key) for key, value in messages]
    finally:
        await producer.stop()
    return [(meta.partition, meta.offset) for meta in sent]


async def _consume(bootstrap: str, topic: str, count: int) -> list[DeadLetter]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        async with asyncio.timeout(60):
            while len(letters) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    letters.extend(DeadLetter.model_validate_json(r.value) for r in records)
    finally:
        await consumer.stop()
    return letters


def _in_the_topic(
    settings: Settings, bad_messages: list[tuple[bytes, bytes]], positions: list[tuple[int, int]]
) -> None:
    """Each bad message is in the dead-letter topic with its reason, original and position."""
    sales_topic = topic_name(settings.topic_prefix, "sales")
    letters = asyncio.run(
        _consume(settings.kafka_bootstrap, topic_name(settings.topic_prefix, "deadletters"), 3)
    )
    by_reason = {letter.reason: letter for letter in letters}
    assert set(by_reason) == {"invalid_json", "schema_violation", "wrong_message_key"}
    assert by_reason["invalid_json"].original == bad_messages[0][1]
    assert by_reason["schema_violation"].original == bad_messages[1][1]
    assert "unit_price" in by_reason["schema_violation"].detail
    assert "float" in by_reason["schema_violation"].detail
    assert all(letter.source == sales_topic for letter in letters)
    assert [
        (by_reason[r].partition, by_reason[r].offset)
        for r in ("invalid_json", "schema_violation", "wrong_message_key")
    ] == positions[:3]


def _served_over_http(
    worker: WorkerProcess,
    bad_messages: list[tuple[bytes, bytes]],
    positions: list[tuple[int, int]],
) -> list[dict[str, Any]]:
    """The dead-letter counts by reason and the lines themselves over HTTP (every line, and one
    distributor's)."""
    # counted in the state a batch commits after its letters went out, and D-BAD's and
    # D-OTHER's partitions are read side by side with D-OK's: wait for all three
    counts = wait_until(lambda: sum((found := letter_counts(worker)).values()) >= 3 and found,
                        60, "the three letters counted")  # fmt: skip
    assert counts == {"invalid_json": 1, "schema_violation": 1, "wrong_message_key": 1}

    # the lines themselves over HTTP, read from the dead-letter topic
    served = worker.get("/api/dead-letters/lines")["rows"]
    assert sorted(
        (row["source_partition"], row["source_offset"], row["key"], row["reason"],
         base64.b64decode(row["original_b64"]))
        for row in served
    ) == sorted(
        (*position, key.decode(), reason, value)
        for position, (key, value), reason in zip(
            positions, bad_messages, ("invalid_json", "schema_violation", "wrong_message_key"),
            strict=False,
        )
    )  # fmt: skip
    assert {
        row["key"] for row in worker.get("/api/dead-letters/lines?distributor_id=D-BAD")["rows"]
    } == {"D-BAD"}
    return served


def _read_again_and_again(settings: Settings, served: list[dict[str, Any]]) -> None:
    """Read again and again in one process, all of them and each one by its position: an
    offset reset racing the seek once made a read start at the end and wait forever."""

    async def reads() -> list[list[tuple[int, int]]]:
        found = []
        for _ in range(8):
            every = await asyncio.wait_for(collect_dead_letters(settings), 30)
            found.append(sorted((s.partition, s.offset) for s in every))
            for partition, offset in found[-1]:
                (one,) = await asyncio.wait_for(
                    collect_dead_letters(settings, partition, offset), 30
                )
                assert (one.partition, one.offset) == (partition, offset)
        return found

    stored = sorted((row["partition"], row["offset"]) for row in served)
    assert asyncio.run(reads()) == [stored] * 8


def test_malformed_messages_are_dead_lettered_and_the_agent_keeps_going(settings, worker_factory):
    sales_topic = topic_name(settings.topic_prefix, "sales")
    good = _sale("D-OK", "T-1")
    float_money = orjson.loads(encode_event(_sale("D-BAD", "T-2")))
    float_money["unit_price"] = 10.5
    bad_messages = [
        (b"D-BAD", b'{"event_type": "SaleReported", "quantity": '),  # truncated JSON
        (b"D-BAD", orjson.dumps(float_money)),  # schema violation
        (b"D-OTHER", encode_event(_sale("D-BAD", "T-3"))),  # keyed to the wrong partition
    ]
    asyncio.run(ensure_topics(settings))
    worker = worker_factory().start()
    publish_reference_first(settings, worker, catalog("SKU-1"))
    positions = asyncio.run(
        _produce(
            settings.kafka_bootstrap, sales_topic, [*bad_messages, (b"D-OK", encode_event(good))]
        )
    )

    quality = wait_until(
        lambda: {r["distributor_id"]: r for r in worker.get("/api/quality")["rows"]}.get("D-OK"),
        60,
        "the valid sale after the bad ones",
    )
    assert quality["accepted"] == 1
    _in_the_topic(settings, bad_messages, positions)
    served = _served_over_http(worker, bad_messages, positions)
    _read_again_and_again(settings, served)


def test_a_page_of_dead_letters_reads_what_it_needs_and_equals_the_whole_topic_paged(settings):
    """`dead_letter_page` (what the API reads: windows from a partition's start or end, one
    partition for a key) gives the page the whole topic would, for every kind of query."""
    topic = topic_name(settings.topic_prefix, "deadletters")
    at = datetime(2026, 7, 7, tzinfo=UTC)
    letters = [
        DeadLetter.of(
            f"line {n}".encode(),
            ("unknown_sku", "future_date")[n % 2],
            "why",
            ("sales", "csv")[n % 3 == 0],
            at + timedelta(seconds=n),
            0,
            n,
            f"D{n % 5}",
        )
        for n in range(700)
    ]

    async def write() -> None:
        await ensure_topics(settings)
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
        await producer.start()
        try:
            for letter in letters:
                await producer.send(
                    topic, letter.model_dump_json().encode(), key=(letter.key or "").encode()
                )
            await producer.flush()
        finally:
            await producer.stop()

    asyncio.run(write())
    every = sorted(
        asyncio.run(collect_dead_letters(settings)), key=lambda s: (s.partition, s.offset)
    )
    assert len(every) == len(letters)
    queries = [
        LetterQuery(),
        LetterQuery(limit=10, newest=True),
        LetterQuery(offset=30, limit=25, newest=True),
        LetterQuery(key="D3", limit=50, offset=20),
        LetterQuery(key="D3", reason="future_date", newest=True, limit=7),
        LetterQuery(reason="unknown_sku", source="csv", offset=100, limit=40),
        LetterQuery(key="D9"),
    ]
    for query in queries:
        assert asyncio.run(dead_letter_page(settings, query)) == page_of(every, query), query


def test_a_batch_applied_again_after_its_dead_letters_went_out_sends_them_once(settings):
    """The worker's retry: a batch whose dead letters the broker acknowledged, then failed
    (Kafka away for its claim caps or changelog) and applied again, sends them once; a
    letter whose send failed is sent by the next attempt. Read back from the real topic."""
    asyncio.run(ensure_topics(settings))
    topic = topic_name(settings.topic_prefix, "deadletters")

    def attempt(n: int) -> list[DeadLetter]:  # the same inputs and reasons, another time
        at = datetime(2026, 7, 7, 10, tzinfo=UTC) + timedelta(seconds=n)
        return [
            DeadLetter.of(b"{", "invalid_json", "not JSON", "t.sales", at, 1, 4, "D1"),
            DeadLetter.of(b"[1]", "schema_violation", "x", "t.sales", at, 1, 5, "D1", index=0),
            DeadLetter.of(b"{}", "invalid_json", "not JSON", "t.sales", at, 2, 4, "D2"),
        ]

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        await producer.start()
        failing = {"at": 2}  # the producer refuses the third letter of the first attempt

        async def send(key: bytes, value: bytes) -> Any:
            if failing["at"] == 0:
                raise KafkaConnectionError("the broker went away")
            failing["at"] -= 1
            return await producer.send(topic, value, key=key)

        try:
            outbox = LetterOutbox(send)
            with pytest.raises(KafkaConnectionError):
                await outbox.send(attempt(1))
            failing["at"] = -1
            assert await outbox.send(attempt(2)) == 1  # only the one refused
            assert await outbox.send(attempt(3)) == 0  # a batch failing after its letters
        finally:
            await producer.stop()

    asyncio.run(run())
    stored = [DeadLetter.model_validate_json(value) for value in asyncio.run(records(settings))]
    assert sorted((s.partition, s.offset, s.reason) for s in stored) == [
        (1, 4, "invalid_json"),
        (1, 5, "schema_violation"),
        (2, 4, "invalid_json"),
    ]


async def records(settings: Settings) -> list[bytes]:
    """Every record on the dead-letter topic as stored, copies included (the readers of
    `streams.ingest.deadletters` list an input's letter once)."""
    topic = topic_name(settings.topic_prefix, "deadletters")
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        partitions = partitions or [TopicPartition(topic, p) for p in range(settings.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        values: list[bytes] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                values += [r.value for r in batch if r.value is not None]
        return values
    finally:
        await consumer.stop()


def test_the_copies_a_restarted_worker_sends_again_are_listed_once(settings):
    """A worker killed between a batch's letters and its commit sends them again: every
    reader lists each input's letter once (the first), the whole topic and its pages in
    either order alike; letters of different lines of one bundle, or from a file, stay."""
    asyncio.run(ensure_topics(settings))
    topic = topic_name(settings.topic_prefix, "deadletters")
    at = datetime(2026, 7, 7, 10, tzinfo=UTC)

    def sent(n: int) -> list[DeadLetter]:  # the same inputs, sent at another time
        later = at + timedelta(seconds=n)
        return [
            DeadLetter.of(b"{", "invalid_json", "not JSON", "t.sales", later, 1, 4, "D1"),
            DeadLetter.of(b"[1]", "schema_violation", "x", "t.sales", later, 1, 5, "D1", index=0),
            DeadLetter.of(b"[2]", "schema_violation", "x", "t.sales", later, 1, 5, "D1", index=1),
            DeadLetter.of(b"x", "invalid_json", "not JSON", "upload.csv", later, None, 7, "D1"),
        ]

    async def write() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            for letter in [*sent(1), *sent(2)]:  # the second time: a restart's copies
                await producer.send(topic, letter.model_dump_json().encode(), key=b"D1")
            await producer.flush()
        finally:
            await producer.stop()

    asyncio.run(write())
    assert len(asyncio.run(records(settings))) == 8
    every = asyncio.run(collect_dead_letters(settings))
    listed = [(s.letter.offset, s.letter.index, s.letter.recorded_at) for s in every]
    first = at + timedelta(seconds=1)
    later = at + timedelta(seconds=2)
    assert listed == [(4, None, first), (5, 0, first), (5, 1, first), (7, None, first),
                      (7, None, later)]  # fmt: skip
    for query in (LetterQuery(), LetterQuery(newest=True), LetterQuery(key="D1", limit=2),
                  LetterQuery(newest=True, offset=1, limit=2)):  # fmt: skip
        assert asyncio.run(dead_letter_page(settings, query)) == page_of(every, query), query
