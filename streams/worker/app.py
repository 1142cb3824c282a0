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
import json
import logging
import sys
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Mapping,
    Sequence,
)
from datetime import UTC, datetime
from typing import Any, cast

import faust
from aiohttp import web
from faust.types import TP

from infra.eventstore import AuditLog, open_audit_log
from projections.cap_inputs import CAP_MESSAGE, cap_log_handlers, cap_messages
from projections.stores import ChannelStores
from schemas.topics import (
    CLAIM_CAPS_TOPIC,
    CLAIM_GRANTS_TOPIC,
    DEAD_LETTER_TOPIC,
    INTERNAL_TOPICS,
    REFERENCE_TOPICS,
    topic_name,
)
from streams import metrics
from streams.api.app import app_runner
from streams.api.context import ApiContext
from streams.auth import TokenRegistry
from streams.config import Settings
from streams.health import Coverage, Health
from streams.ingest.deadletters import dead_letter_page
from streams.kafka.io import kafka_partition_of, send_messages
from streams.kafka.letter_outbox import LetterOutbox
from streams.kafka.messages import Message
from streams.kafka.reference import ReferenceReplica
from streams.runners.decisions_relay import decision_relay
from streams.runners.hold_cap import fetching
from streams.runners.processing import (
    GC_THRESHOLD,
    BatchResult,
    Input,
    grouped,
    process_batch,
    record_facts,
)
from streams.runners.readmodel_sink import ReadModelSink, configured_sink, writer_name
from streams.runners.recording import AuditRecorder
from streams.runners.time_order import (
    Behind,
    Fetch,
    Marks,
    Released,
    Source,
    Standing,
    TimeOrder,
)
from streams.worker import upkeep
from streams.worker.admission import Admission
from streams.worker.committed import read_committed
from streams.worker.fetch_pause import FetchPauses
from streams.worker.fetch_state import fetch_state, has_leader
from streams.worker.progress import TailWatch
from streams.worker.rounds import RecordingRounds
from streams.worker.stores import WorkerStores

log = logging.getLogger("channelflow.worker")

#: messages taken from the stream at a time (bundles of up to 1,000 events each)
TAKE = 500
#: events applied between two chances for the event loop to answer requests (~10-20 ms)
SLICE = 50
#: seconds a partition behind its end may keep its checkpoint before it is read again
#: (`TailWatch`): far longer than any batch takes to store
STALL_SECONDS = 15.0
#: seconds inputs may be held for their broker-time order before a warning says what they
#: wait for (and as long again between two)
HOLD_WARNING_SECONDS = 10.0
#: how long a thread holds the GIL while another waits for it (Python's default: 5 ms).
#: The event loop gives it up at every poll and socket call and then waits for a reading
#: thread to hand it back: with 1 ms a request waits for reads and rounds in threads about
#: half as long (bench/README.md, "History scaling")
SWITCH_SECONDS = 0.001
#: bytes a producer batch of one partition may hold (faust's default: 16 KiB). The producer
#: keeps one request in flight to the broker, with one batch of each partition in it, and a
#: send that finds its partition's batch full waits for that request: at 16 KiB a batch's
#: ~2 MB of changelog writes took ~130 round trips. Under the broker's default limit of a
#: record batch (message.max.bytes, 1,048,588) and faust's request size (1,000,000)
PRODUCER_BATCH_BYTES = 1_000_000

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
    "agreements",
    "rates",
    "targets",
    "authorizations",
    "rotations",
    "claims",
    "identity",
    "masters",
)


def _key(raw_key: Any) -> str | None:
    if raw_key is None:
        return None
    return raw_key.decode("utf-8", "replace") if isinstance(raw_key, bytes) else str(raw_key)


def _recorded(message: Any) -> datetime | None:
    """When the broker recorded the message (its timestamp: the append time on raw topics
    created with message.timestamp.type=LogAppendTime)."""
    stamp = getattr(message, "timestamp", None)
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC)


def faust_app(settings: Settings) -> faust.App:
    """The Faust app: its broker, consumer group and state directory."""
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="rocksdb://",  # the state table's (streams/worker/state.py)
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        producer_acks=-1,
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        stream_wait_empty=False,
        broker_commit_interval=1.0,
        # a crashed worker's partitions move on after 10 s instead of faust's default 60 s
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
        consumer_group_instance_id=settings.group_instance_id(),
        table_standby_replicas=settings.standby_replicas,
        datadir=f"{settings.data_dir}/{settings.app_id}",
    )
    return app


