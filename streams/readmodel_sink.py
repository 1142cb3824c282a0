"""Keeps the PostgreSQL read models (infra/readmodels.py) up to date from a runner's stores.

What to write is decided purely (`readmodel_tables`, `partition_rows`): the rows of every
projection, assigned to the partition their distributor is keyed to. A Faust worker
writes, every few seconds, the partitions it owns, with its per-partition checkpoints
(streams/progress.py) as the source positions, reading the stores between batches only
so rows and positions agree. The embedded runner writes its single partition after
every feed, with the number of inputs fed as its position.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, get_args

import psycopg
from aiokafka.partitioner import DefaultPartitioner

from infra.eventstore import AuditLog
from infra.readmodels import TABLE_OF, PartitionWrite, Plan, ReadModelWriter, Row, Verdict
from projections.periods import Granularity, sell_in_vs_through
from projections.quality import DeadLetterCount
from projections.snapshot import StatusLookup, build_snapshot, latest_business_time
from projections.stores import ChannelStores
from streams.config import Settings
from streams.embedded import EmbeddedChannel
from streams.processing import BatchResult
from streams.violation_statuses import RecordedStatuses, violation_ids

log = logging.getLogger("channelflow.readmodels")

#: the position "topic" of the embedded runner (it has no Kafka partitions: one, 0)
EMBEDDED = "embedded"

_partitioner = DefaultPartitioner()


def kafka_partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2) gives a message key."""
    everything = list(range(partitions))
    return int(_partitioner(key.encode(), everything, everything))


# --- pure: the rows ------------------------------------------------------------------------


def readmodel_tables(
    stores: ChannelStores, status_of: StatusLookup, partition_of: Callable[[str], int]
) -> dict[str, list[dict[str, Any]]]:
    """Every read-model table's rows: the snapshot's, with sell-in vs sell-through at every
    granularity and dead letters per partition (the snapshot has weeks and channel totals)."""
    snapshot = build_snapshot(stores, None, status_of)
    states = list(stores.inventory.values())
    return {
        **snapshot,
        "sell_in_vs_through": [
            {**row, "granularity": granularity}
            for granularity in get_args(Granularity)
            for row in (
                snapshot["sell_in_vs_through"]
                if granularity == "week"
                else sell_in_vs_through(states, granularity)
            )
        ],
        "dead_letters": dead_letter_rows(stores.dead_letters.values(), partition_of),
    }


def dead_letter_rows(
    counts: Iterable[DeadLetterCount], partition_of: Callable[[str], int]
) -> list[dict[str, Any]]:
    """Dead letters by (partition, reason): each count is in its inputs' partition (the
    source it applied), or, without a Kafka position, its distributor's."""
    totals: Counter[tuple[int, str]] = Counter()
    for state in counts:
        sources = list(state.applied)
        partition = int(sources[0].rsplit(":", 1)[1]) if sources else partition_of(state.scope)
        totals[partition, state.reason] += state.count
    return [
        {"kafka_partition": partition, "reason": reason, "count": n}
        for (partition, reason), n in sorted(totals.items())
        if n
    ]


def partition_rows(
    tables: Mapping[str, Sequence[Row]], partition_of: Callable[[str], int]
) -> dict[int, dict[str, list[Row]]]:
    """Rows of the defined tables by partition: the one a row names, else its distributor's.

    Every partition that has rows has every table (empty ones too). Keys without a table
    definition are left out (see `undefined`).
    """
    by_partition: dict[int, dict[str, list[Row]]] = {}
    for name, rows in tables.items():
        if name not in TABLE_OF:
            continue
        for row in rows:
            if "kafka_partition" in row:
                partition = int(row["kafka_partition"])
            elif "distributor_id" in row:
                partition = partition_of(row["distributor_id"])
            else:
                raise ValueError(f"{name} rows name no distributor_id nor kafka_partition")
            by_partition.setdefault(partition, empty_tables())[name].append(row)
    return by_partition


def empty_tables() -> dict[str, list[Row]]:
    return {name: [] for name in TABLE_OF}


def undefined(tables: Mapping[str, Sequence[Row]]) -> list[str]:
    """Tables and columns the rows have but infra/readmodels.py does not define."""
    missing = []
    for name, rows in tables.items():
        table = TABLE_OF.get(name)
        if table is None:
            missing.append(name)
            continue
        defined = {column.name for column in table.all_columns}
        extra = {key for row in rows for key in row} - defined
        missing.extend(f"{name}.{key}" for key in sorted(extra))
    return missing


# --- the sink ------------------------------------------------------------------------------


