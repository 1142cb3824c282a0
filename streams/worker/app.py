"""The Faust worker: raw topics -> the channel projection -> the RocksDB-backed state table.

Delivery is at-least-once; the effect is exactly-once because every state value carries
the source positions it applied (see projections/positions.py), audit facts are recorded
idempotently *before* the state is written, dead letters are sent before offsets commit,
and a batch that cannot be stored (the event store or Kafka away) leaves no trace and is
tried again, with backoff, until it is: the agent never moves past it.

Work that grows with the history never runs on the event loop: recording rounds and
read-model rounds read committed state from the local databases in a thread.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import faust
from aiohttp import web
from aiokafka.errors import KafkaError
from faust.types import TP

from infra.eventstore import AuditLog, open_audit_log
from projections.clock import Clock, recorded_now
from projections.dedup import SeenEntry
from projections.inventory import InventoryState, Move
from projections.keyvalue import DictStore, KeyValue
from projections.price_rules import FlagCounts, FlaggedSale
from projections.quality import DeadLetterCount, QualityState
from projections.rebate_buckets import RebateBucket, RecordedMove
from projections.resellers import DayCount, ResellerState
from projections.stores import ChannelStores
from projections.submitted_reports import ReportLine, ReportState
from projections.tallies import InOut
from schemas.topics import DEAD_LETTER_TOPIC, topic_name
from streams import metrics
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.auth import TokenRegistry
from streams.config import Settings
from streams.health import Coverage, Health
from streams.ingest.deadletters import dead_letter_page
from streams.kafka.io import kafka_partition_of, send_messages
from streams.kafka.messages import Message, message_of
from streams.kafka.reference import ReferenceReplica
from streams.runners.processing import (
    GC_THRESHOLD,
    BatchResult,
    Input,
    grouped,
    process_batch,
    record_facts,
)
from streams.runners.readmodel_sink import Changes, configured_sink, writer_name
from streams.runners.recording import AuditRecorder, record_round_failed
from streams.worker.progress import ContiguousGate
from streams.worker.state import APPLYING, StateTable, View, Writes

log = logging.getLogger("channelflow.worker")

#: messages taken from the stream at a time (bundles of up to 1,000 events each)
TAKE = 500
#: events applied between two chances for the event loop to answer requests (~10-20 ms)
SLICE = 50

#: The raw topics whose events the channel projection consumes today.
CONSUMED_TOPICS = (
    "products",
    "prices",
    "programs",
    "shipments",
    "sales",
    "inventory",
    "resellers",
    "rejections",
)


class WorkerStores(ChannelStores):
    """ChannelStores over the worker's state table, written a batch at a time."""

    def __init__(self, app: faust.App, settings: Settings) -> None:
        mib = 1024 * 1024
        self.table = StateTable(
            app=app,
            name="state",
            partitions=settings.partitions,
            key_type=bytes,
            value_type=bytes,
            options={
                "driver": "rocksdict",
                "write_buffer_size": settings.state_write_buffer_mb * mib,
                "max_write_buffer_number": 2,
                "block_cache_size": settings.state_cache_mb * mib,
            },
            beacon=app.tables.beacon,
        )
        app.tables.add(self.table)
        partitions = settings.partitions

        def distributor_first(key: str) -> int:
            return kafka_partition_of(key.split("|", 1)[0], partitions)

        def distributor_second(key: str) -> int:  # seen keys: "sale|D01|T1", ...
            return kafka_partition_of(key.split("|", 2)[1], partitions)

        def view(prefix: str, kind: Any, cached: bool = False, packed: bool = False) -> View[Any]:
            return View(
                self.table, prefix, kind.from_json, kind.to_json, cached, distributor_first, packed
            )

        def scoped(prefix: str, kind: Any) -> View[Any]:  # keys without a distributor first
            return View(self.table, prefix, kind.from_json, kind.to_json, cached=True)

        super().__init__(
            inventory=view("inv|", InventoryState, cached=True),
            quality=view("q|", QualityState, cached=True),
            dead_letters=scoped("dl|", DeadLetterCount),
            periods=view("per|", InOut, cached=True),
            resellers=view("rs|", ResellerState, cached=True),
            reports=view("rep|", ReportState, cached=True),
            flag_counts=view("fc|", FlagCounts, cached=True),
            clock=scoped("clock|", Clock),
            seen=View(
                self.table,
                "seen|",
                SeenEntry.from_json,
                SeenEntry.to_json,
                partition_of=distributor_second,
                packed=True,
            ),
            moves=view("mv|", Move, packed=True),
            day_totals=view("day|", InOut, packed=True),
            rebate_buckets=view("rb|", RebateBucket, packed=True),
            recorded_moves=view("rec|", RecordedMove, packed=True),
            violations=view("v|", FlaggedSale, packed=True),
            violations_by_severity=View(
                self.table, "vs|", str, str, False, distributor_first, packed=True
            ),
            unpriced=view("u|", FlaggedSale, packed=True),
            report_lines=view("rl|", ReportLine, packed=True),
            reseller_days=view("rd|", DayCount, packed=True),
        )
        #: source "topic:partition" -> last offset whose effects are all on the broker
        self.progress: View[int] = View(self.table, "progress|", int, int, cached=True)
        #: told (store, partition, key) of the history keys each batch stored
        self.on_stored: Callable[[str, int, str], None] | None = None

    def route_to(self, item: Input) -> None:
        """The input about to be applied: its partition is where the batch reads and writes
        (in this task only: see `streams.worker.state.APPLYING`)."""
        APPLYING.set(item.partition or 0)

    def stored_progress(self, source: str) -> int | None:
        return self.progress.get(source)

    def next_offset(self, source: str) -> int:
        """The offset of the source's first input whose effects are not all stored."""
        stored = self.progress.get(source)
        return 0 if stored is None else stored + 1

    async def commit(self, inputs: Sequence[Input]) -> int:
        """Store the batch: its writes on the changelog first, then (once the broker has
        every one) how far each source's effects are stored, then both into the local
        databases. Returns how many values were written."""
        data: Writes = {}
        written = 0
        for view in self.table.views:
            if view is not self.progress:
                written += view.encoded(data)
                await asyncio.sleep(0)  # requests are answered while a batch is encoded
        offsets = await self.table.send(data)
        last: dict[tuple[str, int], int] = {}
        for item in inputs:
            if item.partition is not None and item.offset is not None:
                key = (item.source, item.partition)
                last[key] = max(last.get(key, -1), item.offset)
        for (topic, partition), offset in last.items():
            source = f"{topic}:{partition}"
            APPLYING.set(partition)
            if offset > self.next_offset(source) - 1:
                self.progress.put(source, offset)
        checkpoints: Writes = {}
        self.progress.encoded(checkpoints)
        for partition, offset in (await self.table.send(checkpoints)).items():
            offsets[partition] = max(offsets.get(partition, -1), offset)
        for partition, keyed in checkpoints.items():
            data.setdefault(partition, {}).update(keyed)
        self.table.write_local(data, offsets)
        if self.on_stored is not None:
            for name in Changes.STORES:
                for partition, changed in cast(View[Any], getattr(self, name)).pending_keys():
                    self.on_stored(name, partition, changed)
        for view in self.table.views:
            view.committed()
        APPLYING.set(None)
        return written

    def discard(self) -> None:
        """Forget a batch that could not be stored: nothing of it remains."""
        for view in self.table.views:
            view.discard()
        APPLYING.set(None)

    def readers(self, partitions: Iterable[int] | None = None) -> ChannelStores:
        """The committed state for another thread: views that read the databases alone (of
        the given partitions, or of every one held), and copies of the reference data
        (which the agent and the replica change)."""
        views = {
            name: value.reader(partitions) if isinstance(value, View) else value
            for name, value in vars(self).items()
            if name in ChannelStores.__dataclass_fields__
        }
        for name in ("products", "aliases", "prices", "programs", "closed_periods"):
            views[name] = copied(getattr(self, name))
        return ChannelStores(**cast(Any, views))


