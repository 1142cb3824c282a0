"""The worker's recording rounds: price-protection claims, automatic period closes and
rebate statements recorded from the committed state, one round after another (never
overlapping), each in a thread (streams/runners/recording.py does the work)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import KafkaError
from faust.types import TP

from projections.clock import recorded_now
from schemas.events import RebatePeriodClosed
from schemas.topics import topic_name
from streams import metrics
from streams.config import Settings
from streams.health import Health
from streams.kafka.io import kafka_partition_of
from streams.kafka.messages import Message, message_of
from streams.kafka.reference import ReferenceReplica
from streams.runners.recording import AuditRecorder, Reach, record_round_failed
from streams.worker.stores import WorkerStores

#: the horizon of a partition nothing of which has been applied
NOTHING = datetime.min.replace(tzinfo=UTC)


def reach_of(
    sources: Iterable[str],
    caught_up: Collection[str],
    checked: datetime,
    now: Callable[[str], datetime | None],
) -> Reach:
    """How far `sources` (topic partitions) have been applied, in recorded time.

    Appends are in order, so a partition behind has applied everything recorded before its
    newest time applied (`now`, read before the caller reads the stores), but perhaps not
    every event of that ms. A partition `caught_up` (read to its end when checked) has
    applied whatever it held: no bound to `applied`; but what is appended after the check
    may be half applied by the time the stores are read, so `whole` stops at `checked`,
    when the check began (what the broker stamped before then was appended before it; a
    worker clock ahead of the broker's by d weakens this by d)."""
    applied: list[datetime] = []
    whole: list[datetime] = []
    for source in sources:
        if source in caught_up:
            whole.append(checked)
            continue
        newest = now(source)
        applied.append(NOTHING if newest is None else newest)
        whole.append(applied[-1])
    return Reach(min(applied, default=None), min(whole, default=None))


async def input_lag(consumer: Any, topics: set[str], stores: WorkerStores) -> dict[TP, int]:
    """Per owned partition of `topics`: its high watermark minus the position stored
    (raises KafkaError when the broker does not answer)."""
    owned = [tp for tp in consumer.assignment() if tp.topic in topics]
    ends = await consumer.highwaters(*owned) if owned else {}
    return {tp: end - stores.next_offset(f"{tp.topic}:{tp.partition}") for tp, end in ends.items()}


class RecordingRounds:
    """Rounds over the partitions this worker owns, and which of them are whole.

    A partition is whole once every raw input it owns was applied to its end since it was
    assigned. Until then its state may hold part of a batch: a worker killed while sending
    a batch's changelog writes leaves some of them on the changelog, which recovery
    restores, and the batch is applied whole again only when the agent gets to it. A
    round judges only whole partitions (statements and adjustments from half a batch would
    differ from the replay's)."""

    def __init__(
        self,
        app: Any,
        settings: Settings,
        stores: WorkerStores,
        health: Health,
        recorder: AuditRecorder,
        submit: Callable[[Sequence[Message]], Awaitable[None]],
        raw: set[str],
        owned_partitions: Callable[[], set[int]],
        reference: ReferenceReplica,
    ) -> None:
        self.app, self.settings, self.stores, self.health = app, settings, stores, health
        self.recorder, self.submit = recorder, submit
        self.raw, self.owned_partitions = raw, owned_partitions
        self.reference = reference
        self.whole: set[int] = set()

    def forget(self) -> None:
        """A rebalance: no partition is known whole until read to its end again."""
        self.whole.clear()

    async def run(self, steady: Callable[[], bool], applying: asyncio.Lock) -> None:
        """Recording rounds every CHANNELFLOW_CLAIMS_INTERVAL_SECONDS while the worker is
        steady and the event store reachable."""
        while True:
            await asyncio.sleep(self.settings.claims_interval_seconds)
            if not steady() or self.health.store_away is not None:
                continue
            await self.round(applying, steady)

    async def round(self, applying: asyncio.Lock, steady: Callable[[], bool]) -> None:
        # the rates a statement converts with are the replica's: every reference record the
        # broker stamped before `referenced` is applied before the readers copy them
        referenced = datetime.now(UTC)
        if not await self.reference.caught_up(self.reference.moment(), lambda: not steady()):
            return
        started = time.monotonic()
        try:
            closes = await self.record(applying, referenced)
            for close in closes:
                await self.submit([message_of(close)])
            self.health.recovered("recording")
        except Exception as exc:  # e.g. the event store away: the next round retries
            self.health.failed("recording", exc)
            record_round_failed(exc)
        metrics.ROUND_SECONDS.labels("recording").observe(time.monotonic() - started)

    async def record(
        self, applying: asyncio.Lock, referenced: datetime
    ) -> list[RebatePeriodClosed]:
        """Record, in a thread, what the committed state implies; returns the closes due.
        The readers live no longer than this: they hold the partitions' databases (and
        RocksDB's locks), which a rebalance may take away while the closes are published,
        and give back."""
        async with applying:  # between batches: the readers see whole ones
            owned_now = self.owned_partitions()
            checked = datetime.now(UTC)  # what a partition read to its end holds is older
            # under the lock: a batch applied between the two would count as read without
            # being in the readers' copies of the entities
            caught_up = await self.read_to_the_end()
            readers = self.stores.readers(owned_now)
        self.note_whole(owned_now, caught_up)
        clock = recorded_now(readers.clock)
        wall = datetime.now(UTC)
        closing_now = wall if clock is None else max(clock, wall)
        partitions, prefix = self.settings.partitions, self.settings.topic_prefix
        judged = owned_now & self.whole

        def owned(distributor_id: str) -> bool:
            return kafka_partition_of(distributor_id, partitions) in judged

        def horizon(distributor_id: str, basis: str) -> Reach:
            """Of the partitions of the basis's topic and of the agreements (which bind
            the programs), and no further than the reference data read."""
            partition = kafka_partition_of(distributor_id, partitions)
            names = ("shipments" if basis == "sell_in" else "sales", "agreements")
            sources = [f"{topic_name(prefix, name)}:{partition}" for name in names]
            return reach_of(sources, caught_up, checked, newest).within(referenced)

        def newest(source: str) -> datetime | None:
            clock = readers.clock.get(source)
            return None if clock is None else clock.recorded

        return await asyncio.get_running_loop().run_in_executor(
            None, self.recorder.round, readers, clock, closing_now, owned, horizon
        )

    async def read_to_the_end(self) -> set[str]:
        """The owned raw partitions ("topic:partition") applied up to their end."""
        try:
            lag = await input_lag(self.app.consumer, self.raw, self.stores)
        except KafkaError:
            return set()
        return {f"{tp.topic}:{tp.partition}" for tp, behind in lag.items() if behind <= 0}

    def note_whole(self, mine: set[int], caught_up: set[str]) -> None:
        inputs: dict[int, set[str]] = {}
        for tp in self.app.consumer.assignment():
            if tp.topic in self.raw:
                inputs.setdefault(tp.partition, set()).add(f"{tp.topic}:{tp.partition}")
        for partition in mine - self.whole:
            if inputs.get(partition, set()) <= caught_up:
                self.whole.add(partition)
