"""Reading the worker's committed state from another thread (streams/worker/state.py).

A `CommittedReader` reads one store over the partitions held: from a copy of the decoded
entity cache where the event loop has one loaded (`CacheCopy`, taken on the loop: a
request or a round then decodes nothing), else straight from the RocksDB database.
Both are thread-safe: a copy is private to the reader, and a RocksDB iterator reads a
consistent point of its own; the agent goes on applying meanwhile.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import orjson
from sortedcontainers import SortedDict

from projections.keyvalue import prefix_bounds

V = TypeVar("V")


class CacheCopy(Generic[V]):
    """One partition's decoded entity cache as it was when copied: its sorted keys and
    their values (shared with the cache: values are never changed in place)."""

    def __init__(self, cache: SortedDict[str, V]) -> None:
        self.keys: list[str] = list(cache)
        self.values: list[V] = list(map(cache.__getitem__, self.keys))  # the fastest copy

    def get(self, key: str) -> V | None:
        at = bisect_left(self.keys, key)
        return self.values[at] if at < len(self.keys) and self.keys[at] == key else None

    def range(self, low: str, high: str, reverse: bool) -> Iterator[tuple[str, V]]:
        first, last = bisect_left(self.keys, low), bisect_right(self.keys, high)
        pairs = zip(self.keys[first:last], self.values[first:last], strict=True)
        return reversed(list(pairs)) if reverse else pairs


class CommittedReader(Generic[V]):
    """Reads one store's committed state: from each partition's cache copy, or database
    (`decode` turns a stored value, JSON bytes, into the store's value).

    `partition_of(key)`, when given, names the partition a key lives in, so a `get` reads
    one partition, not all.
    """

    def __init__(
        self,
        prefix: bytes,
        decode: Callable[[bytes], V],
        partition_of: Callable[[str], int] | None,
        dbs: Mapping[int, Any],
        copies: Mapping[int, CacheCopy[V]],
    ) -> None:
        self.prefix = prefix
        self._decode = decode
        self._partition_of = partition_of
        self._dbs = dict(dbs)
        self._copies = dict(copies)

    def get(self, key: str) -> V | None:
        partitions = sorted(self._dbs)
        if self._partition_of is not None:
            partitions = [p for p in (self._partition_of(key),) if p in self._dbs]
        for partition in partitions:
            copy = self._copies.get(partition)
            if copy is not None:
                value = copy.get(key)
            else:
                raw = self._dbs[partition].get(self.prefix + key.encode())
                value = None if raw is None else self._decode(raw)
            if value is not None:
                return value
        return None

    def put(self, key: str, value: V) -> None:
        raise RuntimeError("a reader does not write")

    def delete(self, key: str) -> None:
        raise RuntimeError("a reader does not write")

    def scan(
        self, prefix: str = "", start: str | None = None, reverse: bool = False
    ) -> Iterator[tuple[str, V]]:
        low, high = prefix_bounds(prefix, start, reverse)
        ranges = []
        for partition, db in sorted(self._dbs.items()):
            copy = self._copies.get(partition)
            if copy is not None:
                ranges.append(copy.range(low, high, reverse))
            else:
                ranges.append(db_range(db, self.prefix, low, high, reverse, self._decode))
        if len(ranges) == 1:
            return ranges[0]
        return heapq.merge(*ranges, key=lambda item: item[0], reverse=reverse)

    def values(self) -> Iterator[V]:
        return (value for _, value in self.scan())


def json_decoder(decode: Callable[[Any], V]) -> Callable[[bytes], V]:
    """A stored value's decoder: its JSON, then the store's `from_json`."""
    loads = orjson.loads
    return lambda raw: decode(loads(raw))


class MemoDecoder(Generic[V]):
    """A decoder that remembers what it decoded, by the stored bytes: a value unchanged
    since the last read is not decoded again. For the entity stores of a process that
    reads the databases without the worker's decoded caches (streams/worker/secondary.py);
    forgets everything once it holds `limit` values, so it stays bounded."""

    def __init__(self, decode: Callable[[bytes], V], limit: int = 250_000) -> None:
        self._decode = decode
        self._limit = limit
        self._known: dict[bytes, V] = {}

    def __call__(self, raw: bytes) -> V:
        known = self._known.get(raw)
        if known is None:
            if len(self._known) >= self._limit:
                self._known.clear()
            known = self._known[raw] = self._decode(raw)
        return known


def db_range(
    db: Any, prefix: bytes, low: str, high: str, reverse: bool, decode: Callable[[bytes], V]
) -> Iterator[tuple[str, V]]:
    """(key, value) of one database's keys under `prefix` in [low, high], in order."""
    first = prefix + (high if reverse else low).encode()
    low_bytes, high_bytes = prefix + low.encode(), prefix + high.encode()
    cut = len(prefix)
    for raw_key, raw_value in db.items(from_key=first, backwards=reverse):
        past = raw_key < low_bytes if reverse else raw_key > high_bytes
        if past or not raw_key.startswith(prefix):
            return
        yield raw_key[cut:].decode(), decode(raw_value)
