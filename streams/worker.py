"""The Faust worker: raw topics -> the channel projection -> changelog-backed tables.

Delivery is at-least-once; the effect is exactly-once because every table value carries
the source positions it applied (see projections/positions.py), audit facts are recorded
idempotently *before* the table writes, and dead letters are sent before offsets commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any, cast

import faust
from aiohttp import web
from aiokafka.errors import KafkaError
from faust.types import TP

from infra.eventstore import AuditLog, open_audit_log
from projections.dedup import SeenEntry
from projections.inventory import DayDetail, InventoryState
from projections.pricing import FlaggedSale
from projections.quality import DeadLetterCount, QualityState
from projections.reports import ReportState
from projections.resellers import ResellerState
from projections.snapshot import latest_business_time, protection_claims, rebate_statements
from projections.stores import ChannelStores
from schemas.topics import DEAD_LETTER_TOPIC, topic_name
from streams import metrics
from streams.auth import TokenRegistry
from streams.config import Settings
from streams.ingest.deadletters import collect_dead_letters
from streams.ingest.messages import Message, message_of
from streams.processing import Input, process_batch, record_facts, record_statements
from streams.progress import ContiguousGate
from streams.readmodel_sink import configured_sink, kafka_partition_of, writer_name
from streams.rebate_closing import automatic_closes
from streams.reference import ReferenceReplica
from streams.tables import PartitionedTable, TableStore
from streams.web import ApiContext, make_web_app

log = logging.getLogger("channelflow.worker")

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
    """ChannelStores over Faust tables, flushed once per batch."""

    def __init__(self, app: faust.App, settings: Settings) -> None:
        def table(name: str) -> PartitionedTable:
            created = PartitionedTable(
                app=app,
                name=name,
                partitions=settings.partitions,
                key_type=str,
                value_type=bytes,
                beacon=app.tables.beacon,
            )
            app.tables.add(created)
            return created

        seen = TableStore(table("seen"), SeenEntry.from_json, SeenEntry.to_json)
        inventory = TableStore(table("inventory"), InventoryState.from_json, InventoryState.to_json)
        days = TableStore(table("inventory_days"), DayDetail.from_json, DayDetail.to_json)
        quality = TableStore(table("quality"), QualityState.from_json, QualityState.to_json)
        dead = TableStore(table("dead_letters"), DeadLetterCount.from_json, DeadLetterCount.to_json)
        flagged = TableStore(table("flagged"), FlaggedSale.from_json, FlaggedSale.to_json)
        reports = TableStore(table("reports"), ReportState.from_json, ReportState.to_json)
        resellers = TableStore(table("resellers"), ResellerState.from_json, ResellerState.to_json)
        #: source "topic:partition" -> last offset whose effects are all on the broker
        self.progress = table("progress")
        self.tables: list[TableStore[Any]] = [
            seen,
            inventory,
            days,
            quality,
            dead,
            flagged,
            reports,
            resellers,
        ]
        # catalog and prices stay in memory, replicated whole by streams/reference.py
        super().__init__(
            seen,
            inventory,
            days,
            quality,
            dead,
            flagged=flagged,
            reports=reports,
            resellers=resellers,
        )

    def route_to(self, item: Input) -> None:
        for store in self.tables:
            store.partition = item.partition or 0

    async def flush(self) -> int:
        """Write each changed key once, and wait until the broker has stored every write."""
        written = sum(store.flush() for store in self.tables)
        for store in self.tables:
            await store.table.delivered()
        return written

    def stored_progress(self, source: str) -> int | None:
        raw = self.progress.get(source)
        return None if raw is None else int(raw)

    async def checkpoint(self, inputs: list[Input]) -> None:
        """After `flush`: record how far each source's effects are stored, and confirm it."""
        last: dict[tuple[str, int], int] = {}
        for item in inputs:
            if item.partition is not None and item.offset is not None:
                key = (item.source, item.partition)
                last[key] = max(last.get(key, -1), item.offset)
        for (topic, partition), offset in last.items():
            source = f"{topic}:{partition}"
            if offset > (self.stored_progress(source) or -1):
                self.progress.put_in_partition(source, str(offset).encode(), partition)
        await self.progress.delivered()


def _key(raw_key: Any) -> str | None:
    if raw_key is None:
        return None
    return raw_key.decode("utf-8", "replace") if isinstance(raw_key, bytes) else str(raw_key)


