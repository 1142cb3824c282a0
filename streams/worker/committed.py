"""The worker's consumer reads committed records only.

A distributor may write the raw topics with a transactional producer (docs/INGEST.md,
"Transactional producers"); an aborted transaction's records were never meant to be sent,
and the auditor's replay does not read them (streams/runners/kafka_replay.py). faust reads
committed only when it runs transactions itself (processing_guarantee "exactly_once", which
the worker does not use), so its aiokafka consumer is given the isolation level here: it
takes effect when the consumer starts (its fetcher and offset requests are made then). The
high watermarks it then reports (`end_offsets`, `last_stable_offset`) are the last stable
offsets: where a committed reader's input ends.

faust's commit drops the offsets of partitions no longer assigned and hands aiokafka the
rest; when a rebalance has just taken every one of them away, that is nothing, which
aiokafka refuses (`ValueError({})`), and faust crashes the worker on it (seen on the
survivor of a rebalance probe, bench/order_probe.py). Nothing to commit is not committed.

At the end of each recovery (after every rebalance) faust seeks every partition to the
group's committed offset, and sets its own read offset there: a record below it that the
consumer hands over later is dropped. That offset can lie past the worker's checkpoint:
faust acknowledges the events of a batch the agent set aside during a rebalance, the
events a stream skipped for a generation gone, and those a killed worker held for their
order, and it commits what was acknowledged. Left there, a partition whose tail was never
stored resumes past it and waits for a later record to show the gap (the gate), or for the
whole worker to apply nothing for 15 s (the tail watch): longer while other partitions keep
it busy, for a distributor that sends little. So
each partition whose committed offset lies past the worker's checkpoint is sought back to
the checkpoint in the same seek (`resume_at`), its read offset with it.

faust's recovery ends by making the stream partitions active, seeking them (above) and then
resuming its flow control, which clears the stream buffers; records the consumer handed over
while the seek ran (a second or more on a loaded machine) were cleared with them, while the
seek reset faust's read offsets to where it placed the partitions: the partition's position
at its end, its read offset at the checkpoint, and its tail read again only by the gate or
the tail watch (26 s to minutes after a takeover in the kill probe). The flow control is
suspended for that seek (`perform_seek`): the record in hand waits for the resume.

faust hands its consumer thread the set of partitions it counts active, the set itself,
and changes it on its own loop while the fetch waits there; aiokafka hands over the records
of every partition in that set, and of *every* assigned partition when the set is empty. At
the end of a recovery faust pauses the changelogs before it makes the stream partitions
active again: a fetch waiting then sees no partition active, is handed the records of all
of them, and faust lets go of those it does not count active (the stream partitions', paused
for the recovery). aiokafka's position has moved past them; the recovery's seek to the
committed offsets puts it back only where one past 0 is committed, so a partition with
none yet (a new one) lost them: its position at its end, its read offset None, its
tail read again only by the gate or the tail watch (tests/integration/test_seek_window.py
met it in 3 runs of 47 under load: bench/README.md, "the kill probe's settle, and the
seek-window test's timeout"). The fetch is given a view of the set that is never empty
(`Fetching`): it sees the partitions active at the moment, and none when there are none.

That seek to the committed offsets places no partition without one past 0, and a rebalance
hands some over before faust can pause them: aiokafka positions the new assignment (at the
committed offset, or at the beginning where none is) before faust's assignment handler runs,
and that handler makes the partitions newly assigned active before it pauses them for the
recovery. A fetch waiting since before the rebalance is handed their records; faust, its
flow stopped for the rebalance, lets them go and seeks to the committed offsets (and again at
the end of the recovery), which leaves a partition taken over with nothing committed past
them: its tail read again only by the gate or the tail watch
(tests/integration/test_takeover_fetch.py). So the seek places every partition whose input
resumes at a known offset there unless an offset past 0 is committed at or before it
(`placed`): the raw partitions with nothing committed go to their checkpoints (0 without
one). (A kept partition's records let go as a rebalance begins are read again anyway: the
new assignment positions it afresh.)

The consumer's fetches wait at most `FETCH_WAIT_MS` for data (faust's is 1,500 ms).
aiokafka has one fetch in flight to a broker at a time, and leaves out of it every
partition whose records fetched before are not taken yet (after 100 ms: its
`prefetch_backoff`); that fetch then waits for data on the others, often partitions of
topics that get none, for the whole wait, and the partitions left out are not fetched
before it ends. At a steady rate a worker whose loop was held a little longer than usual
thus stopped reading its busy partitions for 1.5 s: the two-worker latency tail
(bench/README.md, "The two-worker latency tail").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Set
from typing import Any, cast

import faust
from faust.transport.consumer import RecordMap
from faust.transport.drivers import aiokafka as faust_kafka
from faust.types import TP

log = logging.getLogger("channelflow.worker")

ISOLATION_LEVEL = "read_committed"
#: the longest a fetch waits for data (the broker answers as soon as one partition has some)
FETCH_WAIT_MS = 100

#: the offset a partition's input resumes from (the worker's checkpoint), None: not the
#: worker's to say (its changelog, faust's own topics)
ResumeAt = Callable[[TP], int | None]


class Fetching(Set[TP]):
    """A live view of faust's active partitions for a fetch: never empty to aiokafka, which
    reads an empty set as every partition."""

    def __init__(self, active: Set[TP]) -> None:
        self.active = active

    def __contains__(self, tp: object) -> bool:
        return tp in self.active

    def __iter__(self) -> Iterator[TP]:
        return iter(list(self.active))

    def __len__(self) -> int:
        return len(self.active)

    def __bool__(self) -> bool:
        return True


class CommittedConsumerThread(faust_kafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._isolation_level = ISOLATION_LEVEL  # no faust setting reaches it
        consumer._fetch_max_wait_ms = FETCH_WAIT_MS  # faust's is fixed; both read at start
        return consumer

    async def getmany(self, active_partitions: Set[TP] | None, timeout: float) -> RecordMap:
        """A fetch on the consumer's thread, of the partitions active when it hands records
        over (None: every partition, a client-only app)."""
        fetching = None if active_partitions is None else Fetching(active_partitions)
        return await super().getmany(cast(Any, fetching), timeout)

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        assigned = self.assignment()
        if not any(tp in assigned for tp in offsets):  # a rebalance took them all away
            return False
        return bool(await super()._commit(offsets))

    async def seek_to_committed(self) -> Mapping[TP, int]:
        """faust's seek after a recovery, to the committed offsets, and each partition
        where its input resumes when that is known and the committed offset lies past it
        or is none (faust's read offsets are set from what this returns)."""
        committed = dict(await super().seek_to_committed())
        place = placed(committed, cast(CommittedConsumer, self.consumer).resume_at)
        back = {tp: at for tp, at in place.items() if committed[tp]}
        if back:
            log.info(
                "resuming from the checkpoints, behind the committed offsets: %s",
                ", ".join(
                    f"{tp.topic}:{tp.partition} at {at} (committed {committed[tp]})"
                    for tp, at in sorted(back.items())
                ),
            )
        if len(place) > len(back):
            log.debug(
                "resuming from the checkpoints, nothing committed: %s",
                ", ".join(
                    f"{tp.topic}:{tp.partition} at {at}"
                    for tp, at in sorted(place.items())
                    if tp not in back
                ),
            )
        if place:
            await self.seek_wait(place)  # on the consumer's thread; the read offsets with them
        return {**committed, **place}


def placed(committed: Mapping[TP, int | None], resume_at: ResumeAt) -> dict[TP, int]:
    """The partitions to place where their input resumes, and that offset: those whose
    committed offset lies past it, and those with none past 0, which aiokafka's seek leaves
    where they stand (past records handed over and let go, it may be)."""
    place = {}
    for tp, offset in committed.items():
        at = resume_at(tp)
        if at is not None and (not offset or at < offset):
            place[tp] = at
    return place


class CommittedConsumer(faust_kafka.Consumer):
    @staticmethod
    def resume_at(tp: TP) -> int | None:
        """Where the partition's input resumes after a rebalance (`read_committed`)."""
        return None

    async def perform_seek(self) -> None:
        """faust's seek at the end of a recovery, with nothing handed to the streams while
        it runs: faust's recovery has made the partitions active and resumed the flow
        before it, and right after it resumes the flow control, which clears the stream
        buffers. Records fetched and handed over meanwhile were cleared with them, and the
        seek's end had put faust's read offsets back where it placed the partitions: a
        partition's tail lost until the gate or the tail watch read it again. Suspended,
        the flow control holds the record in hand until that resume (faust's own `getmany`
        seeks only while a rebalance has suspended it already)."""
        flow = self.app.flow_control
        active = flow.is_active()
        flow.suspend()
        try:
            await super().perform_seek()
        except BaseException:  # the recovery fails or times out: as faust left the flow
            # (cancelled by a new rebalance, which has suspended it again: nothing is
            # delivered before faust's next recovery resumes it; test_seek_window.py)
            if active:
                flow.resume()
            raise

    def _new_consumer_thread(self) -> faust_kafka.AIOKafkaConsumerThread:
        return CommittedConsumerThread(self, loop=self.loop, beacon=self.beacon)


def read_committed(app: faust.App, resume_at: ResumeAt) -> None:
    """Make the app's consumer (created on first use) read committed records only, and
    resume each partition from `resume_at` after a rebalance where its committed offset
    lies past it."""

    class Consumer(CommittedConsumer):
        @staticmethod
        def resume_at(tp: TP) -> int | None:
            return resume_at(tp)

    app.transport.Consumer = Consumer  # type: ignore[misc]
