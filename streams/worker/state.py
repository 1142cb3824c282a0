"""The worker's state: every projection store in one RocksDB-backed Faust table.

One table, co-partitioned with the raw topics: partition n of the table holds the state
of the distributors keyed to partition n, in its own RocksDB database on local disk, with
a compacted changelog topic behind it. Each store of `ChannelStores` is a `View`: the
keys under one prefix, its values JSON-encoded. Memory therefore does not grow with the
history (the dedup keys of millions of lines live on disk), and a restarted worker opens
its databases and reads from the changelog only what they are missing (Faust keeps the
changelog offset each database holds).

A batch of inputs is applied to the views, which buffer its writes (seen by the batch
alone: `APPLYING` tells the agent's task from a request's); `WorkerStores.commit`
then sends them to the changelog, waits until the broker has every one, sends the
batch's progress checkpoints the same way, and only then writes the batch into the local
databases together with the changelog offsets they hold. A batch that fails anywhere is
`discard`ed and leaves no trace: nothing in the databases, nothing in the caches, nothing
acknowledged. So the local state is always a prefix of the changelog.

Stores bounded by the channel's entities (`cached=True`) are also held decoded in memory,
one sorted dict per partition, loaded on first read and dropped when the partition is
revoked or recovered. History stores are read from RocksDB by key or prefix range only.
Reads outside a batch (the HTTP API) see committed state merged over the partitions
whose databases this worker holds: the ones it owns and, with standby replicas, the
others, which faust keeps up to date from their changelogs (so every worker answers for
the whole channel). `readers()` gives views of the committed state (copies of the loaded
caches, the databases for the rest: streams/worker/readers.py), safe to use from a thread
while the agent goes on applying.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, Generic, NoReturn, TypeVar, cast

import faust
import orjson
from faust.stores.rocksdb import RocksDBOptions
from faust.types import TP
from rocksdict import WriteBatch
from sortedcontainers import SortedDict

from projections.keyvalue import END, JOURNAL, prefix_bounds
from streams.memory import keep_long_lived
from streams.worker.changelog_packs import is_pack, pack_key, packs, unpack
from streams.worker.readers import CacheCopy, CommittedReader, db_range, json_decoder

V = TypeVar("V")

#: the share of a memtable's size given to its bloom filter (`StateOptions`)
MEMTABLE_BLOOM_RATIO = 0.02

#: what a batch's reads note of a key not read yet (None is a value: absent)
_UNREAD: Any = object()

#: a batch's encoded writes: partition -> key -> value (None: delete)
Writes = dict[int, dict[bytes, bytes | None]]

#: the partition of the input the current task is applying (None: not applying). Task-local:
#: the agent sets it for its batch, and an HTTP request served while the batch awaits the
#: broker runs in a task of its own, where it is None: it reads committed state only.
APPLYING: ContextVar[int | None] = ContextVar("channelflow_applying", default=None)


class StateOptions(RocksDBOptions):
    """faust's RocksDB options, with a whole-key bloom filter on the memtables too.

    Most of a batch's reads of the history stores find nothing (a line's dedup entry, its
    POS line's claims, a new day's totals): such a read searched both memtables' skiplists
    before the SST files' filters. A memtable's filter costs `MEMTABLE_BLOOM_RATIO` of its
    size, whatever the history's length, and changes nothing the databases hold."""

    def as_options(self) -> Any:
        options = super().as_options()
        options.set_memtable_prefix_bloom_ratio(MEMTABLE_BLOOM_RATIO)
        options.set_memtable_whole_key_filtering(True)
        return options


