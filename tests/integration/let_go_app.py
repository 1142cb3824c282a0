"""A faust app on the worker's consumer (streams/worker/committed.py) over one topic, for
tests/integration/test_let_go.py: faust lets go of the first fetch of the topic's records,
as when a pause of its own lands between a fetch and its hand-over; the agent writes each
offset it is given to a file, one a line.

    python -m tests.integration.let_go_app worker   (LET_GO_* in the environment)
"""

from __future__ import annotations

import os
from typing import Any

import faust
from faust.types import TP

from streams.worker.committed import CommittedConsumer, read_committed

TOPIC, OUT = os.environ["LET_GO_TOPIC"], os.environ["LET_GO_OUT"]

app = faust.App(
    os.environ["LET_GO_APP"],
    broker=f"kafka://{os.environ['LET_GO_KAFKA']}",
    datadir=os.environ["LET_GO_DATA"],
    consumer_auto_offset_reset="earliest",
    web_enabled=False,
)
read_committed(app, lambda tp: 0 if tp.topic == TOPIC else None)


class LettingGo(app.transport.Consumer):  # type: ignore[name-defined]
    """faust's consumer counting the topic's partitions not active for its first fetch of
    them: its `getmany` drops their records, as it does a paused partition's."""

    let_go = False

    async def _wait_next_records(self, timeout: float) -> tuple[Any, set[TP] | None]:
        records, active = await super()._wait_next_records(timeout)
        ours = {tp for tp in records or () if tp.topic == TOPIC}
        if ours and active is not None and not LettingGo.let_go:
            LettingGo.let_go = True
            active = active - ours
        return records, active


assert issubclass(LettingGo, CommittedConsumer)
app.transport.Consumer = LettingGo  # type: ignore[misc]


@app.agent(app.topic(TOPIC, key_serializer="raw", value_serializer="raw"))
async def seen(stream: Any) -> None:
    async for event in stream.events():
        with open(OUT, "a") as out:
            out.write(f"{event.message.offset}\n")


if __name__ == "__main__":
    app.main()
