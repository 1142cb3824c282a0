"""A thread with an event loop of its own, where the API process computes its answers.

The API process serves kept answers from its event loop (streams/api/answer_cache.py).
Computing a new one (a handler reading the databases, building its rows, encoding its
JSON: 10–100 ms for the summaries) on that loop held up every request behind it, kept
answers included, and the answers were computed again behind each stale one. On this
loop instead, a request for a kept answer waits only for the GIL, which a busy thread
gives up every switch interval (1 ms in the API process).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class ComputeThread:
    """An event loop in a daemon thread: `run(coroutine)` awaits it there, from another
    loop; cancelling the caller cancels it."""

    def __init__(self, name: str = "channelflow-answers") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)

    def start(self) -> ComputeThread:
        self._thread.start()
        return self

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    def stop(self) -> None:
        """Cancel what runs there (a computation stuck in C for 5 s is left to end with the
        process), stop the loop and close it."""
        if self._thread.is_alive():
            with contextlib.suppress(TimeoutError):
                asyncio.run_coroutine_threadsafe(_cancel_all(), self.loop).result(5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
        if not self._thread.is_alive():
            self.loop.close()


async def _cancel_all() -> None:
    mine = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not mine]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
