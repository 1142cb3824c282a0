"""A faust app on the worker's consumer (streams/worker/committed.py) over one topic, for
tests/integration/test_seek_window.py: its seek at the end of a recovery takes two seconds
(as on a loaded machine), and its agent takes four over the first record it is given (the
rest wait in its stream's buffer past the seek), writing each offset to a file, one a line.
With SEEK_WINDOW_REJOIN=1 its first such seek is cancelled by a new rebalance.

    python -m tests.integration.seek_window_app worker   (SEEK_WINDOW_* in the environment)
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

from faust.types import TP

from streams.worker.committed import CommittedConsumer, read_committed
from tests.integration.probe_app import probe_app

TOPIC, OUT = os.environ["SEEK_WINDOW_TOPIC"], os.environ["SEEK_WINDOW_OUT"]

app = probe_app("SEEK_WINDOW", 1)
read_committed(app, lambda tp: None)
#: a table, as the worker's, with a changelog to read (the test writes it): faust's recovery
#: then starts its fetcher and resumes its flow to read it, and the seek at its end runs
#: with both on
app.Table("table", default=int)


class SlowSeek(app.transport.Consumer):  # type: ignore[name-defined]
    """The worker's consumer, its seek to the committed offsets two seconds long: the
    consumer fetches and hands over records meanwhile."""

    async def seek_to_committed(self) -> Mapping[TP, int]:
        placed: Mapping[TP, int] = await super().seek_to_committed()
        if rejoins:  # a new rebalance begins while the seek runs, and cancels it
            rejoins.pop()
            await self._thread.call_thread(request_rejoin, self._thread._ensure_consumer())
        await asyncio.sleep(2.0)
        return placed


#: with SEEK_WINDOW_REJOIN=1 the first seek has the consumer rejoin its group
rejoins = [True] if os.environ.get("SEEK_WINDOW_REJOIN") == "1" else []


async def request_rejoin(consumer: Any) -> None:
    """Has the aiokafka consumer rejoin its group (on the consumer's thread)."""
    consumer._coordinator.request_rejoin()


assert issubclass(SlowSeek, CommittedConsumer)
app.transport.Consumer = SlowSeek  # type: ignore[misc]


@app.agent(app.topic(TOPIC, key_serializer="raw", value_serializer="raw"))
async def seen(stream: Any) -> None:
    first = True
    async for event in stream.events():
        if first:  # the rest waits in the stream's buffer
            first = False
            await asyncio.sleep(4.0)
        with open(OUT, "a") as out:
            out.write(f"{event.message.offset}\n")


if __name__ == "__main__":
    app.main()
