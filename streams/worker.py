"""The Faust worker: raw topics -> the channel projection -> changelog-backed tables.

Delivery is at-least-once; the effect is exactly-once because every table value carries
the source positions it applied (see projections/positions.py), audit facts are recorded
idempotently *before* the table writes, and dead letters are sent before offsets commit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import faust
from aiohttp import web
from aiokafka.partitioner import DefaultPartitioner
from faust.types import TP

from infra.eventstore import AuditLog, open_audit_log
from projections.dedup import SeenEntry
from projections.inventory import DayDetail, InventoryState
from projections.pricing import FlaggedSale
from projections.quality import DeadLetterCount, QualityState
from projections.snapshot import latest_business_time, protection_claims, rebate_statements
from projections.stores import ChannelStores
from schemas.codec import encode_event
from schemas.events import Envelope
from schemas.topics import DEAD_LETTER_TOPIC, topic_name
from streams import metrics
from streams.auth import TokenRegistry
from streams.config import Settings
from streams.kafka_io import routing
from streams.processing import Input, process_batch, record_facts, record_statements
from streams.progress import ContiguousGate
from streams.rebate_closing import automatic_closes
from streams.reference import ReferenceReplica
from streams.tables import PartitionedTable, TableStore
from streams.web import ApiContext, make_web_app

log = logging.getLogger("channelflow.worker")

#: The raw topics whose events the channel projection consumes today.
CONSUMED_TOPICS = ("products", "prices", "programs", "shipments", "sales", "inventory")


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
        #: source "topic:partition" -> last offset whose effects are all on the broker
        self.progress = table("progress")
        self.tables: list[TableStore[Any]] = [seen, inventory, days, quality, dead, flagged]
        # catalog and prices stay in memory, replicated whole by streams/reference.py
        super().__init__(seen, inventory, days, quality, dead, flagged=flagged)

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
            for source, offset in rewind.items():
                topic, partition = source.rsplit(":", 1)
                log.warning("input skipped in %s before offset %s: rewinding", source, offset)
                metrics.REWINDS.labels(topic).inc()
                await app.consumer.seek(TP(topic, int(partition)), offset)
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
                        key=(letter.key or "").encode(), value=letter.model_dump_json().encode()
                    )
                    for letter in result.dead_letters
                ]
                await stores.flush()
                for delivery in sent:
                    await delivery  # acknowledged by the broker before the batch is acked
                await stores.checkpoint(inputs)

    sales_topic = topic_name(settings.topic_prefix, "sales")
    partitioner = DefaultPartitioner()

    def owned(distributor_id: str) -> bool:
        """Whether this worker owns the distributor's partition right now."""
        assigned = {tp.partition for tp in app.consumer.assignment() if tp.topic == sales_topic}
        everything = list(range(settings.partitions))
        return partitioner(distributor_id.encode(), everything, everything) in assigned

    programs_topic = app.topic(
        topic_name(settings.topic_prefix, "programs"), key_serializer="raw", value_serializer="raw"
    )

    async def submit(event: Envelope) -> None:
        """Publish a command's event (a period close) to its raw topic, keyed, confirmed."""
        topic, key = routing(settings, event)
        assert topic == programs_topic.get_topic_name()
        await (await programs_topic.send(key=key, value=encode_event(event)))

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
        for close in automatic_closes(stores, settings.rebate_grace_days):
            await submit(close)
        claims = protection_claims(stores, latest_business_time(stores))
        plans = [plan for plan in rebate_statements(stores) if owned(plan.distributor_id)]
        mine = [claim for claim in claims if owned(claim.distributor_id)]
        loop = asyncio.get_running_loop()
        if mine:
            await loop.run_in_executor(None, record_facts, audit_log, mine)
        if plans:
            await loop.run_in_executor(None, record_statements, audit_log, plans)

    @app.task
    async def replicate_reference_data() -> None:
        await reference.run()

    @app.task
    async def serve_http() -> None:
        context = ApiContext(lambda: stores, "kafka", audit_log, TokenRegistry.from_env(), submit)
        runner = web.AppRunner(make_web_app(context))
        await runner.setup()
        await web.TCPSite(runner, settings.web_host, settings.web_port).start()
        log.info("HTTP API on http://%s:%s/", settings.web_host, settings.web_port)

    return app
