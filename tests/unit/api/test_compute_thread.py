"""Answers computed on a loop of their own (streams/api/compute_thread.py): the handlers of
the GETs kept run in the compute thread, and the serving loop goes on serving kept answers
while a computation there is stuck."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from streams.api.answer_cache import AnswerCache
from streams.api.compute_thread import ComputeThread


@pytest.fixture
def compute() -> Iterator[ComputeThread]:
    thread = ComputeThread().start()
    yield thread
    thread.stop()


def test_a_coroutine_runs_on_the_thread_s_loop_and_its_error_reaches_the_caller(
    compute: ComputeThread,
):
    async def where() -> str:
        await asyncio.sleep(0)
        return threading.current_thread().name

    async def fails() -> None:
        raise ValueError("bad")

    async def go() -> Any:
        name = await compute.run(where())
        with pytest.raises(ValueError, match="bad"):
            await compute.run(fails())
        return name

    assert asyncio.run(go()) == "channelflow-answers"


def test_cancelling_the_caller_cancels_the_work(compute: ComputeThread):
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def go() -> None:
        waiting = asyncio.create_task(compute.run(forever()))
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(go())
    assert cancelled.wait(5)


def test_kept_answers_are_served_while_the_compute_thread_is_stuck(compute: ComputeThread):
    stuck, computed_in = threading.Event(), []

    async def count(request: web.Request) -> web.Response:
        computed_in.append(threading.current_thread().name)
        if request.query.get("stuck"):
            stuck.wait(10)  # blocks the compute thread's loop, not the serving one
        return web.json_response({"n": len(computed_in)})

    async def go() -> Any:
        cache = AnswerCache(fresh=0.0, stale=60.0, runner=compute.run)
        app = web.Application(middlewares=[cache.middleware])
        app.router.add_get("/api/count", count)
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            first = await (await client.get("/api/count")).json()
            blocked = asyncio.create_task(client.get("/api/count?stuck=1"))
            await asyncio.sleep(0.05)
            # a kept answer (stale: computed again behind it, after the stuck one)
            kept = await asyncio.wait_for(client.get("/api/count"), 2)
            assert not blocked.done()
            stuck.set()
            response = await blocked
            return first, await kept.json(), await response.json()
        finally:
            await client.close()

    assert asyncio.run(go()) == ({"n": 1}, {"n": 1}, {"n": 2})
    assert set(computed_in) == {"channelflow-answers"}
