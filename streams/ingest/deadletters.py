"""Reading the dead-letter topic: what was rejected, why, from where, with its bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from domain.timeutil import iso_z
from schemas.deadletter import DeadLetter
from schemas.topics import DEAD_LETTER_TOPIC, topic_name
from streams.config import Settings
from streams.kafka.io import kafka_partition_of, started

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    """A dead letter and where it is stored (its partition and offset on the topic)."""

    partition: int
    offset: int
    letter: DeadLetter

    @property
    def where(self) -> str:
        return f"{self.partition}@{self.offset}"

    @property
    def input_at(self) -> tuple[str, int, int, int | None] | None:
        """The Kafka input (and line of a bundle) it rejects; None when it came from
        elsewhere (a file's line has no partition), where two alike are two inputs."""
        letter = self.letter
        if letter.partition is None or letter.offset is None:
            return None
        return letter.source, letter.partition, letter.offset, letter.index

    def selected(
        self, reason: str | None = None, key: str | None = None, source: str | None = None
    ) -> bool:
        """Whether it has this reason, this message key (a distributor's, for the raw topics
        keyed by distributor) and this source: the door it came in by (`csv`, `edi867`...)
        or text its topic contains; None matches anything."""
        letter = self.letter
        return (
            (reason is None or letter.reason == reason)
            and (key is None or letter.key == key)
            and (source is None or source == letter.door or source in letter.source)
        )

    def to_json(self) -> dict[str, Any]:
        """Where it is stored, where it came from, why, and the original bytes (as text too
        when they are UTF-8)."""
        letter = self.letter
        original = letter.original
        try:
            text: str | None = original.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return {
            "partition": self.partition,
            "offset": self.offset,
            "reason": letter.reason,
            "detail": letter.detail,
            "key": letter.key,
            "source": letter.source,
            "door": letter.door,
            "source_ref": letter.source_ref,
            "source_partition": letter.partition,
            "source_offset": letter.offset,
            "source_index": letter.index,
            "recorded_at": iso_z(letter.recorded_at),
            "original": text,
            "original_b64": letter.original_b64,
        }


@dataclass(frozen=True, slots=True)
class LetterQuery:
    """Which dead letters, in which order, which page of them."""

    reason: str | None = None
    #: the message key: a distributor's id for the raw topics keyed by distributor
    key: str | None = None
    #: the door it came in by, or text its topic must contain
    source: str | None = None
    #: latest first (by when they were dead-lettered); else in topic order
    newest: bool = False
    offset: int = 0
    limit: int = 1000

    def admits(self, stored: StoredDeadLetter) -> bool:
        return stored.selected(self.reason, self.key, self.source)


#: a page of dead letters, read where the HTTP API reads them (Kafka or the embedded run)
LetterSource = Callable[[LetterQuery], Awaitable[list["StoredDeadLetter"]]]


class FirstCopies:
    """Keeps each input's first letter in topic order. A worker killed after sending a
    batch's letters and before storing it sends them again when it reads the batch again
    (as does a rebuild of the state under a new app id): the copies reject the same input
    and are listed once, as the counts count them."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, int, int, int | None]] = set()

    def first(self, stored: StoredDeadLetter) -> bool:
        """Whether `stored` is the first of its input read so far (call in topic order)."""
        at = stored.input_at
        if at is None:
            return True
        if at in self._seen:
            return False
        self._seen.add(at)
        return True


def first_copies(letters: list[StoredDeadLetter]) -> list[StoredDeadLetter]:
    """`letters` (of one partition, in topic order) without the copies of a letter before."""
    keep = FirstCopies()
    return [stored for stored in letters if keep.first(stored)]


def page_of(letters: list[StoredDeadLetter], query: LetterQuery) -> list[StoredDeadLetter]:
    """The page `query` asks for of letters in topic order (the embedded runner's list)."""
    found = [stored for stored in letters if query.admits(stored)]
    if query.newest:
        found.sort(key=_newest_first)
    return found[query.offset : query.offset + query.limit]


def _newest_first(stored: StoredDeadLetter) -> tuple[float, int, int]:
    return (-stored.letter.recorded_at.timestamp(), -stored.partition, -stored.offset)


class NoDeadLetterTopic(LookupError):
    """The dead-letter topic is not on the cluster."""


def dead_letter_topic(settings: Settings) -> str:
    return topic_name(settings.topic_prefix, DEAD_LETTER_TOPIC)


async def dead_letters(
    settings: Settings, partition: int | None = None, offset: int | None = None
) -> AsyncIterator[StoredDeadLetter]:
    """Every dead letter up to the topic's current end (or only the one at partition/offset).
    A topic that is not there is `NoDeadLetterTopic`: an empty list would read as "nothing
    was rejected" where the prefix or the cluster is the wrong one."""
    consumer = await started(_consumer(settings))
    try:
        found = await _partitions(consumer, settings)
        if not found:
            raise NoDeadLetterTopic(
                f"no topic {dead_letter_topic(settings)} at {settings.kafka_bootstrap}: check "
                "--prefix and --kafka (a worker or `channelflow topics` creates it)"
            )
        partitions = [tp for tp in found if partition in (None, tp.partition)]
        if not partitions:
            return
        consumer.assign(partitions)
        end = await consumer.end_offsets(partitions)
        start = offset or 0
        for tp in partitions:
            consumer.seek(tp, start)
        remaining = {tp for tp in partitions if end[tp] > start}
        copies = {tp: FirstCopies() for tp in partitions}  # a letter's copies: one partition
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=5000)
            for tp in list(remaining):
                fetched = batches.get(tp, [])
                for record in fetched:
                    if not start <= record.offset < end[tp]:
                        continue
                    stored = StoredDeadLetter(tp.partition, record.offset, _letter(record.value))
                    if copies[tp].first(stored) and offset in (None, record.offset):
                        yield stored
                past = offset is not None and any(r.offset >= offset for r in fetched)
                if past or await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()


async def collect_dead_letters(
    settings: Settings, partition: int | None = None, offset: int | None = None
) -> list[StoredDeadLetter]:
    """`dead_letters` as a list."""
    return [stored async for stored in dead_letters(settings, partition, offset)]


def _letter(value: bytes | None) -> DeadLetter:
    try:
        return DeadLetter.read(value or b"")
    except ValidationError as exc:  # not written by a worker: show it as it is
        return DeadLetter.of(
            value or b"",
            "unreadable_dead_letter",
            str(exc).splitlines()[0],
            "deadletters",
            _EPOCH,
        )


async def dead_letter_page(settings: Settings, query: LetterQuery) -> list[StoredDeadLetter]:
    """One page of the dead-letter topic, reading about what the page needs: in topic order
    from each partition's start until the page is full; latest first from each partition's
    end backwards, in growing windows, until each has given a page's worth (appends are in
    order, so a partition's latest are at its end). A key reads only its partition."""
    wanted = query.offset + query.limit
    consumer = await started(_consumer(settings))
    try:
        partitions = await _partitions(consumer, settings)
        if query.key is not None and partitions:
            partitions = [partitions[kafka_partition_of(query.key, len(partitions))]]
        if not partitions:
            return []
        consumer.assign(partitions)
        begin = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        if query.newest:
            latest = await _latest(consumer, {tp: (begin[tp], end[tp]) for tp in partitions}, query)
            return sorted(latest, key=_newest_first)[query.offset : wanted]
        letters: list[StoredDeadLetter] = []
        for tp in partitions:
            letters += await _earliest(consumer, tp, begin[tp], end[tp], query, wanted)
            if len(letters) >= wanted:
                break
        return letters[query.offset : wanted]
    finally:
        await consumer.stop()


async def _read(
    consumer: AIOKafkaConsumer, windows: dict[TopicPartition, tuple[int, int]]
) -> dict[TopicPartition, list[StoredDeadLetter]]:
    """The letters at offsets [start, stop) of each partition's window, all read at once:
    every partition is positioned first, so one fetch serves them all (a partition
    positioned after the consumer fetched it waits out the fetcher's backoff, 100 ms)."""
    found: dict[TopicPartition, list[StoredDeadLetter]] = {tp: [] for tp in windows}
    reading = {tp for tp, (start, stop) in windows.items() if start < stop}
    for tp in reading:
        consumer.seek(tp, windows[tp][0])
    while reading:
        batch = await consumer.getmany(*reading, timeout_ms=1000, max_records=5000)
        for tp, records in batch.items():
            start, stop = windows[tp]
            found[tp] += [
                StoredDeadLetter(tp.partition, r.offset, _letter(r.value))
                for r in records
                if start <= r.offset < stop
            ]
        reading = {tp for tp in reading if await consumer.position(tp) < windows[tp][1]}
    return found


async def _earliest(
    consumer: AIOKafkaConsumer, tp: TopicPartition, begin: int, end: int, query: LetterQuery,
    wanted: int,
) -> list[StoredDeadLetter]:  # fmt: skip
    found: list[StoredDeadLetter] = []
    copies = FirstCopies()
    start, window = begin, max(wanted, 100)
    while start < end and len(found) < wanted:
        stop = min(end, start + window)
        read = await _read(consumer, {tp: (start, stop)})
        found += [s for s in read[tp] if copies.first(s) and query.admits(s)]
        start, window = stop, window * 2
    return found


async def _latest(
    consumer: AIOKafkaConsumer, ranges: dict[TopicPartition, tuple[int, int]], query: LetterQuery
) -> list[StoredDeadLetter]:
    """Each partition's latest admitted letters, at least a page's worth where it has them:
    windows back from the ends, growing, the partitions still short of a page read
    together."""
    wanted = query.offset + query.limit
    found: dict[TopicPartition, list[StoredDeadLetter]] = {tp: [] for tp in ranges}
    stops = {tp: stop for tp, (_, stop) in ranges.items()}
    window = max(wanted, 100)
    while True:
        short = [tp for tp in ranges if stops[tp] > ranges[tp][0] and len(found[tp]) < wanted]
        if not short:
            return [letter for letters in found.values() for letter in letters]
        windows = {tp: (max(ranges[tp][0], stops[tp] - window), stops[tp]) for tp in short}
        read = await _read(consumer, windows)
        for tp, (start, _) in windows.items():  # read backwards: a copy may come first
            found[tp] = first_copies([s for s in read[tp] if query.admits(s)] + found[tp])
            stops[tp] = start
        window *= 2


def _consumer(settings: Settings) -> AIOKafkaConsumer:
    """A consumer of no group that reads from where it is told.

    It resets to the earliest offset: aiokafka starts an offset reset as soon as
    partitions are assigned, and one that lands after our seek wins. With the default
    ("latest") a read could start at the end and miss letters, or wait forever for them.
    """
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


async def _partitions(consumer: AIOKafkaConsumer, settings: Settings) -> list[TopicPartition]:
    """The dead-letter topic's partitions, in order."""
    topic = dead_letter_topic(settings)
    cluster = await consumer._client.fetch_all_metadata()
    return [TopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic) or ())]
