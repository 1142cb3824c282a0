"""Keeps the PostgreSQL read models (infra/readmodels.py) up to date from a runner's stores.

What to write is decided purely (streams/runners/readmodel_rows.py): the rows of every
projection, assigned to the partition their distributor is keyed to. The tables bounded
by the channel's entities (inventory, rebates, quality, ...) are computed whole each
round and written where they changed; the histories (violations, unpriced lines) are
written by their rows changed since the last round: the keys the runner stored since
(`Changes`), and the violations whose lifecycle status moved. A partition's histories are
written whole once per process (its first round, or after it was reassigned), so a
restarted writer never depends on what a previous one remembered.

A Faust worker writes, every few seconds and in a thread, the partitions it owns, reading
the committed state from its databases, with its per-partition checkpoints as the source
positions (read first, so rows are never behind their positions). The embedded runner
writes its single partition after every feed, with the number of inputs fed as its
position.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from domain.scorecard_score import DEFAULT_SCORE, ScoreConfig
from infra.eventstore import AuditLog
from infra.readmodel_tables import HISTORIES, WHOLE, Row
from infra.readmodel_writes import PartitionWrite, Plan, Verdict
from infra.readmodels import ReadModelWriter
from projections.price_rules import violation_row
from projections.pricing_reads import unpriced_row
from projections.snapshot import (
    distributors,
    now_of,
)
from projections.statuses import Statuses
from projections.stores import ChannelStores
from streams import metrics
from streams.config import Settings
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import BatchResult
from streams.runners.readmodel_rows import (
    changed_rows,
    empty_tables,
    partition_rows,
    undefined,
    whole_tables,
)
from streams.runners.violation_statuses import RecordedStatuses

log = logging.getLogger("channelflow.readmodels")

#: the position "topic" of the embedded runner (it has no Kafka partitions: one, 0)
EMBEDDED = "embedded"


class Changes:
    """The keys of the history stores (violations, unpriced) a runner stored, per
    partition, since a read-model round last took them. Thread-safe."""

    STORES = ("violations", "unpriced")

    def __init__(self) -> None:
        self._keys: dict[int, dict[str, set[str]]] = {}
        self._lock = threading.Lock()

    def note(self, store: str, partition: int, key: str) -> None:
        with self._lock:
            self._keys.setdefault(partition, {}).setdefault(store, set()).add(key)

    def take(self, partition: int) -> dict[str, set[str]]:
        with self._lock:
            return self._keys.pop(partition, {})


# --- the sink ------------------------------------------------------------------------------


class ReadModelSink:
    """One runner's read models: computes its partitions' writes and hands them to the writer."""

    def __init__(
        self,
        writer: ReadModelWriter,
        audit: AuditLog,
        partition_of: Callable[[str], int],
        score: ScoreConfig = DEFAULT_SCORE,
    ) -> None:
        self.writer = writer
        self.statuses = RecordedStatuses(audit)
        self.partition_of = partition_of
        self.score = score
        self.changes = Changes()
        #: partitions whose histories were written whole by this process
        self.complete: set[int] = set()
        #: violation id -> (status, resolution) as last written
        self._written_statuses: dict[UUID, tuple[str, str | None]] = {}
        self._pending_statuses: dict[UUID, tuple[str, str | None]] = {}
        self._initialized = False
        self._warned: set[str] = set()

    def prepare(
        self, stores: ChannelStores, positions: Mapping[int, Mapping[str, int]]
    ) -> list[PartitionWrite]:
        """The writes of the partitions in `positions` (rows of other partitions left out).
        Blocking: reads the event store for the statuses."""
        statuses = self.statuses.refresh()
        moved = {
            d.violation_id
            for d in statuses.decided()
            if self._written_statuses.get(d.violation_id) != (d.status, d.resolution)
        }
        whole = partition_rows(
            whole_tables(stores, self.partition_of, self.score), self.partition_of
        )
        writes = []
        for partition in sorted(positions):
            keys = self.changes.take(partition)
            complete = partition not in self.complete
            if complete:
                histories = self._histories_of(stores, statuses, partition)
            else:
                histories = partition_rows(
                    changed_rows(stores, statuses, keys, moved), self.partition_of
                ).get(partition, empty_tables())
            tables = {
                **{name: whole.get(partition, empty_tables())[name] for name in WHOLE},
                **{name: histories[name] for name in HISTORIES},
            }
            writes.append(PartitionWrite(partition, dict(positions[partition]), tables, complete))
        self._warn_undefined(writes)
        self._pending_statuses = {
            d.violation_id: (d.status, d.resolution) for d in statuses.decided()
        }
        return writes

    def _histories_of(
        self, stores: ChannelStores, statuses: Statuses, partition: int
    ) -> dict[str, list[Row]]:
        mine = [d for d in distributors(stores) if self.partition_of(d) == partition]
        return {
            "violations": [
                violation_row(flagged, *statuses.of(flagged.violation_id))
                for d in mine
                for _, flagged in stores.violations.scan(f"{d}|")
            ],
            "unpriced": [
                unpriced_row(flagged) for d in mine for _, flagged in stores.unpriced.scan(f"{d}|")
            ],
        }

    def _warn_undefined(self, writes: Sequence[PartitionWrite]) -> None:
        for write in writes:
            for name in set(undefined(write.tables)) - self._warned:
                log.warning("read models: %s has no table definition (readmodel_tables.py)", name)
                self._warned.add(name)

    def ensure_tables(self) -> None:
        """Create or extend the tables, once per sink (blocking)."""
        if not self._initialized:
            self.writer.init()
            self._initialized = True

    def write(self, writes: Sequence[PartitionWrite], as_of: datetime | None) -> dict[int, Plan]:
        """Write (blocking; reads no stores), the tables made ready first. A partition
        whose write fails or is refused has its histories written whole next time."""
        self.ensure_tables()
        try:
            plans = self.writer.write(writes, as_of)
        except Exception:
            self.complete -= {write.partition for write in writes}
            raise
        for left_out in self.writer.skipped:
            metrics.READMODEL_ROWS_SKIPPED.labels(left_out.table).inc()
            log.error(
                "read models: a %s row of partition %s (key %s) was left out: %s",
                left_out.table, left_out.partition, left_out.key, left_out.problem,
            )  # fmt: skip
        for partition, outcome in sorted(plans.items()):
            if outcome.verdict is Verdict.STALE:
                self.complete.discard(partition)
                log.warning(
                    "read models: partition %s not written, the stored rows are ahead in %s "
                    "(another writer, or another deployment in schema %r: see "
                    "`channelflow readmodels refresh`)",
                    partition,
                    ", ".join(outcome.behind),
                    self.writer.schema,
                )
            else:
                self.complete.add(partition)
                log.debug("read models: partition %s: %s", partition, ", ".join(outcome.tables))
        self._written_statuses.update(self._pending_statuses)
        return plans

    def forget(self, partitions: Iterable[int]) -> None:
        """Partitions this runner no longer holds (or holds anew): write them whole."""
        self.complete -= set(partitions)

    def round(
        self,
        stores: ChannelStores,
        positions: Mapping[int, Mapping[str, int]],
    ) -> None:
        """One round (blocking): prepare and write."""
        writes = self.prepare(stores, positions)
        self.write(writes, now_of(stores))

    async def worker_round(
        self,
        stores: Any,
        partitions: Iterable[int],
        topics: Sequence[str],
        progress: Callable[[str], int | None],
        applying: asyncio.Lock,
    ) -> None:
        """Write the owned partitions, with their checkpoints, in a thread."""
        loop = asyncio.get_running_loop()
        try:
            async with applying:  # between batches: positions first, then the rows
                owned = sorted(partitions)
                positions = {p: checkpoints(progress, topics, p) for p in owned}
                readers = stores.readers(owned)
            for partition in set(self.complete) - set(owned):
                self.forget([partition])
            await loop.run_in_executor(None, self.round, readers, positions)
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
        ReadModelWriter(dsn, settings.readmodel_schema, writer),
        audit,
        partition_of,
        settings.score_config(),
    )


class EmbeddedReadModels:
    """The embedded runner's read models: all of its channel is partition 0.

    Its positions count the inputs fed in this process, so a new run starts by forgetting
    the previous run's (its stores start empty too).
    """

    def __init__(self, sink: ReadModelSink, channel: EmbeddedChannel) -> None:
        self.sink = sink
        self.channel = channel
        self.fed = 0
        sink.ensure_tables()
        sink.writer.forget(EMBEDDED)

    def __call__(self, result: BatchResult) -> None:
        self.fed += result.applied
        positions = {0: {EMBEDDED: self.fed - 1} if self.fed else {}}
        try:
            self.sink.round(self.channel.stores, positions)
        except psycopg.Error as exc:  # the next feed writes what changed since the last write
            log.warning("read models not written: %s", exc)


def attach_embedded(channel: EmbeddedChannel, settings: Settings) -> ReadModelWriter | None:
    """Write the channel's read models after every feed when the settings name a database
    (blocking: creates the tables now); returns the writer, or None."""
    sink = configured_sink(settings, channel.audit, EMBEDDED, lambda _: 0)
    if sink is None:
        return None
    channel.on_stored = sink.changes.note
    channel.after_feed = EmbeddedReadModels(sink, channel)
    return sink.writer