def build_worker(settings: Settings, audit: AuditLog | None = None) -> faust.App:
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        producer_acks=-1,
        stream_wait_empty=False,
        broker_commit_interval=1.0,
        # a crashed worker's partitions move on after 10 s instead of faust's default 60 s
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
        table_standby_replicas=0,
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
    reference = ReferenceReplica(settings, stores)
    audit_log = audit or open_audit_log(settings.eventstore_url)
    read_models = configured_sink(
        settings, audit_log, writer_name(), lambda key: kafka_partition_of(key, settings.partitions)
    )
    applying = asyncio.Lock()  # held while a batch is applied

    gate: ContiguousGate[Any] = ContiguousGate(stores.stored_progress)

    def forget_progress(_: Any, *__: Any, signal: Any, **___: Any) -> None:
        gate.reset()

    app.on_partitions_assigned.connect(cast(Any, forget_progress))  # mode types it narrowly

    def source_of(event: Any) -> str:
        return f"{event.message.topic}:{event.message.partition}"

    @app.agent(raw_topics)
    async def project(stream: Any) -> None:
        loop = asyncio.get_running_loop()
        await reference.ready.wait()  # the catalog and prices as published before we started
        async for batch in stream.take_events(settings.batch_size, settings.batch_seconds):
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
            async with applying:  # read-model rounds see the stores between batches
                with metrics.BATCH_SECONDS.time():
                    inputs = [
                        Input(
                            ev.message.value,
                            _key(ev.message.key),
                            ev.message.topic,
                            ev.message.partition,
                            ev.message.offset,
                        )
                        for ev in events
                    ]
                    result = process_batch(stores, inputs, before_each=stores.route_to)
                    if result.facts:
                        await loop.run_in_executor(None, record_facts, audit_log, result.facts)
                    sent = [
                        await dead_letter_topic.send(
                            key=(letter.key or "").encode(),
                            value=letter.model_dump_json().encode(),
                        )
                        for letter in result.dead_letters
                    ]
                    await stores.flush()
                    for delivery in sent:
                        await delivery  # acknowledged by the broker before the batch is acked
                    if sent:
                        metrics.EVENTS_PRODUCED.labels(
                            dead_letter_topic.get_topic_name(), "DeadLetter"
                        ).inc(len(sent))
                    await stores.checkpoint(inputs)

    sales_topic = topic_name(settings.topic_prefix, "sales")

    def owned_partitions() -> set[int]:
        return {tp.partition for tp in app.consumer.assignment() if tp.topic == sales_topic}

    def owned(distributor_id: str) -> bool:
        """Whether this worker owns the distributor's partition right now."""
        return kafka_partition_of(distributor_id, settings.partitions) in owned_partitions()

    async def submit(messages: Sequence[Message]) -> None:
        """Publish events (a period close, an ingest batch) to their raw topics in order,
        keyed; returns once the broker has them all. The producer keeps each partition's
        order, so a report's header stays ahead of its lines."""
        sent = [
            await app.producer.send(
                topic_name(settings.topic_prefix, m.topic), m.key, m.value, None, None, None
            )
            for m in messages
        ]
        for delivery in sent:
            await delivery
        produced = Counter(
            (topic_name(settings.topic_prefix, m.topic), m.event_type) for m in messages
        )
        for (topic, event_type), count in produced.items():
            metrics.EVENTS_PRODUCED.labels(topic, event_type).inc(count)

    @app.timer(interval=2.0)
    async def measure_consumer_lag() -> None:
        """Lag of each owned raw partition: high watermark minus the stored position."""
        owned_now = [tp for tp in app.consumer.assignment() if tp.topic in raw_topics.topics]
        try:
            ends = await app.consumer.highwaters(*owned_now) if owned_now else {}
        except KafkaError as exc:  # e.g. a broker timeout: keep the last values, try again
            log.warning("consumer lag not measured: %s", exc)
            return
        lag = {}
        for tp, end in ends.items():
            stored = stores.stored_progress(f"{tp.topic}:{tp.partition}")
            lag[tp.topic, tp.partition] = end - (0 if stored is None else stored + 1)
        metrics.set_consumer_lag(lag)

    @app.timer(interval=settings.claims_interval_seconds)
    async def record_derived_audit_facts() -> None:
        """Record what the histories imply for owned distributors, idempotently.

        Price-protection claims of cost drops in effect, and the statements and
        adjustments of closed rebate periods, are derived from the price and movement
        histories; recording them periodically survives crashes and rebalances alike.
        Periods past their grace are closed here too (every worker names the same close).
        """
        if not reference.ready.is_set():
            return
        try:
            for close in automatic_closes(stores, settings.rebate_grace_days):
                await submit([message_of(close)])
            claims = protection_claims(stores, latest_business_time(stores), withdrawn=True)
            plans = [plan for plan in rebate_statements(stores) if owned(plan.distributor_id)]
            mine = [claim for claim in claims if owned(claim.distributor_id)]
            loop = asyncio.get_running_loop()
            if mine:
                await loop.run_in_executor(None, record_facts, audit_log, mine)
            if plans:
                await loop.run_in_executor(None, record_statements, audit_log, plans)
        except Exception:  # e.g. an audit row that no longer decodes: keep the worker going
            metrics.AUDIT_ROUND_FAILURES.inc()
            log.exception("recording derived audit facts failed; the next round retries")

    if read_models is not None:

        @app.timer(interval=settings.readmodel_interval_seconds)
        async def write_read_models() -> None:
            """The owned partitions' projections into PostgreSQL (docs/READ_MODELS.md)."""
            if not reference.ready.is_set() or app.rebalancing or app.in_recovery:
                return
            topics = list(raw_topics.topics)
            await read_models.worker_round(
                stores, owned_partitions(), topics, stores.stored_progress, applying
            )

    @app.task
    async def replicate_reference_data() -> None:
        await reference.run()

    @app.task
    async def serve_http() -> None:
        context = ApiContext(
            lambda: stores,
            "kafka",
            audit_log,
            TokenRegistry.from_env(),
            submit,
            lambda: collect_dead_letters(settings),
        )
        runner = web.AppRunner(make_web_app(context))
        await runner.setup()
        await web.TCPSite(runner, settings.web_host, settings.web_port).start()
        log.info("HTTP API on http://%s:%s/", settings.web_host, settings.web_port)

    return app
