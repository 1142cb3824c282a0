"""Background upkeep of a worker: the entity caches loaded after a start or a rebalance, the
index of aliases by master derived where a state from before it lacks entries, and
the gauges that read the projections kept up to date, so that a read in a thread decodes
nothing and a scrape of /metrics computes nothing; standby partitions followed; the
consumer lag measured, and a partition whose input stalled short of its end read again."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.errors import KafkaError

from projections.stores import ChannelStores
from streams import metrics
from streams.health import Health
from streams.worker.fetch_state import fetch_state
from streams.worker.progress import TailWatch
from streams.worker.rounds import input_lag
from streams.worker.state import StateTable
from streams.worker.stores import WorkerStores

log = logging.getLogger("channelflow.worker")

#: seconds between two looks at whether there is anything to do
EVERY_SECONDS = 1.0
#: the report periods and commitments gauges read every distributor's reports and periods
OBLIGATIONS_EVERY_SECONDS = 30.0


async def warm_caches(table: StateTable, steady: Callable[[], bool]) -> None:
    """Load the entity stores' caches of every partition held, one store's partition at a
    time with the event loop free in between, soon after a start or a rebalance: reads in
    threads then copy them instead of decoding every value (streams/worker/readers.py)."""
    while True:
        await asyncio.sleep(EVERY_SECONDS)
        if not steady():
            continue
        for view in table.views:
            for partition in sorted(table.held()):
                if view.warm(partition):
                    await asyncio.sleep(0)  # requests and batches between two loads


async def index_aliases(
    stores: WorkerStores,
    owned: Callable[[], set[int]],
    steady: Callable[[], bool],
    rebalances: Callable[[], int],
) -> None:
    """Once per partition owned, after a start or a rebalance: its index of aliases by
    master made equal to its aliases, stored as a batch is (changelog first) while no batch
    is applied. A state table written before the index gains its entries (read from the
    partition's aliases, bounded by them), one written since has nothing to store
    (docs/IDENTITY.md, "The aliases by master")."""
    done: set[int] = set()
    seen = rebalances()
    while True:
        await asyncio.sleep(EVERY_SECONDS)
        if rebalances() != seen:
            done, seen = set(), rebalances()
        for partition in sorted(owned() - done):
            async with stores.table.writing:
                if not steady() or rebalances() != seen:
                    break
                try:
                    if written := stores.reindex_aliases(partition):
                        await stores.commit([])
                        log.info("aliases of partition %s indexed: %d entries", partition, written)
                    else:
                        stores.discard()
                except Exception as exc:  # Kafka away, mostly: tried again in a while
                    stores.discard()
                    log.warning("aliases of partition %s not indexed: %r", partition, exc)
                    break
            done.add(partition)
            await asyncio.sleep(0)  # requests and batches between two partitions


async def keep_gauges(
    stored: Callable[[], int],
    steady: Callable[[], bool],
    committed: Callable[[], Awaitable[ChannelStores]],
) -> None:
    """Set the gauges that read the projections (rebate accrued, unpriced lines) in a thread
    about a second after a batch is stored (`stored()`: how many batches were so far); the
    report periods and commitments, which read every distributor's reports, at most every
    `OBLIGATIONS_EVERY_SECONDS`."""
    refreshed = -1
    obligations_due = 0.0
    while True:
        await asyncio.sleep(EVERY_SECONDS)
        if not steady() or stored() == refreshed:
            continue
        seen, obligations = stored(), time.monotonic() >= obligations_due
        try:
            await observe_projections(committed, obligations)
            refreshed = seen
            if obligations:
                obligations_due = time.monotonic() + OBLIGATIONS_EVERY_SECONDS
        except Exception as exc:  # a bad value: the next look tries again
            log.warning("projection gauges not refreshed: %r", exc)


async def observe_projections(
    committed: Callable[[], Awaitable[ChannelStores]], obligations: bool
) -> None:
    """One refresh of the gauges, in a thread, over readers that live no longer than it:
    kept between two refreshes (a local of the loop above) they held the databases of
    partitions a rebalance had taken away since, RocksDB's lock with them, and the worker
    could not open such a partition again when it came back (faust gave up after 30 s and
    crashed it: the survivor of bench/order_probe.py, after the other worker's kill)."""
    readers = await committed()
    await asyncio.get_running_loop().run_in_executor(
        None, metrics.observe_projections, readers, obligations
    )


async def follow_standby_partitions(app: Any, standby_replicas: int) -> None:
    """Standby partitions' changelog records reach their databases within a second
    (faust applies them only when its buffer fills)."""
    if standby_replicas and not app.in_recovery:
        app.tables.recovery.flush_buffers()  # TableManagerT leaves it out of its type


async def measure_consumer_lag(
    consumer: Any,
    topics: set[str],
    stores: WorkerStores,
    health: Health,
    tails: TailWatch,
    rebalancing: Callable[[], bool],
    in_batch: Callable[[], bool],
) -> None:
    """Lag of each owned raw partition: high watermark minus the stored position; a
    partition stalled short of its end is read again (`tails`). Not while nothing can move,
    the watch counting again afterwards: a rebalance or its recovery under way (faust's
    seek at its end would undo the re-read), the event store away (the batches wait for
    it). Nor while the agent is in a batch: one that takes longer than the watch's patience
    is no stall, and what a re-read fetches again would only queue behind it (a stall that
    outlasts it is read again at the next look). Both asked once the lag is known, since
    measuring it can take seconds."""
    try:
        lag = await input_lag(consumer, topics, stores)
    except KafkaError as exc:  # e.g. a broker timeout: keep the last values, try again
        health.failed("kafka", exc)
        log.warning("consumer lag not measured: %s", exc)
        return
    health.recovered("kafka")
    metrics.set_consumer_lag({(tp.topic, tp.partition): n for tp, n in lag.items()})
    if rebalancing() or health.store_away is not None:
        tails.pause()
    elif not in_batch():
        await rewind_stalled(consumer, stores, tails, lag)


async def rewind_stalled(
    consumer: Any, stores: WorkerStores, tails: TailWatch, lag: dict[Any, int]
) -> None:
    """Seek each owned partition whose input stalled short of its end (`TailWatch`) back to
    its checkpoint, on the consumer's own thread (as the gate's rewinds)."""
    partitions = {f"{tp.topic}:{tp.partition}": tp for tp in lag}
    behind = {source: (stores.next_offset(source), lag[tp]) for source, tp in partitions.items()}
    stalled = tails.stalled(behind, time.monotonic())
    for source, offset in stalled.items():
        log.warning(
            "input stalled in %s at offset %s, %s behind its end (%s): reading it again",
            source,
            offset,
            behind[source][1],
            fetching_state(consumer, partitions[source]),
        )
        metrics.REWINDS.labels(partitions[source].topic).inc()
    if stalled:
        await consumer.seek_wait({partitions[source]: offset for source, offset in stalled.items()})


def fetching_state(consumer: Any, tp: Any) -> str:
    """How faust's consumer stands to a partition, for the log: whether it asks for its
    records (active), holds them back (paused by its recovery, its stream buffer full),
    where aiokafka's position is, and faust's read offset (a record below it that the
    consumer hands over is dropped: streams/worker/committed.py)."""
    active = consumer._active_partitions
    notes = ["active" if active is None or tp in active else "not active"]
    if tp in consumer._paused_partitions:
        notes.append("paused by faust")
    if tp in consumer._buffered_partitions:
        notes.append("its stream buffer full")
    position = fetch_state(consumer)(tp).position
    notes.append(f"position {position}, read offset {consumer._read_offset.get(tp)}")
    return ", ".join(notes)
