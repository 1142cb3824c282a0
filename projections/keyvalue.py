"""The minimal key-value interface every projection store offers, and its in-memory form.

The embedded runner and the auditor's replay use plain dicts; the Faust worker uses a
batch cache over its changelog-backed tables. The projection code cannot tell them apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, Protocol, TypeVar

V = TypeVar("V")


class KeyValue(Protocol[V]):
    def get(self, key: str) -> V | None: ...

    def put(self, key: str, value: V) -> None: ...

    def values(self) -> Iterable[V]: ...

    def items(self, prefix: str) -> Iterable[tuple[str, V]]:
        """Every (key, value) whose key starts with `prefix`, in no particular order.

        A scan: for rare work (a report replacement, one distributor's rows), never for
        the per-line path.
        """
        ...


class DictStore(Generic[V]):
    """In-memory store: the embedded runner's and the replay's tables."""

    def __init__(self) -> None:
        self.data: dict[str, V] = {}

    def get(self, key: str) -> V | None:
        return self.data.get(key)

    def put(self, key: str, value: V) -> None:
        self.data[key] = value

    def values(self) -> Iterable[V]:
        return self.data.values()

    def items(self, prefix: str) -> Iterable[tuple[str, V]]:
        return [(key, value) for key, value in self.data.items() if key.startswith(prefix)]
