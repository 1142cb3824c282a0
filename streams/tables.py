"""Faust tables behind the projections' key-value interface.

`PartitionedTable` writes each key's changelog to the partition of the input that changed
it (every key is owned by one distributor, hence one partition), so a batch that mixes
partitions still keeps table partitions co-partitioned with the raw topics.
`TableStore` decodes a value once per batch and writes each changed key once per batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import faust
import orjson

V = TypeVar("V")


class PartitionedTable(faust.Table):
    """A table owned per partition: each worker holds the partitions it consumes.

    Changelog sends are kept until `delivered()` awaits them: the agent acknowledges a
    batch (and so lets Faust commit its offsets) only once every state change it caused
    is on the broker, so a crash can never commit past state that was not yet stored.
    """

    _write_partition: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self._unconfirmed: list[asyncio.Future[Any]] = []

    def partition_for_key(self, key: Any) -> int | None:
        if self._write_partition is not None:
            return self._write_partition
        return super().partition_for_key(key)

    def on_key_set(self, key: Any, value: Any) -> None:
        self._unconfirmed.append(self.send_changelog(self.partition_for_key(key), key, value))
        self._sensor_on_set(self, key, value)

    async def delivered(self) -> None:
        """Wait until the broker has acknowledged every changelog write so far."""
        pending, self._unconfirmed = self._unconfirmed, []
        for future in pending:
            await future

    def put_in_partition(self, key: str, value: bytes, partition: int) -> None:
        self._write_partition = partition
        try:
            self[key] = value
        finally:
            self._write_partition = None


class TableStore(Generic[V]):
    def __init__(
        self,
        table: PartitionedTable,
        decode: Callable[[Any], V],
        encode: Callable[[V], Any],
    ) -> None:
        self.table = table
        self._decode = decode
        self._encode = encode
        self._cache: dict[str, V | None] = {}
        self._written: dict[str, V] = {}
        self._dirty: dict[str, int] = {}
        self.partition = 0  # partition of the input being applied

    def get(self, key: str) -> V | None:
        if key in self._cache:
            return self._cache[key]
        raw = self.table.get(key)
        value = None if raw is None else self._decode(orjson.loads(raw))
        self._cache[key] = value
        return value

    def put(self, key: str, value: V) -> None:
        self._cache[key] = value
        self._written[key] = value
        self._dirty[key] = self.partition

    def values(self) -> Iterable[V]:
        for raw in list(self.table.values()):
            yield self._decode(orjson.loads(raw))

    def flush(self) -> int:
        """Write each changed key once; returns the number written."""
        for key, partition in self._dirty.items():
            self.table.put_in_partition(
                key, orjson.dumps(self._encode(self._written[key])), partition
            )
        written = len(self._dirty)
        self._dirty.clear()
        self._written.clear()
        self._cache.clear()
        return written