class ChannelWorker:
    """What the worker's agent, timers and tasks share: the stores, the audit log, the
    health checks and the topics; each of its methods is one of them (`build_worker`)."""

    def __init__(self, app: faust.App, settings: Settings, audit: AuditLog | None) -> None:
        self.app, self.settings = app, settings
        prefix = settings.topic_prefix
        #: the raw topics and the internal ones of shared caps, in one agent: a request,
        #: a grant and the claim they serve are applied and stored like any input
        self.raw_topics = app.topic(
            *(topic_name(prefix, name) for name in (*CONSUMED_TOPICS, *INTERNAL_TOPICS)),
            key_serializer="raw",
            value_serializer="raw",
        )
        self.internal = cap_log_handlers(prefix)
        self.dead_letter_topic = app.topic(
            topic_name(settings.topic_prefix, DEAD_LETTER_TOPIC),
            key_serializer="raw",
            value_serializer="raw",
        )
        self.stores = WorkerStores(app, settings)
        self.reference = ReferenceReplica(settings, self.stores)
        self.audit_log = audit or open_audit_log(settings.eventstore_url)
        self.health = Health(
            settings.eventstore_url if self.audit_log.is_postgres else None,
            self.coverage,
            self.reference.progress,
        )
        self.read_models = configured_sink(
            settings,
            self.audit_log,
            writer_name(),
            lambda key: kafka_partition_of(key, settings.partitions),
        )
        if self.read_models is not None:
            self.stores.on_stored = self.read_models.changes.note
        self.applying = self.stores.table.writing  # held while a batch is applied
        #: rebalances seen: a batch admitted before one is admitted again after it
        self.rebalances = 0
        self.batches_stored = 0
        #: whether the agent is in a batch (its admission, its order, storing it)
        self.in_batch = False
        self.rules = settings.time_rules()
        self.admission = Admission(app, settings, self.stores, set(self.raw_topics.topics))
        self.order = time_order(settings)
        self.pauses = FetchPauses(app)
        #: what the fetches of each ordered source tell of its open transactions' stamps
        self.marks: dict[Source, Marks] = {}
        #: when a long hold was last reported (monotonic seconds)
        self.hold_warned = -HOLD_WARNING_SECONDS
        self.rounds = RecordingRounds(
            app,
            settings,
            self.stores,
            self.health,
            AuditRecorder(self.audit_log, settings.rebate_grace_days),
            self.submit,
            set(self.raw_topics.topics),
            self.owned_partitions,
            self.reference,
        )
        self.sales_topic = topic_name(settings.topic_prefix, "sales")

    def coverage(self) -> Coverage:
        active = frozenset(self.owned_partitions())
        held = frozenset(self.stores.table.held())
        return Coverage(self.settings.partitions, active, held - active)

    def resume_at(self, tp: TP) -> int | None:
        """Where a raw partition's input resumes after a rebalance: past its checkpoint
        (streams/worker/committed.py). None while its state is not open: faust's fetch
        loop also seeks during a rebalance, before the partitions newly assigned are opened,
        and their checkpoints are not known then (read as none, they sent a partition back
        to offset 0 in the middle of a rebalance; the seek at the end of the recovery
        places it)."""
        if tp.topic not in self.admission.raw or tp.partition not in self.stores.table.held():
            return None
        return self.stores.next_offset(f"{tp.topic}:{tp.partition}")

    def owned_partitions(self) -> set[int]:
        assignment = self.app.consumer.assignment()
        return {tp.partition for tp in assignment if tp.topic == self.sales_topic}

    def forget_progress(self, _: Any, *__: Any, signal: Any, **___: Any) -> None:
        self.admission.reset()
        if held := self.order.holding():
            log.info("%d inputs held for their order dropped by a rebalance: read again", held)
        self.order.drop()
        self.pauses.forget()
        self.marks.clear()
        metrics.ORDER_HOLD_SECONDS.set(0)
        metrics.ORDER_HELD_EVENTS.set(0)
        metrics.ORDER_PAUSED.set(0)  # a new assignment starts unpaused
        self.rounds.forget()
        self.rebalances += 1

    def steady(self) -> bool:
        app = self.app
        return self.reference.ready.is_set() and not app.rebalancing and not app.in_recovery

    # --- the agent: batches applied and stored ------------------------------------------

    async def project(self, stream: Any) -> None:
        """Apply the stream's batches; while a rebalance or its recovery runs, set them
        aside (not applied, not stored) and keep taking them.

        Waiting with a batch in hand would let faust's stream buffer fill, and the
        consumer has one delivery loop for every topic: blocked on the full buffer, it no
        longer hands the recovery the changelog records it waits for, and the recovery
        never ends (a survivor taking over a killed worker's partitions stalled so). What
        is set aside lies beyond the stored checkpoints, so it is read again: the gate
        rewinds to the first missing offset when the next message arrives, the tail watch
        when none does.

        The inputs of a partition's movement topics are applied in broker-time order
        (`TimeOrder`): those held for it stay in memory, neither applied nor stored, and
        are merged with the next batch; a rebalance drops them (`forget_progress`), and
        they are read again like those set aside."""
        await self.reference.ready.wait()  # the catalog and prices as published before
        try:
            async for batch in self.batches(stream):
                received = self.reference.moment()
                waiting = [_input(event.message) for event in batch]
                self.in_batch = True
                try:
                    while self.steady():  # once at least: an empty batch releases a hold due
                        waiting = await self.apply_batch(waiting, received)
                        if not waiting:
                            break
                finally:
                    self.in_batch = False
                if waiting:
                    log.info("%d events set aside during a rebalance: read again", len(waiting))
        finally:
            await self.admission.stop()

    async def batches(self, stream: Any) -> AsyncIterator[Sequence[Any]]:
        """The stream's batches, and while inputs are held an empty one each batch interval
        without input: a fetch since may have caught their group up, or the hold reached
        its bound."""
        taking = stream.take_events(TAKE, self.settings.batch_seconds)
        coming: asyncio.Future[Sequence[Any]] | None = None
        try:
            while True:
                if coming is None:
                    coming = asyncio.ensure_future(anext(taking))
                due = self.order.due_in(time.monotonic())
                if due is not None:
                    due = min(due, self.settings.batch_seconds)
                done, _ = await asyncio.wait({coming}, timeout=due)
                if not done:
                    yield ()
                    continue
                try:
                    batch = coming.result()
                except StopAsyncIteration:
                    return
                coming = None
                yield batch
        finally:
            if coming is not None:
                coming.cancel()

    async def apply_batch(self, batch: list[Input], received: int) -> list[Input]:
        """Apply the batch's inputs that continue what was stored, of the partitions owned
        now, once the reference replica has read what was appended before the batch was
        `received` (`ReferenceReplica.caught_up`), in broker-time order with those held
        before (`TimeOrder`); returns those a rebalance came before."""
        rebalances = self.rebalances
        if not await self.reference.caught_up(
            received, lambda: self.rebalances != rebalances or not self.steady()
        ):
            return batch
        owned = self.app.consumer.assignment()
        admitted = await self.admission.admitted([item for item in batch if _tp(item) in owned])
        if self.order.holding():  # a tail of markers would hold them for ever
            await self.admission.pass_over_tails(owned)
        standings = self.standings(owned)
        now = time.monotonic()
        released = self.order.take(admitted, standings, now)
        self.note_holds(released, standings, now)
        await self.cap_holds()
        await self.admission.reread_undelivered({TP(*s) for s in self.order.waiting}, owned, now)
        inputs = released.inputs
        done = 0
        # bundles: by events, not messages
        for group in grouped(inputs, self.settings.batch_size):
            if not await self.apply_durably(group, rebalances):
                return inputs[done:]
            done += len(group)
        return []

    def standings(self, owned: Collection[TP]) -> dict[Source, Standing]:
        """Each owned partition of the ordered topics: the time (ms) of the consumer's last
        fetch that found it with nothing beyond the inputs admitted (its high watermark at
        the next offset), `Behind` when it has more or was not fetched yet (since it was
        assigned, or its fetching resumed: `cap_holds`), or a transaction open before its
        high watermark (with the horizon its `Marks` give)."""
        consumer = self.app.consumer
        fetched, leader, ordered = fetch_state(consumer), has_leader(consumer), self.order.ordered
        found: dict[Source, Standing] = {}
        for tp in owned:
            if tp.topic in ordered:
                end, polled, _, highwater = fetched(tp)
                next_offset = self.admission.gate.next_offset(f"{tp.topic}:{tp.partition}")
                source = (tp.topic, tp.partition)
                if end is None or polled is None or self.pauses.unfetched(source, polled):
                    found[source] = Behind(None, leader(tp))
                elif end > next_offset:
                    found[source] = Behind(end - next_offset, leader(tp))
                else:
                    found[source] = self.uncommitted(
                        source, polled, highwater, next_offset, leader(tp)
                    )
        return found

    def uncommitted(
        self, source: Source, polled: int, highwater: int | None, next_offset: int, leads: bool
    ) -> Standing:
        """A source read to its last stable offset: caught up (the fetch's time its horizon)
        unless a transaction is open before its high watermark."""
        end = next_offset if highwater is None else highwater
        marks = self.marks.get(source, Marks()).seen(Fetch(polled, end), next_offset)
        self.marks[source] = marks
        if end <= next_offset:
            return float(polled)
        return Behind(end - next_offset, leads, marks.horizon(next_offset), True)

    def note_holds(
        self, released: Released, standings: Mapping[Source, Standing], now: float
    ) -> None:
        """Count and log what the order was released past, and show how long it holds."""
        order = self.order
        if released.expired:
            metrics.ORDER_WAITS_EXPIRED.inc(len(released.expired))
            log.warning(
                "partitions %s held input for %.1f s waiting for %s: applied without their "
                "broker-time order (the auditor's replay may differ)",
                list(released.expired),
                order.wait,
                ", ".join(
                    _described(
                        (s for s in sorted(standings) if s[1] in released.expired),
                        standings,
                        time.time() * 1000,
                    )
                ),
            )
        if released.stalled:
            metrics.ORDER_STALLS.inc(len(released.stalled))
            log.warning(
                "%s behind without a leader for %.0f s: their partitions applied past them, "
                "without their broker-time order (the auditor's replay may differ)",
                ", ".join(f"{topic}:{partition}" for topic, partition in released.stalled),
                order.stall,
            )
        held = order.held_for(now)
        metrics.ORDER_HOLD_SECONDS.set(held)
        if held >= HOLD_WARNING_SECONDS and now >= self.hold_warned + HOLD_WARNING_SECONDS:
            self.hold_warned = now
            log.warning(
                "%d inputs held %.0f s for their broker-time order, waiting for %s",
                order.holding(),
                held,
                ", ".join(
                    _described(
                        sorted(order.waiting),
                        standings,
                        time.time() * 1000,
                    )
                ),
            )

    async def cap_holds(self) -> None:
        """Stop fetching the topic partitions holding more events than their cap for the
        order, and fetch again those drained to it (`streams.runners.hold_cap`)."""
        order = self.order
        held = order.held_events()

        def paused() -> set[Source]:
            return {s for s in self.pauses.paused() if s[0] in order.ordered}

        change = fetching(held, order.waiting, paused(), self.settings.order_held_max_events)
        metrics.ORDER_PAUSES.inc(await self.pauses.change(change.pause, change.resume))
        metrics.ORDER_HELD_EVENTS.set(sum(held.values()))
        metrics.ORDER_PAUSED.set(len(paused()))

    async def apply_durably(self, inputs: list[Input], rebalances: int) -> bool:
        """Apply and store a batch; on failure drop what it did and try again, waiting
        longer each time, until it is stored (the stream does not move past it). False,
        with nothing applied, once a rebalance has begun since the batch was admitted:
        the partitions may have moved, and recovery must not run under a batch."""
        delay = 1.0
        letters = self.letter_outbox()  # sent once, however often the batch is applied
        while True:
            if self.rebalances != rebalances or not self.steady():
                return False
            if self.health.store_away is None:  # else no use trying: wait for the store
                async with self.applying:  # recording and read-model rounds: whole batches
                    if self.rebalances != rebalances or not self.steady():
                        return False
                    if await self.stored(inputs, delay, letters):
                        return True
            else:  # not stored this time either, as if it had been tried (a probe came first)
                metrics.BATCH_RETRIES.inc()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.settings.retry_max_seconds)

    async def stored(self, inputs: list[Input], delay: float, letters: LetterOutbox) -> bool:
        """Whether the batch was applied and stored; if not, nothing of it is kept."""
        stores = self.stores
        try:
            with metrics.BATCH_SECONDS.time():
                result = BatchResult()
                for part in grouped(inputs, SLICE):
                    result.add(
                        process_batch(
                            stores,
                            part,
                            before_each=stores.route_to,
                            rules=self.rules,
                            internal=self.internal,
                            stored=stores.is_stored,
                        )
                    )
                    await asyncio.sleep(0)  # requests are answered between slices
                if result.facts:
                    await asyncio.get_running_loop().run_in_executor(
                        None, record_facts, self.audit_log, result.facts
                    )
                await self.send_dead_letters(result.dead_letters, letters)
                await self.send_cap_messages()
                await stores.commit(inputs)
        except Exception as exc:  # PostgreSQL or Kafka away, mostly: nothing is kept
            stores.discard()
            self.health.failed("batch", exc)
            metrics.BATCH_RETRIES.inc()
            log.warning("batch not stored, retrying in %.0f s: %r", delay, exc)
            return False
        self.health.recovered("batch")
        result.count()
        self.batches_stored += 1
        return True

    async def send_dead_letters(self, letters: Sequence[Any], outbox: LetterOutbox) -> None:
        """Send the batch's dead letters that no attempt of it had sent (`LetterOutbox`),
        each acknowledged by the broker before the batch is stored."""
        sent = await outbox.send(letters)
        if sent:
            topic = self.dead_letter_topic.get_topic_name()
            metrics.EVENTS_PRODUCED.labels(topic, "DeadLetter").inc(sent)

    def letter_outbox(self) -> LetterOutbox:
        """An outbox for one batch's attempts, on the dead-letter topic."""
        topic = self.dead_letter_topic

        async def send(key: bytes, value: bytes) -> Awaitable[Any]:
            return cast(Awaitable[Any], await topic.send(key=key, value=value))

        return LetterOutbox(send)

    async def send_cap_messages(self) -> None:
        """The batch's requests and releases of shared caps, and its ledgers' grants, on
        their topics, acknowledged before the batch is stored (a batch applied again sends
        them again: the ledger counts each once, `projections.claim_caps`)."""
        caps, grants = cap_messages(self.stores)
        prefix, producer = self.settings.topic_prefix, self.app.producer
        for topic, messages in ((CLAIM_CAPS_TOPIC, caps), (CLAIM_GRANTS_TOPIC, grants)):
            name = topic_name(prefix, topic)
            sent = [
                await producer.send(name, key.encode(), _json(value), None, None, None)
                for key, value in messages
            ]
            for delivery in sent:
                await delivery
            if sent:
                metrics.EVENTS_PRODUCED.labels(name, CAP_MESSAGE).inc(len(sent))

    # --- tasks: recording rounds, read models, the event store's health, the API --------

    async def write_read_models(self, read_models: ReadModelSink) -> None:
        """The owned partitions' projections into PostgreSQL (docs/READ_MODELS.md)."""
        topics = list(self.raw_topics.topics)
        while True:
            await asyncio.sleep(self.settings.readmodel_interval_seconds)
            if not self.steady():
                continue
            started = time.monotonic()
            await read_models.worker_round(
                self.stores,
                self.owned_partitions(),
                topics,
                self.stores.stored_progress,
                self.applying,
            )
            metrics.ROUND_SECONDS.labels("read_models").observe(time.monotonic() - started)

    async def submit(self, messages: Sequence[Message]) -> None:
        """Publish events (a period close, an ingest batch) to their raw topics in order,
        keyed and bundled; returns once the broker has them all. The producer keeps each
        partition's order, so a report's header stays ahead of its lines."""
        producer = self.app.producer

        async def send(topic: str, key: bytes, value: bytes) -> Awaitable[Any]:
            return cast(Awaitable[Any], await producer.send(topic, key, value, None, None, None))

        await send_messages(send, self.settings.topic_prefix, messages)

    async def committed(self) -> ChannelStores:
        """What the databases hold (each partition's batches whole): a request need not
        wait for the batch being applied."""
        return self.stores.readers()

    async def serve_http(self) -> None:
        settings = self.settings
        context = ApiContext(
            lambda: self.stores,
            "kafka",
            self.audit_log,
            TokenRegistry.from_env(),
            self.submit,
            lambda query: dead_letter_page(settings, query),
            self.health,
            self.committed,
            gauges_at_scrape=False,  # streams/worker/upkeep.py keeps them
        )
        runner = app_runner(context)
        await runner.setup()
        await web.TCPSite(runner, settings.web_host, settings.web_port).start()
        log.info("HTTP API on http://%s:%s/", settings.web_host, settings.web_port)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _input(message: Any) -> Input:
    return Input(
        message.value,
        _key(message.key),
        message.topic,
        message.partition,
        message.offset,
        _recorded(message),
    )


