"""Reference data (catalog, prices, programs and closes, exchange rates, special price
authorizations) replicated whole into every worker.

Every worker needs every SKU's product and price history, whichever partitions it owns.
Rather than a Faust GlobalTable (whose writer does not re-read changes made by other
workers unless it re-reads its own too, which can briefly roll a value back), each worker
reads the raw reference topics (`schemas.topics.REFERENCE_TOPICS`) - retained forever -
from the beginning, on all partitions, through the same pure reducers. The agent that
owns a partition applies and dead-letters its messages as usual; applying the same
position twice is a no-op.

The agent applies a batch only once the replica has read every reference record the broker
acknowledged before the batch was received (`caught_up`, `streams/kafka/sync_points.py`),
as the Kafka replay, which reads the reference topics first, does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from projections.channel import apply_message
from projections.keyvalue import journaled, undo
from projections.positions import message_position
from projections.stores import ChannelStores
from schemas.topics import REFERENCE_TOPICS, topic_name
from streams import metrics
from streams.config import Settings
from streams.kafka.io import started
from streams.kafka.sync_points import StallWatch, SyncPoints

log = logging.getLogger("channelflow.reference")

#: how long a read waits for records when there are none (ms). A waiting batch never waits
#: on it: positions are compared as soon as an answer arrives and after each read
POLL_MS = 500
#: records applied per read
READ_RECORDS = 5000
#: records applied between two turns of the event loop (~5 ms of prices): a burst of reference
#: data does not hold up the API, the heartbeats and the agent for a whole read
SLICE_RECORDS = 200
#: seconds a batch waits for the replica before a warning is logged (it keeps waiting)
WARN_SECONDS = 5.0
#: how often a waiting batch asks whether it must give way (to a rebalance)
GIVE_WAY_SECONDS = 0.1
#: seconds before an end-offsets query that failed (the broker away) is tried again
RETRY_SECONDS = 1.0


class TopicMissing(Exception):
    """A reference topic does not exist (yet): the topics were never created."""


class ReferenceReplica:
    """`changed`, if given, is called after each batch of records applied, on the loop that
    runs the replica, before anything else runs there."""

    def __init__(
        self, settings: Settings, shared: ChannelStores, changed: Callable[[], None] | None = None
    ) -> None:
        self.settings = settings
        self.changed = changed
        # only the catalog and price stores are shared; rejections are the agent's to count
        self.stores = ChannelStores(
            products=shared.products,
            aliases=shared.aliases,
            prices=shared.prices,
            programs=shared.programs,
            closed_periods=shared.closed_periods,
            rates=shared.rates,
            authorizations=shared.authorizations,
            sku_authorizations=shared.sku_authorizations,
            reseller_authorizations=shared.reseller_authorizations,
            masters=shared.masters,
            customer_masters=shared.customer_masters,
            customer_authorizations=shared.customer_authorizations,
        )
        self.ready = asyncio.Event()
        self.rules = settings.time_rules()
        self.sync: SyncPoints[TopicPartition] = SyncPoints()
        #: set (and replaced) each time the replica reaches an answer
        self._moved = asyncio.Event()
        #: set when a waiter wants an end-offsets query
        self._wanted = asyncio.Event()
        #: the next offset to read per partition, of records applied, as last looked at
        self.positions: dict[TopicPartition, int] = {}
        #: reads that handed records over, and whether the last one's are being applied:
        #: the consumer's positions are then ahead of the records applied (`_look`)
        self._reads = 0
        self._applying = False
        #: since when it has been behind without reading (/health: `progress`)
        self.stall = StallWatch(settings.reference_stall_seconds)

    def moment(self) -> int:
        """Now, for a batch just received (see `caught_up`)."""
        return self.sync.moment()

    def lag(self) -> int:
        """Reference records the replica has yet to read, as of the latest end offsets."""
        return self.sync.behind(self.positions)

    def progress(self) -> dict[str, Any]:
        """For /health: the initial load done, the lag, and why the replica is stuck when
        it has read nothing for `reference_stall_seconds` while behind (`stalled`: /health
        then reports the worker degraded)."""
        lag = self._note()
        found: dict[str, Any] = {"loaded": self.ready.is_set(), "lag_records": lag}
        stuck = self.stall.stuck_for(time.monotonic())
        if stuck is not None:
            found["stalled"] = (
                f"the reference replica has read nothing for {stuck:.0f} s while "
                f"{lag} records behind (CHANNELFLOW_REFERENCE_STALL_SECONDS="
                f"{self.stall.patience:g}): batches wait for it"
            )
        return found

    def _note(self) -> int:
        """Tell the stall watch how far the replica has read; returns its lag."""
        lag = self.lag()
        self.stall.seen(sum(self.positions.values()), lag, time.monotonic())
        return lag

    async def caught_up(self, moment: int, give_way: Callable[[], bool]) -> bool:
        """Wait until the replica has read every reference record the broker acknowledged
        before `moment`; False as soon as `give_way()` is true (a rebalance: the batch is
        set aside). A long wait is logged once and goes on: correctness over liveness."""
        started = time.monotonic()
        warned = False
        try:
            while not self.sync.satisfied(moment):
                if give_way():
                    return False
                self.sync.want(moment)
                self._wanted.set()
                self._note()
                if not warned and time.monotonic() - started > WARN_SECONDS:
                    warned = True
                    log.warning(
                        "a batch or a round has waited %.0f s for the reference data "
                        "(%d records behind)",
                        time.monotonic() - started,
                        self.lag(),
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._moved.wait(), GIVE_WAY_SECONDS)
            return True
        finally:
            metrics.REFERENCE_WAIT_SECONDS.observe(time.monotonic() - started)

    async def run(self) -> None:
        consumer = self._consumer()
        # the end offsets are asked on a connection of their own: the broker answers a
        # connection's requests in turn, and behind the reader's fetch (a long poll of up
        # to 500 ms when nothing comes) every query would wait that long
        offsets = self._consumer()
        try:
            await started(consumer)
            await started(offsets)
            partitions = [
                TopicPartition(name, p)
                for name in (topic_name(self.settings.topic_prefix, t) for t in REFERENCE_TOPICS)
                for p in consumer.partitions_for_topic(name)
                or await self._partitions(consumer, name)
            ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            self.sync.want(self.sync.moment())  # the initial load: what was there at start
            self._wanted.set()
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._read(consumer, partitions))
                tasks.create_task(self._answer(offsets, consumer, partitions))
        finally:
            await offsets.stop()
            await consumer.stop()

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",  # as the worker's agent: streams/worker/committed.py
        )

    async def _read(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        """Apply the reference records as they come. aiokafka moves a partition's position
        when `getmany` hands its records over, before they are applied (`apply` gives the
        loop a turn every `SLICE_RECORDS`): until they all are, `_look` reads no position."""
        while True:
            batches = await consumer.getmany(timeout_ms=POLL_MS, max_records=READ_RECORDS)
            self._reads += 1  # no await since getmany: nothing has read a position meanwhile
            self._applying = True
            try:
                await self.apply(batches)
            finally:
                self._applying = False
            if batches and self.changed is not None:
                self.changed()
            if self.sync.targets:
                await self._look(consumer, partitions)

    async def apply(
        self, batches: Mapping[TopicPartition, Sequence[ConsumerRecord[Any, Any]]]
    ) -> None:
        """Apply records of the reference topics, in order per partition, with the event
        loop free every `SLICE_RECORDS` records. A record whose handler fails half way
        leaves nothing (`projections.keyvalue.undo`), as in the agent."""
        applied = 0
        with journaled() as journal:
            for tp, records in batches.items():
                for record in records:
                    key = record.key.decode("utf-8", "replace") if record.key else None
                    position = message_position(f"{tp.topic}:{tp.partition}", record.offset)
                    journal.clear()
                    try:
                        recorded = datetime.fromtimestamp(record.timestamp / 1000, UTC)
                        apply_message(
                            self.stores, record.value, key, position,
                            recorded_at=recorded, rules=self.rules,
                        )  # fmt: skip
                    except Exception:  # the owning agent dead-letters it as processing_error
                        log.exception("reference input failed at %s", position)
                        undo(journal)
                    applied += 1
                    if applied % SLICE_RECORDS == 0:
                        await asyncio.sleep(0)

    async def _answer(
        self,
        offsets: AIOKafkaConsumer,
        consumer: AIOKafkaConsumer,
        partitions: list[TopicPartition],
    ) -> None:
        """Issue the end-offsets queries the waiters need, one at a time (on `offsets`):
        each serves every batch received before it was issued."""
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            while self.sync.due():
                query = self.sync.issue()  # numbered before it is sent
                self.sync.answered(query, await _end_offsets(offsets, partitions))
                await self._look(consumer, partitions)

    async def _look(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        """Compare the positions with the answers; wake the waiters if one was reached.

        Only positions of records applied count: none is read while records handed over
        are being applied, and none read while a read handed more over (the reader looks
        again once it has applied them)."""
        reads = self._reads
        if self._applying:
            return
        positions = {tp: await consumer.position(tp) for tp in partitions}
        if self._reads != reads:
            return
        self.positions = positions
        self._note()
        if not self.sync.advance(positions):
            return
        if not self.ready.is_set():
            log.info("reference data loaded")
            self.ready.set()
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def _partitions(self, consumer: AIOKafkaConsumer, topic: str) -> set[int]:
        for _ in range(50):
            await consumer._client.force_metadata_update()
            found = consumer.partitions_for_topic(topic)
            if found:
                return set(found)
            await asyncio.sleep(0.2)
        raise TopicMissing(f"topic {topic} has no partitions; run `channelflow topics`")


async def _end_offsets(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """The partitions' end offsets (a ListOffsets request), asked again until answered:
    while the broker is away the waiting batches keep waiting."""
    while True:
        try:
            return dict(await consumer.end_offsets(partitions))
        except Exception as exc:
            log.warning("reference end offsets not read, retrying: %r", exc)
            await asyncio.sleep(RETRY_SECONDS)
