"""The ordered key-value interface every projection store offers, and its in-memory form.

Keys are strings whose segments are joined by "|", the distributor first wherever a
value belongs to one distributor (so it lives in that distributor's partition). Stores
iterate in key order, so a distributor's rows, a SKU's days or a report's lines are one
prefix range: a read costs what it returns, never a scan of everything.

The embedded runner and the auditor's replay use `DictStore` (a sorted dict in memory);
the Faust worker uses views over its RocksDB-backed state table (streams/worker/state.py). The
projection code cannot tell them apart.

While an input is applied (`journaled`), every write notes in the input's `Journal` what
it replaced: an input whose handler fails half way is `undo`ne, and leaves no state.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Generic, Protocol, TypeVar

from sortedcontainers import SortedList

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


class Restorable(Protocol):
    def restore(self, key: str, before: Any) -> None:
        """Put back what a write of `key` replaced (`before`, as the store noted it)."""
        ...


#: what the writes of the input being applied replaced, in the order made, three items a
#: write: the `Restorable` store, the key, what the store had (in the store's own terms).
#: Flat: a write appends, and allocates nothing the collector would track
Journal = list[Any]

#: the journal of the input this task (or thread) applies; None: writes are not noted
JOURNAL: ContextVar[Journal | None] = ContextVar("channelflow_journal", default=None)

#: what a DictStore noted of a key it did not hold
_ABSENT: Any = object()


@contextmanager
def journaled() -> Iterator[Journal]:
    """Note the writes of this task's stores in a journal, until the block ends; the
    applier clears it as each input begins."""
    journal: Journal = []
    token = JOURNAL.set(journal)
    try:
        yield journal
    finally:
        JOURNAL.reset(token)


def undo(journal: Journal) -> None:
    """Take back every write the journal noted, the latest first (so each key gets what
    it had before the first), and empty it."""
    noted = journal[:]  # a store's restore may write (and note) through its own put
    for at in range(len(noted) - 3, -1, -3):
        noted[at].restore(noted[at + 1], noted[at + 2])
    journal.clear()


class NotedSet(set[str]):
    """A set of keys kept beside the stores (not stored) whose additions the input's
    journal notes: an input that fails takes its additions out again."""

    def add(self, key: str) -> None:
        if key not in self:
            journal = JOURNAL.get()
            if journal is not None:
                journal += (self, key, None)
            super().add(key)

    def restore(self, key: str, before: Any) -> None:
        self.discard(key)


#: taken to sort new keys into a DictStore's order (seldom: one lock for all of them)
_ORDERING = threading.Lock()


class DictStore(Generic[V]):
    """In-memory ordered store: the embedded runner's and the replay's.

    Values live in a plain dict; the keys' order is kept in a sorted list that takes new
    keys when a read needs the order (a scan), in one step: a replay writes several new
    keys a line and seldom scans while it applies, and sorting a batch of new keys in
    at once costs less than placing each one as it comes (never more, amortized: see
    `SortedList.update`). Not for a writer and readers in several threads at once (no
    store is); concurrent readers are fine.
    """

    def __init__(self) -> None:
        self.data: dict[str, V] = {}
        self._order: SortedList[str] = SortedList()
        #: keys in `data` not yet in `_order`
        self._unordered: list[str] = []

    def get(self, key: str) -> V | None:
        return self.data.get(key)

    def put(self, key: str, value: V) -> None:
        data = self.data
        before = data.get(key, _ABSENT)
        if before is _ABSENT:
            self._unordered.append(key)
        journal = JOURNAL.get()
        if journal is not None:
            journal += (self, key, before)
        data[key] = value

    def delete(self, key: str) -> None:
        data = self.data
        if key in data:
            journal = JOURNAL.get()
            if journal is not None:
                journal += (self, key, data[key])
            self._ordered().discard(key)
            del data[key]

    def restore(self, key: str, before: Any) -> None:
        """Through `put` and `delete`: a subclass keeps what it derives in step."""
        if before is _ABSENT:
            self.delete(key)
        else:
            self.put(key, before)

    def scan(
        self, prefix: str = "", start: str | None = None, reverse: bool = False
    ) -> Iterator[tuple[str, V]]:
        low, high = prefix_bounds(prefix, start, reverse)
        data = self.data
        for key in self._ordered().irange(low, high, reverse=reverse):
            yield key, data[key]

    def values(self) -> Iterator[V]:
        data = self.data
        return (data[key] for key in self._ordered())

    def _ordered(self) -> SortedList[str]:
        """Every key, in order."""
        if self._unordered:
            with _ORDERING:
                if self._unordered:
                    self._order.update(self._unordered)
                    self._unordered = []
        return self._order
