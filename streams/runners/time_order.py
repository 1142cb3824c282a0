"""The worker's inputs in broker-time order: timestamp synchronization of co-partitioned topics.

The movement topics are keyed by distributor with one partition count, so partition p of
each belongs to the same distributors: they form the group p (Kafka Streams' task). Faust
hands the agent each topic partition's messages separately, and with a backlog a group's
topics come out of step. The auditor's replay merges them by broker timestamp
(streams/runners/kafka_replay.py); so does this module, per group: it releases the group's
input with the smallest key (the replay's heap key: timestamp, a log of shared caps last,
topic, partition, offset) as long as every source of the group either has input here or is
known to hold nothing unread stamped before it.

What a source with nothing here is known to hold is its horizon (`take`'s `known`): the
time of the consumer's last fetch that found it caught up (its high watermark at the next
offset). The broker stamps each message when it appends it (`LogAppendTime`), so a fetch
answered at time P that found nothing more means every later message is stamped after P
(less the clocks' skew). A source behind (more unread, or not fetched yet) has no horizon:
it stops its group as soon as what it gave runs out. What cannot be released yet is held,
to be merged with the next batch. A group that has released nothing for `wait` seconds
while holding input releases it all anyway (`Released.expired`), as Kafka Streams does
after `max.task.idle.ms`. Inputs of other topics (reference data) pass through first.

Each source's inputs leave in offset order, whatever else happens: the merge takes the
head of each source's queue only.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from streams.runners.processing import Input

#: a source partition: (topic, partition)
Source = tuple[str, int]

#: a source's horizon when it is behind: nothing of the group passes it once its input runs out
BEHIND = -math.inf

#: where a message stands in the order: (broker timestamp in ms, a log's, topic, partition,
#: offset)
OrderKey = tuple[int, bool, str, int, int]


def broker_order(
    stamp_ms: int, topic: str, partition: int, offset: int, logs: Collection[str]
) -> OrderKey:
    """The order in which the auditor's replay merges the movement topics, and the worker
    a partition's (the replay's heap key). At one timestamp the logs' messages come last:
    a worker sends a request or a grant after the input that made it was appended, so it
    never comes before it."""
    return (stamp_ms, topic in logs, topic, partition, offset)


@dataclass(frozen=True, slots=True)
class Released:
    """What can be applied now, in order, and which groups were released by the bound."""

    inputs: list[Input]
    #: the groups (partition numbers) released by the bound
    expired: tuple[int, ...] = ()


@dataclass
class TimeOrder:
    """Inputs held for their order, by group (partition number), between batches."""

    #: seconds a group may hold input without releasing any before it is released anyway
    wait: float
    #: topics merged by timestamp (the others pass through)
    ordered: frozenset[str]
    #: topics whose message comes after the others' at one timestamp (the logs of caps)
    last: frozenset[str]
    held: dict[int, list[Input]] = field(default_factory=dict)
    #: group -> when it began holding input without releasing any (monotonic seconds)
    since: dict[int, float] = field(default_factory=dict)

    def drop(self) -> None:
        """Forget what is held (a rebalance: it lies beyond the stored checkpoints, so it
        is read again)."""
        self.held.clear()
        self.since.clear()

    def holding(self) -> int:
        return sum(len(inputs) for inputs in self.held.values())

    def due_in(self, now: float) -> float | None:
        """Seconds until a group's hold reaches the bound; None when nothing is held."""
        if not self.since:
            return None
        return max(0.0, min(self.since.values()) + self.wait - now)

    def take(self, inputs: Iterable[Input], known: Mapping[Source, float], now: float) -> Released:
        """The inputs given and those held that can be applied now, in order; the rest is
        held. `known`: each source's horizon (broker time in ms: it holds nothing unread
        stamped before it beyond the inputs given; `BEHIND` when it is behind); a source
        not named stops nothing."""
        passing: list[Input] = []
        groups: dict[int, list[Input]] = {}
        for item in inputs:
            if item.source in self.ordered and item.partition is not None:
                groups.setdefault(item.partition, []).append(item)
            else:
                passing.append(item)
        for group, kept in self.held.items():
            groups.setdefault(group, []).extend(kept)
        self.held = {}
        horizons: dict[int, dict[Source, float]] = {}
        for (topic, partition), horizon in known.items():
            horizons.setdefault(partition, {})[(topic, partition)] = horizon
        expired: list[int] = []
        for group in sorted(groups):
            ready, rest = _merge(groups[group], horizons.get(group, {}), self.last)
            started = self.since.pop(group, now)
            if rest and not ready and now - started >= self.wait:
                ready, rest = _merge(rest, {}, self.last)
                expired.append(group)
            passing.extend(ready)
            if rest:
                self.held[group] = rest
                self.since[group] = now if ready else started
        return Released(passing, tuple(expired))


def _merge(
    inputs: list[Input], horizons: Mapping[Source, float], last: frozenset[str]
) -> tuple[list[Input], list[Input]]:
    """One group's inputs in key order, up to the first one stamped at or after the horizon
    of a source with nothing left here; returns (released, held)."""
    queues: dict[Source, list[Input]] = {}
    for item in inputs:
        queues.setdefault((item.source, item.partition or 0), []).append(item)
    heads: list[tuple[OrderKey, Source]] = []
    position: dict[Source, int] = {}
    for source, queue in queues.items():
        # one per offset, in offset order (an input given again after a retry is one)
        unique = {item.offset or 0: item for item in queue}
        queue[:] = [unique[offset] for offset in sorted(unique)]
        position[source] = 0
        heapq.heappush(heads, _head(queue[0], last, source))
    # the earliest horizon of the sources with nothing (left) here
    floor = min((h for s, h in horizons.items() if s not in queues), default=math.inf)
    released: list[Input] = []
    while heads and heads[0][0][0] < floor:
        _, source = heapq.heappop(heads)
        queue, at = queues[source], position[source]
        released.append(queue[at])
        position[source] = at + 1
        if at + 1 < len(queue):
            heapq.heappush(heads, _head(queue[at + 1], last, source))
        else:
            floor = min(floor, horizons.get(source, math.inf))
    rest = [item for source, queue in queues.items() for item in queue[position[source] :]]
    return released, rest


def _head(item: Input, last: frozenset[str], source: Source) -> tuple[OrderKey, Source]:
    return broker_order(_millis(item.recorded_at), *source, item.offset or 0, last), source


def _millis(recorded_at: datetime | None) -> int:
    """The broker's timestamp again (ms; faust gives it in seconds, as a float)."""
    return 0 if recorded_at is None else round(recorded_at.timestamp() * 1000)