class StateTable(faust.Table):
    """The state table: RocksDB per partition, written by `WorkerStores` in batches."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.views: list[View[Any]] = []
        #: held while a batch is applied and stored (and while a round takes whole batches)
        self.writing = asyncio.Lock()

    #: faust's store's databases by partition, once the store exists (`_new_store`)
    _opened: Mapping[int, Any] = MappingProxyType({})

    def _new_store(self) -> Any:
        store = cast(Any, super()._new_store())
        # faust's store has taken out its own keys (driver): what is left are the options
        store.rocksdb_options = StateOptions(**store.options, use_rocksdict=True)
        self._opened = store._dbs  # faust's dict: one for the store's life, changed in place
        return store

    @property
    def rocks(self) -> Any:
        """faust's RocksDB store: one database per assigned partition (`_dbs`)."""
        return cast(Any, self.data)

    def held(self) -> dict[int, Any]:
        """partition -> its RocksDB database, for the partitions this worker holds now:
        active and standby."""
        return dict(self.rocks._dbs)

    def db(self, partition: int) -> Any:
        """The partition's database, opened if it is not (a batch's reads ask for it ~3
        times a line: an open one is a dict lookup away)."""
        found = self._opened.get(partition)
        return self.rocks._db_for_partition(partition) if found is None else found

    async def on_rebalance(
        self,
        assigned: set[TP],
        revoked: set[TP],
        newly_assigned: set[TP],
        generation_id: int = 0,
    ) -> None:
        # A batch begun before the rebalance is stored before recovery starts: recovery
        # reads the changelog from the offset the local databases hold, and would write
        # older records over a batch stored meanwhile. (The agent starts no batch while
        # a rebalance is on: ChannelWorker.apply_durably.)
        async with self.writing:
            pass
        await super().on_rebalance(assigned, revoked, newly_assigned, generation_id)
        self._forget({tp.partition for tp in revoked | newly_assigned})

    async def on_recovery_completed(self, active_tps: set[TP], standby_tps: set[TP]) -> None:
        await super().on_recovery_completed(active_tps, standby_tps)
        keep_long_lived()  # what is loaded by now lives long: not walked again
        # recovery wrote changelog records under the caches: read them again
        self._forget({tp.partition for tp in active_tps | standby_tps})

    def _forget(self, partitions: set[int]) -> None:
        for view in self.views:
            view.forget(partitions)

    async def send(self, writes: Writes) -> dict[int, int]:
        """Send the writes to the changelog; returns, per partition, the offset of the last
        one, once the broker has acknowledged every write. The writes of `packed` views
        (deletes too) travel in packs (see `streams.worker.changelog_packs`), the others a
        message per key. Each partition's records go to the producer in whole batches
        (aiokafka's batch builder: a message appended costs a fraction of a `send`), in
        order, as many batches as they fill."""
        producer = cast(Any, self.app.producer)._ensure_producer()  # faust's, its aiokafka
        topic = self.changelog_topic.get_topic_name()
        packed = tuple(view.prefix for view in self.views if view.packed)
        pending = []
        for partition, keyed in writes.items():
            pending += await produce_batches(
                producer, topic, partition, changelog_records(keyed, packed)
            )
        return await acknowledged(pending)

    def apply_changelog_batch(self, batch: Iterable[Any]) -> None:
        """Recovery and standby replicas: write changelog records into the local databases,
        a pack as the values it carries, with the offset each database now holds (as
        faust's own store does for plain records)."""
        writes: Writes = defaultdict(dict)
        offsets: dict[TP, int] = {}
        for event in batch:
            message = event.message
            offsets[message.tp] = max(offsets.get(message.tp, -1), message.offset)
            keyed = writes[message.partition]
            if is_pack(message.key):
                keyed.update(unpack(message.value))
            else:
                keyed[message.key] = message.value
        write_batches(self.db, writes)
        for tp, offset in offsets.items():
            self.rocks.set_persisted_offset(tp, offset)
        for view in self.views:  # a standby partition's caches follow its changelog
            view.follow(writes)

    def write_local(self, writes: Writes, offsets: dict[int, int]) -> None:
        """Write acknowledged writes into the local databases, each partition's in one
        atomic RocksDB batch together with the changelog offset it now holds."""
        marks = {p: (self.rocks.offset_key, str(o).encode()) for p, o in offsets.items()}
        write_batches(self.db, writes, marks)


def changelog_records(
    keyed: dict[bytes, bytes | None], packed: tuple[bytes, ...]
) -> Iterator[tuple[bytes, bytes | None]]:
    """A partition's changelog records: a message per key, then the packed keys' packs."""
    history: list[tuple[bytes, bytes | None]] = []
    for key, value in keyed.items():
        if key.startswith(packed):
            history.append((key, value))
        else:
            yield key, value
    for pack in packs(history):
        yield pack_key(), pack


