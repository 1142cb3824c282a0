"""How much the broker-time order may hold of one topic partition before its fetching stops.

While a topic partition behind stops its group (`streams/runners/time_order.py`), the
group's other topic partitions go on arriving and are held in memory. Kafka Streams bounds
that with `buffered.records.per.partition`: a partition whose buffer passes the bound is
paused (its consumer fetches nothing more of it) and resumed once processing brings its
buffer back to the bound. The same rule here, counted in events (a message carries 1 to
500: its `weight`), since memory grows with the events held, not the messages.

A partition the order waits for has nothing held (what stops a group is a source whose
inputs in hand ran out), so the rule never pauses one; it is excluded all the same: paused,
it would never come, and its group would wait for ever.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from streams.runners.time_order import Source


@dataclass(frozen=True, slots=True)
class Fetching:
    """The topic partitions whose fetching is to stop, and those to fetch again."""

    pause: frozenset[Source] = frozenset()
    resume: frozenset[Source] = frozenset()


def fetching(
    held: Mapping[Source, int], waiting: Collection[Source], paused: Collection[Source], cap: int
) -> Fetching:
    """From the events held by source, the sources waited for and those paused now: a
    source stays paused exactly while it holds more than `cap` events and is not waited
    for."""
    over = {source for source, events in held.items() if events > cap}.difference(waiting)
    return Fetching(frozenset(over.difference(paused)), frozenset(set(paused) - over))