def copied(store: KeyValue[Any]) -> DictStore[Any]:
    copy: DictStore[Any] = DictStore()
    for key, value in list(store.scan()):
        copy.put(key, value)
    return copy


def _key(raw_key: Any) -> str | None:
    if raw_key is None:
        return None
    return raw_key.decode("utf-8", "replace") if isinstance(raw_key, bytes) else str(raw_key)


def _recorded(message: Any) -> datetime | None:
    """When the broker recorded the message (its timestamp: the append time on raw topics
    created with message.timestamp.type=LogAppendTime)."""
    stamp = getattr(message, "timestamp", None)
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC)


def build_worker(settings: Settings, audit: AuditLog | None = None) -> faust.App:
    gc.set_threshold(*GC_THRESHOLD)
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="rocksdb://",  # the state table's (streams/worker/state.py)
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        producer_acks=-1,
        stream_wait_empty=False,
        broker_commit_interval=1.0,
        # a crashed worker's partitions move on after 10 s instead of faust's default 60 s
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
        consumer_group_instance_id=settings.group_instance_id(),
        table_standby_replicas=settings.standby_replicas,
        datadir=f"{settings.data_dir}/{settings.app_id}",
    )
    raw_topics = app.topic(
        *(topic_name(settings.topic_prefix, name) for name in CONSUMED_TOPICS),
        key_serializer="raw",
        value_serializer="raw",
    )
    dead_letter_topic = app.topic(
        topic_name(settings.topic_prefix, DEAD_LETTER_TOPIC),
        key_serializer="raw",
        value_serializer="raw",
    )
    stores = WorkerStores(app, settings)

    def coverage() -> Coverage:
        active = frozenset(owned_partitions())
        return Coverage(settings.partitions, active, frozenset(stores.table.held()) - active)

    reference = ReferenceReplica(settings, stores)
    audit_log = audit or open_audit_log(settings.eventstore_url)
    health = Health(settings.eventstore_url if audit_log.is_postgres else None, coverage)
    recorder = AuditRecorder(audit_log, settings.rebate_grace_days)
    read_models = configured_sink(
        settings, audit_log, writer_name(), lambda key: kafka_partition_of(key, settings.partitions)
    )
    if read_models is not None:
        stores.on_stored = read_models.changes.note
    applying = asyncio.Lock()  # held while a batch is applied
    rules = settings.time_rules()

    gate: ContiguousGate[Any] = ContiguousGate(stores.stored_progress)

    def forget_progress(_: Any, *__: Any, signal: Any, **___: Any) -> None:
        gate.reset()

    app.on_partitions_assigned.connect(cast(Any, forget_progress))  # mode types it narrowly

    def source_of(event: Any) -> str:
        return f"{event.message.topic}:{event.message.partition}"

    async def send_dead_letters(letters: Sequence[Any]) -> None:
        sent = [
            await dead_letter_topic.send(
                key=(letter.key or "").encode(), value=letter.model_dump_json().encode()
            )
            for letter in letters
        ]
        for delivery in sent:
            await delivery  # acknowledged by the broker before the batch is acked
        if sent:
            topic = dead_letter_topic.get_topic_name()
            metrics.EVENTS_PRODUCED.labels(topic, "DeadLetter").inc(len(sent))

    async def apply_durably(inputs: list[Input]) -> None:
        """Apply and store a batch; on failure drop what it did and try again, waiting
        longer each time, until it is stored (the stream does not move past it)."""
        loop = asyncio.get_running_loop()
        delay = 1.0
        while True:
            if health.store_away is not None:  # no use trying: wait for the store
                await asyncio.sleep(delay)
                delay = min(delay * 2, settings.retry_max_seconds)
                continue
            async with applying:  # recording and read-model rounds see whole batches
                try:
                    with metrics.BATCH_SECONDS.time():
                        result = BatchResult()
                        for part in grouped(inputs, SLICE):
                            result.add(
                                process_batch(
                                    stores, part, before_each=stores.route_to, rules=rules
                                )
                            )
                            await asyncio.sleep(0)  # requests are answered between slices
                        if result.facts:
                            await loop.run_in_executor(None, record_facts, audit_log, result.facts)
                        await send_dead_letters(result.dead_letters)
                        await stores.commit(inputs)
                except Exception as exc:  # PostgreSQL or Kafka away, mostly: nothing is kept
                    stores.discard()
                    health.failed("batch", exc)
                    metrics.BATCH_RETRIES.inc()
                    log.warning("batch not stored, retrying in %.0f s: %r", delay, exc)
                else:
                    health.recovered("batch")
                    result.count()
                    return
            await asyncio.sleep(delay)
            delay = min(delay * 2, settings.retry_max_seconds)

    @app.agent(raw_topics)
    async def project(stream: Any) -> None:
        await reference.ready.wait()  # the catalog and prices as published before we started
        async for batch in stream.take_events(TAKE, settings.batch_seconds):
            events, rewind = gate.admit(batch, source_of, lambda ev: ev.message.offset)
            seeks = {}
            for source, offset in rewind.items():
                topic, partition = source.rsplit(":", 1)
                log.warning("input skipped in %s before offset %s: rewinding", source, offset)
                metrics.REWINDS.labels(topic).inc()
                seeks[TP(topic, int(partition))] = offset
            if seeks:
                # on the consumer's own thread: a seek from this one can race its fetcher
                # (aiokafka's fetched_records then fails with a KeyError and the worker stops)
                await app.consumer.seek_wait(seeks)
            if not events:
                continue
            inputs = [
                Input(
                    ev.message.value,
                    _key(ev.message.key),
                    ev.message.topic,
                    ev.message.partition,
                    ev.message.offset,
                    _recorded(ev.message),
                )
                for ev in events
            ]
            for group in grouped(inputs, settings.batch_size):  # bundles: by events, not messages
                await apply_durably(group)

    sales_topic = topic_name(settings.topic_prefix, "sales")
    shipments_topic = topic_name(settings.topic_prefix, "shipments")

    async def read_to_the_end() -> set[str]:
        """The owned movement partitions ("topic:partition") applied up to their end."""
        owned_now = [
            tp for tp in app.consumer.assignment() if tp.topic in (sales_topic, shipments_topic)
        ]
        try:
            ends = await app.consumer.highwaters(*owned_now) if owned_now else {}
        except KafkaError:
            return set()
        done = set()
        for tp, end in ends.items():
            source = f"{tp.topic}:{tp.partition}"
            if stores.next_offset(source) >= end:
                done.add(source)
        return done

    def owned_partitions() -> set[int]:
        return {tp.partition for tp in app.consumer.assignment() if tp.topic == sales_topic}

    @app.timer(interval=1.0)
    async def follow_standby_partitions() -> None:
        """Standby partitions' changelog records reach their databases within a second
        (faust applies them only when its buffer fills)."""
        if settings.standby_replicas and not app.in_recovery:
            cast(Any, app.tables).recovery.flush_buffers()  # TableManagerT leaves it out

    async def submit(messages: Sequence[Message]) -> None:
        """Publish events (a period close, an ingest batch) to their raw topics in order,
        keyed and bundled; returns once the broker has them all. The producer keeps each
        partition's order, so a report's header stays ahead of its lines."""

        async def send(topic: str, key: bytes, value: bytes) -> Awaitable[Any]:
            return cast(
                Awaitable[Any], await app.producer.send(topic, key, value, None, None, None)
            )

        await send_messages(send, settings.topic_prefix, messages)

    @app.timer(interval=2.0)
    async def measure_consumer_lag() -> None:
        """Lag of each owned raw partition: high watermark minus the stored position."""
        owned_now = [tp for tp in app.consumer.assignment() if tp.topic in raw_topics.topics]
        try:
            ends = await app.consumer.highwaters(*owned_now) if owned_now else {}
        except KafkaError as exc:  # e.g. a broker timeout: keep the last values, try again
            health.failed("kafka", exc)
            log.warning("consumer lag not measured: %s", exc)
            return
        health.recovered("kafka")
        lag = {}
        for tp, end in ends.items():
            lag[tp.topic, tp.partition] = end - stores.next_offset(f"{tp.topic}:{tp.partition}")
        metrics.set_consumer_lag(lag)

    def steady() -> bool:
        return reference.ready.is_set() and not app.rebalancing and not app.in_recovery

    @app.task
    async def record_derived_audit_facts() -> None:
        """Recording rounds, one after another (never overlapping), each in a thread."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(settings.claims_interval_seconds)
            if not steady() or health.store_away is not None:
                continue
            async with applying:  # between batches: the readers see whole ones
                mine = owned_partitions()
                readers = stores.readers(mine)
            caught_up = await read_to_the_end()
            clock = recorded_now(readers.clock)
            wall = datetime.now(UTC)
            closing_now = wall if clock is None else max(clock, wall)

            def owned(distributor_id: str, mine: set[int] = mine) -> bool:
                return kafka_partition_of(distributor_id, settings.partitions) in mine

            def settled(
                distributor_id: str,
                basis: str,
                cutoff: datetime,
                readers: ChannelStores = readers,
                caught_up: set[str] = caught_up,
            ) -> bool:
                """Appends are in order: the partition of the basis's topic was applied
                past the cutoff, or to its end."""
                topic = shipments_topic if basis == "sell_in" else sales_topic
                source = f"{topic}:{kafka_partition_of(distributor_id, settings.partitions)}"
                clock = readers.clock.get(source)
                return source in caught_up or (clock is not None and clock.recorded > cutoff)

            started = time.monotonic()
            try:
                closes = await loop.run_in_executor(
                    None, recorder.round, readers, clock, closing_now, owned, settled
                )
                for close in closes:
                    await submit([message_of(close)])
                health.recovered("recording")
            except Exception as exc:  # e.g. the event store away: the next round retries
                health.failed("recording", exc)
                record_round_failed(exc)
            metrics.ROUND_SECONDS.labels("recording").observe(time.monotonic() - started)

    if read_models is not None:

        @app.task
        async def write_read_models() -> None:
            """The owned partitions' projections into PostgreSQL (docs/READ_MODELS.md)."""
            topics = list(raw_topics.topics)
            while True:
                await asyncio.sleep(settings.readmodel_interval_seconds)
                if not steady():
                    continue
                started = time.monotonic()
                await read_models.worker_round(
                    stores, owned_partitions(), topics, stores.stored_progress, applying
                )
                metrics.ROUND_SECONDS.labels("read_models").observe(time.monotonic() - started)

    @app.task
    async def watch_the_event_store() -> None:
        await health.watch()

    @app.task
    async def replicate_reference_data() -> None:
        await reference.run()

    async def committed() -> ChannelStores:
        """What the databases hold (each partition's batches whole): a request need not
        wait for the batch being applied."""
        return stores.readers()

    @app.task
    async def serve_http() -> None:
        context = ApiContext(
            lambda: stores,
            "kafka",
            audit_log,
            TokenRegistry.from_env(),
            submit,
            lambda query: dead_letter_page(settings, query),
            health,
            committed,
        )
        runner = web.AppRunner(make_web_app(context))
        await runner.setup()
        await web.TCPSite(runner, settings.web_host, settings.web_port).start()
        log.info("HTTP API on http://%s:%s/", settings.web_host, settings.web_port)

    return app
