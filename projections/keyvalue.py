"""The ordered key-value interface every projection store offers, and its in-memory form.

Keys are strings whose segments are joined by "|", the distributor first wherever a
value belongs to one distributor (so it lives in that distributor's partition). Stores
iterate in key order, so a distributor's rows, a SKU's days or a report's lines are one
prefix range: a read costs what it returns, never a scan of everything.

The embedded runner and the auditor's replay use `DictStore` (a sorted dict in memory);
the Faust worker uses views over its RocksDB-backed state table (streams/worker/state.py). The
projection code cannot tell them apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

from sortedcontainers import SortedDict

V = TypeVar("V")

#: sorts after every character a key can hold: prefix + END bounds a prefix range
END = "\U0010ffff"


class KeyValue(Protocol[V]):
    def get(self, key: str) -> V | None: ...

    def put(self, key: str, value: V) -> None: ...

    def delete(self, key: str) -> None: ...

    def scan(
        self, prefix: str = "", start: str | None = None, reverse: bool = False
    ) -> Iterator[tuple[str, V]]:
        """(key, value) of the keys starting with `prefix`, in key order (descending with
        `reverse`). `start`, when given, is where to begin: the first key >= start
        (ascending) or <= start (descending). Lazy: stop early and the rest is not read."""
        ...

    def values(self) -> Iterator[V]:
        """Every value, in key order: for stores bounded by the channel's entities
        (distributors, SKUs, resellers, programs), never for histories."""
        ...


def prefix_bounds(prefix: str, start: str | None, reverse: bool) -> tuple[str, str]:
    """The [low, high] key range (both inclusive) a scan covers."""
    low, high = prefix, prefix + END
    if start is not None:
        if reverse:
            high = min(high, start)
        else:
            low = max(low, start)
    return low, high


class DictStore(Generic[V]):
    """In-memory ordered store: the embedded runner's and the replay's."""

    def __init__(self) -> None:
        self.data: SortedDict[str, V] = SortedDict()

    def get(self, key: str) -> V | None:
        return self.data.get(key)

    def put(self, key: str, value: V) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)

    def scan(
        self, prefix: str = "", start: str | None = None, reverse: bool = False
    ) -> Iterator[tuple[str, V]]:
        low, high = prefix_bounds(prefix, start, reverse)
        data = self.data
        for key in data.irange(low, high, reverse=reverse):
            yield key, data[key]

    def values(self) -> Iterator[V]:
        return iter(self.data.values())