async def produce_batches(
    producer: Any, topic: str, partition: int, records: Iterable[tuple[bytes, bytes | None]]
) -> list[tuple[int, Awaitable[Any], int]]:
    """Hand the records to the producer in batches of its batch size, in order; returns
    (partition, the batch's delivery, its record count) of each batch."""
    sent = []
    batch = producer.create_batch()
    for key, value in records:
        if batch.append(key=key, value=value, timestamp=None) is None:  # full: send it
            sent.append(await _submitted(producer, topic, partition, batch))
            batch = producer.create_batch()
            batch.append(key=key, value=value, timestamp=None)  # an empty batch takes any
    if batch.record_count():
        sent.append(await _submitted(producer, topic, partition, batch))
    return sent


async def acknowledged(pending: Iterable[tuple[int, Awaitable[Any], int]]) -> dict[int, int]:
    """Once the broker has every batch: per partition, the offset of its last record."""
    offsets: dict[int, int] = {}
    for partition, delivery, count in pending:
        metadata = await delivery
        last = metadata.offset + count - 1  # a batch's offsets are consecutive
        offsets[partition] = max(offsets.get(partition, -1), last)
    return offsets


async def _submitted(
    producer: Any, topic: str, partition: int, batch: Any
) -> tuple[int, Awaitable[Any], int]:
    batch.close()  # exactly these records: a plain `send` may not join it
    delivery = await producer.send_batch(batch, topic, partition=partition)
    return partition, delivery, batch.record_count()


def write_batches(
    db: Callable[[int], Any], writes: Writes, marks: dict[int, tuple[bytes, bytes]] | None = None
) -> None:
    """Write each partition's writes to its database in one atomic RocksDB batch, with the
    partition's extra (key, value) from `marks` in the same batch."""
    for partition, keyed in writes.items():
        batch = WriteBatch(raw_mode=True)
        put, delete = batch.put, batch.delete  # ~7 values a sale line: looked up once
        for key, value in keyed.items():
            if value is None:
                delete(key)
            else:
                put(key, value)
        if marks and partition in marks:
            batch.put(*marks[partition])
        db(partition).write(batch)


