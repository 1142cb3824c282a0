"""Which inputs of a batch the worker applies: those that continue what was stored.

Each raw partition's inputs must be applied in offset order with none skipped (the stores'
checkpoints say how far each source's effects are stored). The gate (`ContiguousGate`)
admits what follows; an offset missing before a batch's input is either input lost on the
way to the agent (the partition is read again from it) or offsets that hold nothing to
deliver, transaction markers and aborted records, which the broker can tell (`GapProbe`:
those are passed over). A partition's tail of such offsets is probed too, or it would look
behind its end for ever. A partition whose fetched messages do not reach the agent is read
again (`Undelivered`): soon when the broker-time order waits for it, later when nothing does
(the tail watch acts only when the whole worker stalls; with input flowing on other
partitions such a tail would wait for the partition's next message, however long).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from aiokafka.errors import ConsumerStoppedError, KafkaError
from faust.types import TP

from streams import metrics
from streams.config import Settings
from streams.runners.processing import Input
from streams.worker.fetch_state import fetch_state
from streams.worker.gaps import GapProbe, Gaps, gaps_found, source_partition
from streams.worker.progress import ContiguousGate, Undelivered
from streams.worker.stores import WorkerStores

log = logging.getLogger("channelflow.worker")

#: seconds a partition the broker-time order waits for may stay fetched past its next offset
#: to admit, nothing of it handed over, before it is read again (`Undelivered`)
UNDELIVERED_SECONDS = 5.0
#: the same for a partition nothing waits for: longer, since a busy worker may be slow to
#: take what is in transit, and a re-read costs a fetch again
STRANDED_SECONDS = 15.0


class Admission:
    """The gate of a worker's raw partitions, with its probe of the gaps."""

    def __init__(self, app: Any, settings: Settings, stores: WorkerStores, raw: set[str]) -> None:
        self.app, self.stores, self.raw = app, stores, raw
        # offsets passed over (`pass_over`) count as stored: the gate starts after them
        self.gate: ContiguousGate[Input] = ContiguousGate(lambda s: stores.next_offset(s) - 1)
        self.probe = GapProbe(settings.kafka_bootstrap)
        #: source -> the tail [first, end) last probed for input (`pass_over_tails`)
        self.probed: dict[str, tuple[int, int]] = {}
        self.undelivered = Undelivered(UNDELIVERED_SECONDS)
        self.stranded = Undelivered(STRANDED_SECONDS)

    def reset(self) -> None:
        """A rebalance: what was admitted is known from the stores again."""
        self.gate.reset()
        self.probed.clear()
        self.undelivered.seen.clear()
        self.stranded.seen.clear()

    async def stop(self) -> None:
        await self.probe.stop()

    async def admitted(self, batch: list[Input]) -> list[Input]:
        """The batch's inputs that follow what was applied; a partition with input skipped
        is rewound to it, unless the offsets skipped hold nothing to deliver (transaction
        markers, aborted records: `GapProbe`); those are passed over."""
        events, rewind = self.gate.admit(batch, _source, _offset)
        while rewind:
            gaps = gaps_found(rewind, batch, _source, _offset)
            passed = await self.passed(gaps)
            await self.rewind({s: first for s, first in rewind.items() if s not in passed})
            rest = [i for i in batch if _source(i) in passed and _offset(i) >= gaps[_source(i)][1]]
            more, rewind = self.gate.admit(rest, _source, _offset)
            events.extend(more)
        return events

    async def passed(self, gaps: Gaps) -> set[str]:
        """The sources whose gap holds nothing to deliver, passed over (`pass_over`)."""
        try:
            passed = await self.probe.empty(gaps)
        except (KafkaError, ConsumerStoppedError) as exc:  # not known: read again, as skipped
            log.warning("gaps %s not probed: %r", sorted(gaps), exc)
            return set()
        for source in passed:
            first, end = gaps[source]
            self.gate.pass_over(source, first, end)
            self.stores.pass_over(source, first, end)
        return passed

    async def reread_undelivered(
        self, waited: Collection[TP], owned: Collection[TP], now: float
    ) -> None:
        """Read again each raw partition the consumer fetched past its next offset to admit
        while nothing of it reached the agent (`Undelivered`): one the order waits for after
        `UNDELIVERED_SECONDS`, any other after `STRANDED_SECONDS`, unless its tail is found
        to hold nothing to deliver (a transaction's marker: passed over instead)."""
        fetched = fetch_state(self.app.consumer)
        past: dict[str, int] = {}
        other: dict[str, int] = {}
        for tp in {*waited, *owned}:
            if tp.topic not in self.raw:
                continue
            position = fetched(tp).position
            source = f"{tp.topic}:{tp.partition}"
            first = self.gate.next_offset(source)
            if position is not None and position > first:
                (past if tp in waited else other)[source] = first
        stranded = self.stranded.overdue(other, now)
        if stranded:
            await self.pass_over_tails([TP(*source_partition(s)) for s in stranded])
            stranded = {s: o for s, o in stranded.items() if self.gate.next_offset(s) == o}
        overdue = {**self.undelivered.overdue(past, now), **stranded}
        await self.rewind(overdue, "fetched but not handed over")

    async def rewind(self, offsets: dict[str, int], why: str = "input skipped") -> None:
        """Read each source again from its first missing offset."""
        seeks = {}
        for source, offset in offsets.items():
            tp = TP(*source_partition(source))
            log.warning("%s in %s before offset %s: rewinding", why, source, offset)
            metrics.REWINDS.labels(tp.topic).inc()
            seeks[tp] = offset
        if seeks:
            # on the consumer's own thread: a seek from this one can race its fetcher
            # (aiokafka's fetched_records then fails with a KeyError and the worker stops)
            await self.app.consumer.seek_wait(seeks)

    async def pass_over_tails(self, owned: Collection[TP]) -> None:
        """Pass over each owned raw partition's tail that holds nothing to deliver: the
        consumer fetched to its end, and nothing was admitted since the next offset (a
        transaction's marker at the end, say). Else the partition would look behind its
        end for ever (to the broker-time order, the tail watch and the rounds). A tail
        found to hold input is not probed again until the next offset or the end moves."""
        fetched, gaps = fetch_state(self.app.consumer), {}
        raw = self.raw
        for tp in owned:
            if tp.topic not in raw:
                continue
            end, _, position, _ = fetched(tp)
            source = f"{tp.topic}:{tp.partition}"
            first = self.gate.next_offset(source)
            if end is None or position is None or not first < end <= position:
                continue
            if self.probed.get(source) != (first, end):
                self.probed[source] = gaps[source] = (first, end)
        await self.passed(gaps)


def _source(item: Input) -> str:
    return f"{item.source}:{item.partition}"


def _offset(item: Input) -> int:
    return int(item.offset or 0)
