"""The worker's inputs in broker-time order: timestamp synchronization of co-partitioned topics.

The movement topics are keyed by distributor with one partition count, so partition p of
each belongs to the same distributors: they form the group p (Kafka Streams' task). Faust
hands the agent each topic partition's messages separately, and with a backlog a group's
topics come out of step. The auditor's replay merges them by broker timestamp
(streams/runners/kafka_replay.py); so does this module, per group: it releases the group's
input with the smallest key (the replay's heap key: timestamp, a log of shared caps last,
topic, partition, offset) as long as every source of the group either has input here or is
known to hold nothing unread stamped before it.

What a source with nothing here is known to hold is its standing (`take`'s `known`). A
source caught up has a horizon: the time of the consumer's last fetch that found it caught
up (its high watermark at the next offset). The broker stamps each message when it appends
it (`LogAppendTime`), so a fetch answered at time P that found nothing more means every
later message is stamped after P (less the clocks' skew). A source `Behind` (known lag:
data on the broker not fetched yet, or not fetched since it was assigned or its fetching
resumed) stops its group as soon as what it gave runs out; so does one read to its last
stable offset with a transaction still open beyond it, for inputs stamped after its own
horizon (`Marks`). What cannot be released yet is
held, to be merged with the next batch (up to a cap per source: streams/runners/hold_cap.py).

Two ways past a source that stops its group, as Kafka Streams after KIP-695: a group held
for `wait` seconds without releasing anything is released past its caught-up sources
(`Released.expired`: data appended since their last fetch may come later, out of order;
`max.task.idle.ms`); a source behind is waited for however long it takes, since its data
is on the broker and the consumer will fetch it, unless the consumer has no leader for it
for `stall` seconds (`Released.stalled`: the liveness valve; nothing can be fetched from a
partition without a leader). `wait` 0: no waiting at all, every hold is released at once.
Inputs of other topics (reference data) pass through first.

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

#: where a message stands in the order: (broker timestamp in ms, a log's, topic, partition,
#: offset)
OrderKey = tuple[int, bool, str, int, int]


@dataclass(frozen=True, slots=True)
class Behind:
    """A source with data on the broker that is not here yet: its known lag (records beyond
    the next offset to admit, as last fetched; None when not fetched since it was assigned
    or its fetching resumed) and whether the consumer knows a leader to fetch it from. The
    records of a transaction still open are behind too (`uncommitted`): read committed, they
    come when it ends, stamped when they were appended; a `horizon` (broker time in ms)
    before which none of them is stamped lets earlier inputs of other sources pass."""

    lag: int | None = None
    leader: bool = True
    horizon: float = -math.inf
    uncommitted: bool = False


@dataclass(frozen=True, slots=True)
class Fetch:
    """A fetch of a source: when the broker answered (ms) and its high watermark then.
    Every record at or past that offset was appended, and stamped, after it."""

    at: float
    end: int


@dataclass(frozen=True, slots=True)
class Marks:
    """What a source's fetches tell of the stamps of records not yet committed: the latest
    fetch whose high watermark the next offset to admit has reached (its time is a horizon
    while it stays reached), and the first fetch since whose high watermark it has not.
    Two marks, not every fetch: a producer whose transactions follow each other without a
    pause never leaves its source with nothing open, and the horizon still moves on, a
    transaction at a time."""

    passed: Fetch | None = None
    pending: Fetch | None = None

    def seen(self, fetch: Fetch, next_offset: int) -> Marks:
        if fetch.end <= next_offset:
            return Marks(fetch)
        passed, pending = self.passed, self.pending
        if pending is not None and pending.end <= next_offset:
            passed, pending = pending, None
        return Marks(passed, pending or fetch)

    def horizon(self, next_offset: int) -> float:
        """Broker time (ms) before which nothing at or past `next_offset` is stamped."""
        if self.passed is None or self.passed.end > next_offset:
            return -math.inf
        return self.passed.at


#: what a source with nothing here holds: its horizon when caught up (broker time in ms:
#: nothing unread stamped before it), or `Behind`
Standing = float | Behind


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
    """What can be applied now, in order, and what it was released past."""

    inputs: list[Input]
    #: the groups (partition numbers) released by the bound past a caught-up source
    expired: tuple[int, ...] = ()
    #: the sources behind, without a leader for `stall` seconds, that groups were released past
    stalled: tuple[Source, ...] = ()


@dataclass
class TimeOrder:
    """Inputs held for their order, by group (partition number), between batches."""

    #: seconds a group may hold input for a caught-up source before it is released past it
    #: (0: no waiting at all)
    wait: float
    #: seconds a source behind may be without a leader before groups are released past it
    stall: float
    #: topics merged by timestamp (the others pass through)
    ordered: frozenset[str]
    #: topics whose message comes after the others' at one timestamp (the logs of caps)
    last: frozenset[str]
    held: dict[int, list[Input]] = field(default_factory=dict)
    #: group -> when it began holding input without releasing any (monotonic seconds)
    since: dict[int, float] = field(default_factory=dict)
    #: group -> when a source behind last stopped it (the bound runs from then on)
    lagged: dict[int, float] = field(default_factory=dict)
    #: source behind -> since when it has had no leader (monotonic seconds)
    leaderless: dict[Source, float] = field(default_factory=dict)
    #: the sources the groups held wait for, as of the last `take`
    waiting: set[Source] = field(default_factory=set)

    def drop(self) -> None:
        """Forget what is held (a rebalance: it lies beyond the stored checkpoints, so it
        is read again)."""
        self.held.clear()
        self.since.clear()
        self.lagged.clear()
        self.leaderless.clear()
        self.waiting.clear()

    def holding(self) -> int:
        return sum(len(inputs) for inputs in self.held.values())

    def held_events(self) -> dict[Source, int]:
        """The events held, by source (a message's `weight`)."""
        found: dict[Source, int] = {}
        for inputs in self.held.values():
            for item in inputs:
                source = (item.source, item.partition or 0)
                found[source] = found.get(source, 0) + item.weight
        return found

    def held_for(self, now: float) -> float:
        """Seconds the oldest hold has released nothing; 0 when nothing is held."""
        return max((now - since for since in self.since.values()), default=0.0)

    def due_in(self, now: float) -> float | None:
        """Seconds until a group's hold reaches the bound; None when nothing is held."""
        if not self.since:
            return None
        bound = min(max(since, self.lagged.get(g, since)) for g, since in self.since.items())
        return max(0.0, bound + self.wait - now)

    def take(
        self, inputs: Iterable[Input], known: Mapping[Source, Standing], now: float
    ) -> Released:
        """The inputs given and those held that can be applied now, in order; the rest is
        held. `known`: each source's standing beyond the inputs given (a source not named
        stops nothing)."""
        passing: list[Input] = []
        groups: dict[int, list[Input]] = {}
        for item in inputs:
            if item.source in self.ordered and item.partition is not None:
                groups.setdefault(item.partition, []).append(item)
            else:
                passing.append(item)
        for group, kept in self.held.items():
            groups.setdefault(group, []).extend(kept)
        self.held, self.waiting = {}, set()
        self.leaderless = {
            source: self.leaderless.get(source, now)
            for source, standing in known.items()
            if isinstance(standing, Behind) and not standing.leader
        }
        standings: dict[int, dict[Source, Standing]] = {}
        for source, standing in known.items():
            standings.setdefault(source[1], {})[source] = standing
        expired: list[int] = []
        stalled: list[Source] = []
        for group in sorted(groups):
            mine = standings.get(group, {})
            floors = {source: _floor(standing) for source, standing in mine.items()}
            ready, rest, blockers = _merge(groups[group], floors, self.last)
            started = self.since.pop(group, now)
            if rest and not ready:
                passed, valve = self._passable(group, blockers, mine, started, now)
                if passed:
                    after = {s: f for s, f in floors.items() if s not in passed}
                    ready, rest, blockers = _merge(rest, after, self.last)
                    stalled += valve
                    if len(valve) < len(passed):
                        expired.append(group)
            passing.extend(ready)
            if rest:
                self.held[group] = rest
                self.since[group] = now if ready else started
                self.waiting.update(blockers)
            if ready:
                self.lagged.pop(group, None)
        return Released(passing, tuple(expired), tuple(sorted(stalled)))

    def _passable(
        self,
        group: int,
        blockers: Collection[Source],
        standings: Mapping[Source, Standing],
        started: float,
        now: float,
    ) -> tuple[frozenset[Source], list[Source]]:
        """The sources stopping a group held since `started` without releasing, when it may
        be released past all of them (else none), and those of them passed by the liveness
        valve. With `wait` 0, always (no valve). A source behind is waited for until it has
        had no leader for `stall` seconds: its data is on the broker and will come. A
        caught-up one, once the group has waited `wait` seconds since a source behind last
        stopped it."""
        if self.wait == 0:
            return frozenset(blockers), []
        behind = [s for s in blockers if isinstance(standings[s], Behind)]
        if any(now - self.leaderless.get(s, math.inf) < self.stall for s in behind):
            self.lagged[group] = now
            return frozenset(), []
        waited = now - max(started, self.lagged.get(group, started))
        if len(behind) < len(blockers) and waited < self.wait:
            return frozenset(), []
        return frozenset(blockers), behind


def _floor(standing: Standing) -> float:
    return standing.horizon if isinstance(standing, Behind) else standing


def _merge(
    inputs: list[Input], floors: Mapping[Source, float], last: frozenset[str]
) -> tuple[list[Input], list[Input], list[Source]]:
    """One group's inputs in key order, up to the first one stamped at or after the floor
    (horizon, or -inf when behind) of a source with nothing left here; returns (released,
    held, the sources with nothing left whose floor stopped it)."""
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
    # the earliest floor of the sources with nothing (left) here
    floor = min((h for s, h in floors.items() if s not in queues), default=math.inf)
    released: list[Input] = []
    while heads and heads[0][0][0] < floor:
        _, source = heapq.heappop(heads)
        queue, at = queues[source], position[source]
        released.append(queue[at])
        position[source] = at + 1
        if at + 1 < len(queue):
            heapq.heappush(heads, _head(queue[at + 1], last, source))
        else:
            floor = min(floor, floors.get(source, math.inf))
    rest = [item for source, queue in queues.items() for item in queue[position[source] :]]
    if not heads:
        return released, rest, []
    stop = heads[0][0][0]
    blockers = [
        s
        for s, f in floors.items()
        if f <= stop and (s not in queues or position[s] == len(queues[s]))
    ]
    return released, rest, blockers


def _head(item: Input, last: frozenset[str], source: Source) -> tuple[OrderKey, Source]:
    return broker_order(_millis(item.recorded_at), *source, item.offset or 0, last), source


def _millis(recorded_at: datetime | None) -> int:
    """The broker's timestamp again (ms; faust gives it in seconds, as a float)."""
    return 0 if recorded_at is None else round(recorded_at.timestamp() * 1000)