def _described(
    sources: Iterable[Source], standings: Mapping[Source, Standing], now_ms: float
) -> list[str]:
    """Topic partitions as the order saw them: behind (by how much, or not fetched yet since
    assigned; without a leader), or last fetched when."""
    return [
        f"{topic}:{partition} {_standing(standings[(topic, partition)], now_ms)}"
        for topic, partition in sources
    ]


def _standing(standing: Standing, now_ms: float) -> str:
    if not isinstance(standing, Behind):
        return f"fetched {now_ms - standing:.0f} ms before"
    if standing.lag is None:
        lag = "not fetched since assigned or resumed"
    elif standing.uncommitted:
        lag = f"{standing.lag} records of a transaction still open"
    else:
        lag = f"behind by {standing.lag}"
    return lag if standing.leader else f"{lag}, no leader"


def _tp(item: Input) -> TP:
    return TP(item.source, item.partition or 0)


def time_order(settings: Settings) -> TimeOrder:
    """The order of the movement topics and the logs of caps (partition p of each: the
    same distributors), as the auditor's replay merges them."""
    prefix = settings.topic_prefix
    movements = (name for name in CONSUMED_TOPICS if name not in REFERENCE_TOPICS)
    return TimeOrder(
        settings.order_wait_seconds,
        settings.order_stall_seconds,
        frozenset(topic_name(prefix, name) for name in (*movements, *INTERNAL_TOPICS)),
        frozenset(topic_name(prefix, name) for name in INTERNAL_TOPICS),
    )


