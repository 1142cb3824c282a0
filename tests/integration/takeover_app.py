"""A faust app on the worker's consumer (streams/worker/committed.py) over a topic of two
partitions, for tests/integration/test_takeover_fetch.py. Two run in one group; the one
started with TAKEOVER_HOOKS=1 widens two windows of a takeover, as a loaded machine does:

- its fetches wait for data until some comes (faust's wait a second): a fetch under way
  when a rebalance begins waits through it, and aiokafka hands it the records of the new
  assignment, placed at their committed offset or (none) at the partition's beginning;
- once it has been ready, a rebalance that assigns it an input partition anew holds the
  moment between faust making that partition active and pausing it for the recovery
  (faust's `agents.on_rebalance`) until a fetch has handed it over (ten seconds at most).

Its agent writes `partition offset` of each record it is given to TAKEOVER_OUT, one a line;
each app writes the input partitions it is assigned to TAKEOVER_OUT.ready whenever it is not
rebalancing, and the hooked one those handed over in the held moment to
TAKEOVER_OUT.handed. Where a partition resumes after a rebalance (`resume_at`): past the
last record its agent was given, as from the worker's checkpoint.

    python -m tests.integration.takeover_app worker   (TAKEOVER_* in the environment)
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Set
from typing import Any

from faust.transport.consumer import RecordMap
from faust.types import TP

from streams.worker.committed import CommittedConsumer, CommittedConsumerThread, read_committed
from tests.integration.probe_app import probe_app

TOPIC, OUT = os.environ["TAKEOVER_TOPIC"], os.environ["TAKEOVER_OUT"]
HOOKS = os.environ.get("TAKEOVER_HOOKS") == "1"

app = probe_app("TAKEOVER", 2)
#: the next offset each input partition's agent waits for (its "checkpoint")
given: dict[TP, int] = {}
read_committed(app, lambda tp: given.get(tp, 0) if tp.topic == TOPIC else None)
#: a table, as the worker's: its recovery runs at each rebalance
app.Table("table", default=int)

handed: set[TP] = set()  # input partitions a fetch handed over (the consumer thread's)
been_ready = False


class WaitingThread(CommittedConsumerThread):
    async def getmany(self, active_partitions: Set[TP] | None, timeout: float) -> RecordMap:
        records = await super().getmany(active_partitions, 3600.0)
        handed.update(tp for tp in records if tp.topic == TOPIC)
        return records


class Consumer(app.transport.Consumer):  # type: ignore[name-defined]
    def _new_consumer_thread(self) -> Any:
        if not HOOKS:
            return super()._new_consumer_thread()
        return WaitingThread(self, loop=self.loop, beacon=self.beacon)


assert issubclass(Consumer, CommittedConsumer)
app.transport.Consumer = Consumer  # type: ignore[misc]
on_rebalance = app.agents.on_rebalance


async def held_on_rebalance(revoked: set[TP], newly_assigned: set[TP]) -> None:
    """faust's `agents.on_rebalance`, after the input partitions newly assigned were made
    active and before they are paused: held until a fetch handed one over."""
    anew = {tp for tp in newly_assigned if tp.topic == TOPIC}
    if been_ready and anew:
        handed.clear()
        for _ in range(100):
            if handed & anew:
                with open(f"{OUT}.handed", "w") as out:  # the window met, for the test
                    out.write(" ".join(str(tp.partition) for tp in sorted(handed & anew)))
                break
            await asyncio.sleep(0.1)
    await on_rebalance(revoked, newly_assigned)


if HOOKS:
    app.agents.on_rebalance = held_on_rebalance  # type: ignore[method-assign]


@app.agent(app.topic(TOPIC, key_serializer="raw", value_serializer="raw"))
async def seen(stream: Any) -> None:
    async for event in stream.events():
        message = event.message
        given[message.tp] = message.offset + 1
        with open(OUT, "a") as out:
            out.write(f"{message.partition} {message.offset}\n")


@app.timer(0.5)
async def note_assignment() -> None:
    global been_ready
    if app.rebalancing or app.in_recovery or not app.consumer.assignment():
        return
    been_ready = True
    mine = sorted(tp.partition for tp in app.consumer.assignment() if tp.topic == TOPIC)
    with open(f"{OUT}.ready", "w") as ready:
        ready.write(" ".join(map(str, mine)))


if __name__ == "__main__":
    app.main()