class ReadModelSink:
    """One runner's read models: computes its partitions' writes and hands them to the writer."""

    def __init__(
        self, writer: ReadModelWriter, audit: AuditLog, partition_of: Callable[[str], int]
    ) -> None:
        self.writer = writer
        self.statuses = RecordedStatuses(audit)
        self.partition_of = partition_of
        self._initialized = False
        self._warned: set[str] = set()

    def prepare(
        self,
        stores: ChannelStores,
        positions: Mapping[int, Mapping[str, int]],
        status_of: StatusLookup,
    ) -> list[PartitionWrite]:
        """The writes of the partitions in `positions` (rows of other partitions left out)."""
        tables = readmodel_tables(stores, status_of, self.partition_of)
        for name in set(undefined(tables)) - self._warned:
            log.warning("read models: %s has no table definition in infra/readmodels.py", name)
            self._warned.add(name)
        rows = partition_rows(tables, self.partition_of)
        return [
            PartitionWrite(
                partition, dict(positions[partition]), rows.get(partition) or empty_tables()
            )
            for partition in sorted(positions)
        ]

    def ensure_tables(self) -> None:
        """Create or extend the tables, once per sink (blocking)."""
        if not self._initialized:
            self.writer.init()
            self._initialized = True

    def write(self, writes: Sequence[PartitionWrite], as_of: datetime | None) -> dict[int, Plan]:
        """Write (blocking; reads no stores), the tables made ready first."""
        self.ensure_tables()
        plans = self.writer.write(writes, as_of)
        for partition, outcome in sorted(plans.items()):
            if outcome.verdict is Verdict.STALE:
                log.warning(
                    "read models: partition %s not written, the stored rows are ahead in %s "
                    "(another writer, or another deployment in schema %r: see "
                    "`channelflow readmodels refresh`)",
                    partition,
                    ", ".join(outcome.behind),
                    self.writer.schema,
                )
            elif outcome.verdict is Verdict.WRITTEN:
                log.debug("read models: partition %s: %s", partition, ", ".join(outcome.tables))
        return plans

    async def worker_round(
        self,
        stores: ChannelStores,
        partitions: Iterable[int],
        topics: Sequence[str],
        progress: Callable[[str], int | None],
        applying: asyncio.Lock,
    ) -> None:
        """Write the owned partitions, with their checkpoints, between two batches."""
        loop = asyncio.get_running_loop()
        try:
            ids = violation_ids(stores)
            status_of = await loop.run_in_executor(None, self.statuses.lookup, ids)
            async with applying:  # no batch half applied: rows and checkpoints agree
                positions = {p: checkpoints(progress, topics, p) for p in partitions}
                writes = self.prepare(stores, positions, status_of)
                as_of = latest_business_time(stores)
            await loop.run_in_executor(None, self.write, writes, as_of)
        except psycopg.OperationalError as exc:
            log.warning("read models not written (next round retries): %s", exc)
        except Exception:  # read models must not stop the worker; the next round retries
            log.exception("read models not written (next round retries)")


def checkpoints(
    progress: Callable[[str], int | None], topics: Sequence[str], partition: int
) -> dict[str, int]:
    """topic -> the last offset durably applied, of one partition of each consumed topic."""
    found = {topic: progress(f"{topic}:{partition}") for topic in topics}
    return {topic: offset for topic, offset in found.items() if offset is not None}


def writer_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def configured_sink(
    settings: Settings, audit: AuditLog, writer: str, partition_of: Callable[[str], int]
) -> ReadModelSink | None:
    """The sink the settings ask for, or None (no PostgreSQL read-model database)."""
    dsn = settings.readmodel_dsn()
    if dsn is None:
        return None
    return ReadModelSink(
        ReadModelWriter(dsn, settings.readmodel_schema, writer), audit, partition_of
    )


class EmbeddedReadModels:
    """The embedded runner's read models: all of its channel is partition 0.

    Its positions count the inputs fed in this process, so a new run starts by forgetting
    the previous run's (its stores start empty too).
    """

    def __init__(self, sink: ReadModelSink, stores: ChannelStores) -> None:
        self.sink = sink
        self.stores = stores
        self.fed = 0
        sink.ensure_tables()
        sink.writer.forget(EMBEDDED)

    def __call__(self, result: BatchResult) -> None:
        self.fed += result.applied
        positions = {0: {EMBEDDED: self.fed - 1} if self.fed else {}}
        try:
            status_of = self.sink.statuses.lookup(violation_ids(self.stores))
            writes = self.sink.prepare(self.stores, positions, status_of)
            self.sink.write(writes, latest_business_time(self.stores))
        except psycopg.Error as exc:  # the next feed writes what changed since the last write
            log.warning("read models not written: %s", exc)


def attach_embedded(channel: EmbeddedChannel, settings: Settings) -> ReadModelWriter | None:
    """Write the channel's read models after every feed when the settings name a database
    (blocking: creates the tables now); returns the writer, or None."""
    sink = configured_sink(settings, channel.audit, EMBEDDED, lambda _: 0)
    if sink is None:
        return None
    channel.after_feed = EmbeddedReadModels(sink, channel.stores)
    return sink.writer