def build_worker(
    settings: Settings, audit: AuditLog | None = None, started: Callable[[], None] | None = None
) -> faust.App:
    """The worker's Faust app: one agent over the raw topics, its timers and tasks (each
    a `ChannelWorker` method, registered under its own name); `started()` is called once
    its Kafka clients are all connected (streams/worker/start_wait.py)."""
    gc.set_threshold(*GC_THRESHOLD)
    sys.setswitchinterval(SWITCH_SECONDS)
    app = faust_app(settings)
    worker = ChannelWorker(app, settings, audit)
    read_committed(app, worker.resume_at)
    app.on_partitions_assigned.connect(cast(Any, worker.forget_progress))  # typed narrowly

    @app.agent(worker.raw_topics)
    async def project(stream: Any) -> None:
        await worker.project(stream)

    @app.timer(interval=1.0)
    async def follow_standby_partitions() -> None:
        await upkeep.follow_standby_partitions(app, settings.standby_replicas)

    tails = TailWatch(STALL_SECONDS)

    @app.timer(interval=2.0)
    async def measure_consumer_lag() -> None:
        if worker.steady():
            await worker.admission.pass_over_tails(app.consumer.assignment())
        await upkeep.measure_consumer_lag(
            app.consumer,
            set(worker.raw_topics.topics),
            worker.stores,
            worker.health,
            tails,
            lambda: app.rebalancing or app.in_recovery,
            lambda: worker.in_batch,
        )

    @app.task
    async def record_derived_audit_facts() -> None:
        await worker.rounds.run(worker.steady, worker.applying)

    _optional_tasks(app, worker)

    _upkeep_tasks(app, worker)

    @app.task
    async def watch_the_event_store() -> None:
        await worker.health.watch()

    @app.task
    async def replicate_reference_data() -> None:
        await worker.reference.run()

    if started is not None:

        @app.task
        async def connected() -> None:  # faust starts tasks once its consumer has joined
            await worker.reference.ready.wait()
            started()

    @app.task
    async def serve_http() -> None:
        await worker.serve_http()

    return app


def _optional_tasks(app: faust.App, worker: ChannelWorker) -> None:
    """The read-model writer (with a read-model database) and the decisions relay (on a
    PostgreSQL event store, docs/DECISIONS.md)."""
    read_models = worker.read_models
    if read_models is not None:

        @app.task
        async def write_read_models() -> None:
            await worker.write_read_models(read_models)

    relay = decision_relay(worker.settings, worker.audit_log, worker.health)
    if relay is not None:

        @app.task
        async def relay_decisions() -> None:
            await relay.run()


def _upkeep_tasks(app: faust.App, worker: ChannelWorker) -> None:
    """The event-loop lag probe, the caches loaded after a rebalance, the aliases indexed
    by master, the gauges kept."""

    @app.task
    async def watch_the_loop() -> None:
        await metrics.watch_the_loop()

    @app.task
    async def warm_caches() -> None:
        await upkeep.warm_caches(worker.stores.table, worker.steady)

    @app.task
    async def index_aliases() -> None:
        await upkeep.index_aliases(
            worker.stores, worker.owned_partitions, worker.steady, lambda: worker.rebalances
        )

    @app.task
    async def keep_gauges() -> None:
        await upkeep.keep_gauges(lambda: worker.batches_stored, worker.steady, worker.committed)
