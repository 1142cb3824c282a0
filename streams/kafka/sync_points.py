"""When the reference replica has read everything a batch may depend on: sync points.

A sale must be judged with every price appended before it, but the replica reads the
reference topics in its own consumer, with no order between it and the agent's. No clock
comparison can settle this (the broker's and the worker's clocks differ); causality can.
A reference record the broker acknowledged before the agent received a batch is below the
end offsets of a ListOffsets request issued after that moment. So the agent notes the
moment it received a batch (`moment`: the number of end-offset queries issued so far), and
applies it once the replica has read, on every reference partition, up to the end offsets
of a query issued later (numbered above the moment).

One query serves every batch received before it was issued: a steady stream costs at most
one query per batch. Queries are issued one at a time, their answers never go down (end
offsets only grow), so reaching one answer reaches every earlier one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

P = TypeVar("P")


@dataclass
class SyncPoints(Generic[P]):
    """The end-offset queries issued and answered, and how far the replica has read them.

    `P` is a partition (aiokafka's `TopicPartition` in the replica)."""

    #: queries issued so far; the latest is numbered `issued`
    issued: int = 0
    #: the latest query whose end offsets the replica has read up to (0: none)
    reached: int = 0
    #: the latest moment a waiter noted (-1: nobody waits)
    wanted: int = -1
    #: answered queries not reached yet, oldest first: (number, end offsets)
    targets: list[tuple[int, Mapping[P, int]]] = field(default_factory=list)

    def moment(self) -> int:
        """Now, as a batch received now notes it: it needs a query numbered above this."""
        return self.issued

    def satisfied(self, moment: int) -> bool:
        return self.reached > moment

    def want(self, moment: int) -> None:
        """A waiter's moment, so that a query is issued for it (`due`)."""
        self.wanted = max(self.wanted, moment)

    def due(self) -> bool:
        """Whether a query must be issued: someone waits for one issued after the latest.
        Asked once the previous query is answered: one is on its way at a time."""
        return self.wanted >= self.issued

    def issue(self) -> int:
        """Number a query about to be sent: only after this call may it be sent."""
        self.issued += 1
        return self.issued

    def answered(self, query: int, ends: Mapping[P, int]) -> None:
        """Record a query's end offsets, to be reached (`advance`)."""
        self.targets.append((query, dict(ends)))

    def advance(self, positions: Mapping[P, int]) -> bool:
        """Mark the answers the replica's positions (next offsets to read, of records
        already applied) have reached; whether any was."""
        moved = False
        while self.targets and _reached(self.targets[0][1], positions):
            self.reached = max(self.reached, self.targets.pop(0)[0])
            moved = True
        return moved

    def behind(self, positions: Mapping[P, int]) -> int:
        """Records the replica still has to read to reach the latest answer (its lag)."""
        if not self.targets:
            return 0
        ends = self.targets[-1][1]
        return sum(max(0, end - positions.get(p, 0)) for p, end in ends.items())


def _reached(ends: Mapping[P, int], positions: Mapping[P, int]) -> bool:
    return all(positions.get(p, 0) >= end for p, end in ends.items())


@dataclass
class StallWatch:
    """Since when the replica has been behind (`SyncPoints.behind`) without reading a
    record: a replica that stopped reading while batches wait for it (a hung reducer, a
    consumer that lost the broker) is stuck, and its worker applies nothing meanwhile.
    Told what it sees (`seen`) whenever the replica looks at its positions, a batch waits,
    or /health asks; pure, with the time passed in."""

    #: seconds behind without a record read before the replica counts as stuck
    patience: float
    #: records read (the sum of the positions) as last seen
    read: int = -1
    #: when it was first seen behind at `read` (None: not behind)
    since: float | None = None

    def seen(self, read: int, behind: int, now: float) -> None:
        if behind == 0:
            self.since = None
        elif self.since is None or read != self.read:
            self.since = now
        self.read = read

    def stuck_for(self, now: float) -> float | None:
        """Seconds the replica has been behind without reading, once that is `patience` or
        more; None while it is not stuck."""
        if self.since is None or now - self.since < self.patience:
            return None
        return now - self.since
