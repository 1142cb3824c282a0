"""Contiguous progress per source partition: the worker's own guard against lost input.

Faust commits offsets from acknowledgements, and under crashes and rebalances it can
commit past messages that never reached the agent (it fills offset gaps as acked). So
the worker keeps its own checkpoint per source partition: the last offset up to which
every message's effects are stored on the broker, written after the batch's table writes
are confirmed. On every batch it admits only messages that continue that prefix; a
message beyond it means something was skipped, and the partition is rewound to the
first missing offset, unless the broker shows the gap holds nothing to deliver (transaction
markers, aborted records: streams/worker/gaps.py), which is passed over. Positions in the
state values make the re-read idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class ContiguousGate(Generic[T]):
    """Decides, per message, whether it continues its partition's stored prefix.

    `stored(source)` gives the checkpoint (last durable offset) or None when nothing was
    stored yet. Then the prefix starts at the partition's beginning, offset 0: a worker
    killed before its first checkpoint may still have had offsets committed (Faust fills
    gaps as acknowledged), so its successor must not take the first message it is handed
    as the start. Raw topics keep their whole history (docs/DESIGN.md, "Raw topics"), so
    offset 0 exists.
    Until a rewound partition's first missing offset arrives, later messages (already
    fetched) are turned away: applied first, they would make the earlier ones look old.
    """

    stored: Callable[[str], int | None]
    expected: dict[str, int] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget what this process saw: after a rebalance the checkpoints decide again."""
        self.expected.clear()

    def next_offset(self, source: str) -> int:
        """The offset of the source's next message to admit."""
        want = self.expected.get(source)
        if want is None:
            last = self.stored(source)
            want = 0 if last is None else last + 1
        return want

    def admit(
        self, messages: Iterable[T], source_of: Callable[[T], str], offset_of: Callable[[T], int]
    ) -> tuple[list[T], dict[str, int]]:
        """The messages to apply now, and the sources to rewind (source -> first missing)."""
        admitted: list[T] = []
        rewind: dict[str, int] = {}
        for message in messages:
            source, offset = source_of(message), offset_of(message)
            if source in rewind:
                continue
            want = self.next_offset(source)
            if offset > want:
                rewind[source] = want
                self.expected[source] = want
                continue
            admitted.append(message)
            self.expected[source] = max(want, offset + 1)
        return admitted, rewind

    def pass_over(self, source: str, first: int, end: int) -> None:
        """Offsets [first, end) of the source hold nothing to deliver (transaction markers,
        aborted records: streams/worker/gaps.py): the next message to admit is at `end`."""
        if first <= self.next_offset(source) < end:
            self.expected[source] = end


@dataclass
class TailWatch:
    """Partitions whose input stopped short of its end, to be read again from the checkpoint.

    After a takeover (seen with standby replicas: tests/integration/test_standby_replicas.py)
    a message fetched around the rebalance can fail to reach the agent. The gate notices such
    a gap when a later message of the partition arrives; one at the partition's tail would
    wait for the next message, however long. So when the worker has applied nothing for
    `patience` seconds (no checkpoint moved) while partitions are behind their end, those are
    read again from their checkpoints; a re-read is idempotent. A worker busy with other
    partitions moves their checkpoints, so a partition merely waiting its turn is left alone.
    """

    patience: float
    #: source -> its next offset stored, as last seen
    offsets: dict[str, int] = field(default_factory=dict)
    #: when a checkpoint last moved (or the watch last rewound, or resumed)
    moved: float | None = None

    def stalled(self, behind: dict[str, tuple[int, int]], now: float) -> dict[str, int]:
        """From source -> (next offset stored, messages behind the end): source -> the
        offset to read it again from, for the partitions behind once the worker stalled."""
        current = {source: offset for source, (offset, _) in behind.items()}
        if self.moved is None or any(self.offsets.get(s) != o for s, o in current.items()):
            self.moved = now
        self.offsets = current
        if now - self.moved < self.patience:
            return {}
        self.moved = now  # and as long again before the next
        return {source: offset for source, (offset, lag) in behind.items() if lag > 0}

    def pause(self) -> None:
        """Nothing can move now (recovery, PostgreSQL away): count again from the next look."""
        self.moved = None


@dataclass
class Undelivered:
    """Partitions the consumer fetched past the next offset to admit whose messages do not
    reach the agent, to be read again from it.

    A message fetched around a rebalance that never reaches the agent (`TailWatch`) at a
    partition's tail waits for the partition's next message while other partitions go on
    (the tail watch acts only when the whole worker stalls), and the broker-time order,
    which waits for a topic partition behind however long it takes, would wait with it. A
    partition fetched past its next offset to admit with that offset unchanged for
    `patience` seconds is read again from it (the worker keeps one watch for the partitions
    the order waits for, a shorter patience, and one for the others); a re-read is
    idempotent, and data merely in transit arrives within a batch or two.
    """

    patience: float
    #: source -> (its next offset to admit, when it was first seen there)
    seen: dict[str, tuple[int, float]] = field(default_factory=dict)

    def overdue(self, fetched_past: Mapping[str, int], now: float) -> dict[str, int]:
        """From source -> next offset to admit (the sources waited for that the consumer
        fetched past it): those to read again from it, after `patience` seconds there."""
        seen: dict[str, tuple[int, float]] = {}
        due: dict[str, int] = {}
        for source, offset in fetched_past.items():
            last = self.seen.get(source)
            since = last[1] if last is not None and last[0] == offset else now
            if now - since >= self.patience:
                due[source] = offset
                since = now  # and as long again before the next
            seen[source] = (offset, since)
        self.seen = seen
        return due