class View(Generic[V]):
    """One store of the channel projection: the keys of the table under `prefix`.

    `partition_of(key)`, when given, names the partition a key lives in (from the
    distributor it starts with), so a read outside a batch opens one database, not all.
    """

    def __init__(
        self,
        table: StateTable,
        prefix: str,
        decode: Callable[[Any], V],
        encode: Callable[[V], Any],
        cached: bool = False,
        partition_of: Callable[[str], int] | None = None,
        packed: bool = False,
    ) -> None:
        self.table = table
        self.prefix = prefix.encode()
        self._decode_raw = json_decoder(decode)
        self._encode = encode
        self.cached = cached
        #: values written once, mostly: sent to the changelog in packs
        self.packed = packed
        self._partition_of = partition_of
        #: the batch's writes: key -> (partition, value; None when deleted)
        self._pending: dict[str, tuple[int, V | None]] = {}
        #: values read by the batch (history stores): decoded once per batch
        self._read: dict[str, V | None] = {}
        #: the writes of the batch stored before (history stores), what the databases hold
        #: now: the next batch of a distributor reads its quarter's buckets again. Let go
        #: when anything else writes the databases (`follow`, `forget`) and when a batch
        #: fails
        self._last: dict[str, tuple[int, V | None]] = {}
        #: entity stores: every value of a partition, decoded
        self._cache: dict[int, SortedDict[str, V]] = {}
        table.views.append(self)

    # --- reads ---------------------------------------------------------------------------

    def get(self, key: str) -> V | None:
        applying = APPLYING.get()
        if applying is None:
            return self._committed_get(key)
        # a read of the batch applying in `applying`: its own writes first (the hot path
        # of every batch, ~10 reads a sale line: kept to a few dict lookups)
        pending = self._pending.get(key)
        if pending is not None:
            return pending[1]
        if self.cached:
            cache = self._cache.get(applying)
            return (self._loaded(applying) if cache is None else cache).get(key)
        read = self._read
        found = read.get(key, _UNREAD)
        if found is not _UNREAD:
            return cast("V | None", found)
        last = self._last.get(key)
        if last is not None and last[0] == applying:
            return last[1]
        raw = self.table.db(applying).get(self.prefix + key.encode())
        value = None if raw is None else self._decode_raw(raw)
        read[key] = value
        return value

    def _committed_get(self, key: str) -> V | None:
        """A read outside a batch: the committed state of the partitions held."""
        if self.cached:
            for partition in self._partitions_for(key):
                found = self._loaded(partition).get(key)
                if found is not None:
                    return found
            return None
        encoded = self.prefix + key.encode()
        for partition in self._partitions_for(key):
            db = self._reached(partition)
            raw = None if db is None else db.get(encoded)
            if raw is not None:
                return self._decode_raw(raw)
        return None

    def _reached(self, partition: int) -> Any | None:
        """The database a read reaches: in a batch its partition's; outside one only a
        database held now. The table's `db` opens one that is missing, and a reader that
        listed the held partitions just before a rebalance gave one up would open it again
        and keep it for good (stale rows read as the worker's, reported as a standby)."""
        if APPLYING.get() is not None:
            return self.table.db(partition)
        return self.table.held().get(partition)

    def scan(
        self, prefix: str = "", start: str | None = None, reverse: bool = False
    ) -> Iterator[tuple[str, V]]:
        low, high = prefix_bounds(prefix, start, reverse)
        partitions = self._partitions_for(None)
        if self.cached:
            stored = [self._cached_range(p, low, high, reverse) for p in partitions]
        else:
            stored = [self._db_range(p, low, high, reverse) for p in partitions]
        committed = heapq.merge(*stored, key=lambda item: item[0], reverse=reverse)
        if APPLYING.get() is None:  # a read outside the batch: committed state only
            yield from committed
            return
        pending = sorted(
            ((key, value) for key, (_, value) in self._pending.items() if low <= key <= high),
            key=lambda item: item[0],
            reverse=reverse,
        )
        yield from _overlay(committed, pending, reverse)

    def values(self) -> Iterator[V]:
        return (value for _, value in self.scan())

    def _partitions_for(self, key: str | None) -> list[int]:
        applying = APPLYING.get()
        if applying is not None:
            return [applying]
        held = sorted(self.table.held())
        if key is not None and self._partition_of is not None:
            partition = self._partition_of(key)
            return [partition] if partition in held else []
        return held

    def warm(self, partition: int) -> bool:
        """Load an entity store's partition into its cache if it is not (on the event loop,
        between batches); whether there was anything to do."""
        if not self.cached or partition in self._cache or self.table.app.in_recovery:
            return False
        self._loaded(partition)
        return True

    def _loaded(self, partition: int) -> SortedDict[str, V]:
        found = self._cache.get(partition)
        if found is not None:
            return found
        loaded: SortedDict[str, V] = SortedDict(
            (key, value) for key, value in self._db_range(partition, "", END, False)
        )
        # a cache filled mid-recovery would go stale; one of a partition given up is empty
        if not self.table.app.in_recovery and self._reached(partition) is not None:
            self._cache[partition] = loaded
        return loaded

    def _cached_range(
        self, partition: int, low: str, high: str, reverse: bool
    ) -> Iterator[tuple[str, V]]:
        cache = self._loaded(partition)
        for key in list(cache.irange(low, high, reverse=reverse)):
            yield key, cache[key]

    def _db_range(
        self, partition: int, low: str, high: str, reverse: bool
    ) -> Iterator[tuple[str, V]]:
        db = self._reached(partition)
        if db is None:
            return iter(())
        return db_range(db, self.prefix, low, high, reverse, self._decode_raw)

    # --- writes --------------------------------------------------------------------------

    def put(self, key: str, value: V | None) -> None:
        """Write `value` (None: delete) in the batch."""
        partition = APPLYING.get()
        if partition is None:
            _outside_a_batch()
        pending = self._pending
        journal = JOURNAL.get()
        if journal is not None:  # an input is applied: note what its write replaces
            journal += (self, key, pending.get(key))
        pending[key] = (partition, value)

    def delete(self, key: str) -> None:
        self.put(key, None)

    def restore(self, key: str, before: tuple[int, V | None] | None) -> None:
        """Put back the batch's write of `key` that a failed input's replaced (None: the
        batch had not written it: what the databases hold shows again)."""
        if before is None:
            self._pending.pop(key, None)
        else:
            self._pending[key] = before

    # --- the batch -----------------------------------------------------------------------

    def encoded(self, writes: Writes) -> int:
        """Add the batch's writes, encoded, to `writes`; returns how many."""
        prefix, encode, dumps = self.prefix, self._encode, orjson.dumps
        keyed: dict[bytes, bytes | None] = {}
        at = None
        for key, (partition, value) in self._pending.items():
            if partition != at:  # a batch's writes come a partition at a time, mostly
                keyed, at = writes.setdefault(partition, {}), partition
            keyed[prefix + key.encode()] = None if value is None else dumps(encode(value))
        return len(self._pending)

    def pending_keys(self) -> list[tuple[int, str]]:
        """(partition, key) of the batch's writes."""
        return [(partition, key) for key, (partition, _) in self._pending.items()]

    def committed(self) -> None:
        """The batch is in the databases: keep its writes in the caches (entity stores) or
        decoded for the next batch (history stores), end the batch."""
        if self.cached:
            for key, (partition, value) in self._pending.items():
                cache = self._cache.get(partition)
                if cache is None:
                    continue  # not loaded: the next read loads it from the database
                if value is None:
                    cache.pop(key, None)
                else:
                    cache[key] = value
            self._pending.clear()
        else:
            self._last, self._pending = self._pending, {}
        self._read.clear()

    def discard(self) -> None:
        """Forget a batch that failed (or stored nothing), and the last one's writes."""
        self._pending.clear()
        self._read.clear()
        self._last = {}

    def forget(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self._cache.pop(partition, None)
        self._last = {}

    def follow(self, writes: Writes) -> None:
        """Changelog records written into the databases (a standby partition's): keep the
        loaded caches equal to them (a history store lets the last batch's writes go)."""
        if not self.cached:
            self._last = {}
            return
        cut = len(self.prefix)
        for partition, keyed in writes.items():
            cache = self._cache.get(partition)
            if cache is None:
                continue
            for raw_key, raw in keyed.items():
                if not raw_key.startswith(self.prefix):
                    continue
                key = raw_key[cut:].decode()
                if raw is None:
                    cache.pop(key, None)
                else:
                    cache[key] = self._decode_raw(raw)

    def reader(self, partitions: Iterable[int] | None = None) -> CommittedReader[V]:
        """A view of the committed state alone (no batch), for another thread: of the given
        partitions, or of every one held. Called on the event loop, between batches: the
        loaded caches are copied (decoded already), the other partitions are read from
        their databases."""
        held = self.table.held()
        dbs = held if partitions is None else {p: held[p] for p in partitions if p in held}
        copies = {p: CacheCopy(self._cache[p]) for p in dbs if p in self._cache}
        return CommittedReader(self.prefix, self._decode_raw, self._partition_of, dbs, copies)


def _outside_a_batch() -> NoReturn:
    raise RuntimeError("state is written only inside a batch (WorkerStores.route_to)")


def _overlay(
    committed: Iterator[tuple[str, V]],
    pending: list[tuple[str, V | None]],
    reverse: bool,
) -> Iterator[tuple[str, V]]:
    """The committed items with the batch's writes laid over them (None: deleted)."""
    waiting = iter(pending)
    head = next(waiting, None)

    def before(a: str, b: str) -> bool:
        return a > b if reverse else a < b

    for key, value in committed:
        while head is not None and before(head[0], key):
            if head[1] is not None:
                yield head[0], head[1]
            head = next(waiting, None)
        if head is not None and head[0] == key:
            if head[1] is not None:
                yield key, head[1]
            head = next(waiting, None)
            continue
        yield key, value
    while head is not None:
        if head[1] is not None:
            yield head[0], head[1]
        head = next(waiting, None)
