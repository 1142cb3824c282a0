"""Answers shared between requests (streams/api/answer_cache.py), over a small aiohttp app
whose handler counts its computations; the cache's clock is the test's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from streams.api import answer_cache
from streams.api.answer_cache import AnswerCache

RELEASE = web.AppKey("release", asyncio.Event)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(answer_cache, "time", SimpleNamespace(monotonic=clock.monotonic))
    return clock


def served(cache: AnswerCache, scenario: Callable[[TestClient, list[str]], Awaitable[Any]]) -> Any:
    """Run `scenario` against an app whose answers count the computations (`calls`)."""
    calls: list[str] = []
    release = asyncio.Event()

    async def count(request: web.Request) -> web.Response:
        calls.append(request.path_qs)
        if request.query.get("slow"):
            await release.wait()
        if request.query.get("fail"):
            raise web.HTTPBadRequest(text="bad query")
        return web.json_response({"n": len(calls)}, headers={"X-Kept": "yes"})

    async def post(request: web.Request) -> web.Response:
        calls.append("post")
        return web.json_response({"n": len(calls)})

    async def go() -> Any:
        app = web.Application(middlewares=[cache.middleware])
        app.router.add_get("/api/count", count)
        app.router.add_get("/health", count)
        app.router.add_post("/api/count", post)
        app[RELEASE] = release
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            return await scenario(client, calls)
        finally:
            await client.close()

    return asyncio.run(go())


async def n(client: TestClient, path: str = "/api/count", token: str = "a") -> int:
    response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    return int((await response.json())["n"])


def test_a_fresh_answer_is_served_as_it_is_with_its_age(clock: Clock):
    async def scenario(client: TestClient, calls: list[str]) -> Any:
        assert await n(client) == 1
        clock.now += 0.9
        response = await client.get("/api/count", headers={"Authorization": "Bearer a"})
        assert (await response.json())["n"] == 1
        assert response.headers["Age"] == "0" and response.headers["X-Kept"] == "yes"
        return calls

    assert served(AnswerCache(fresh=1.0, stale=5.0), scenario) == ["/api/count"]


def test_a_stale_answer_is_served_at_once_and_a_new_one_computed_behind_it(clock: Clock):
    async def scenario(client: TestClient, calls: list[str]) -> Any:
        assert await n(client) == 1
        clock.now += 3
        assert await n(client) == 1  # the stale one, at once
        await asyncio.sleep(0.05)  # the new one, computed meanwhile
        assert await n(client) == 2
        clock.now += 6  # past stale: the request waits for a new one
        assert await n(client) == 3
        return len(calls)

    assert served(AnswerCache(fresh=1.0, stale=5.0), scenario) == 3


def test_callers_asking_at_once_share_one_computation(clock: Clock):
    async def scenario(client: TestClient, calls: list[str]) -> Any:
        asked = [asyncio.create_task(n(client, "/api/count?slow=1")) for _ in range(5)]
        await asyncio.sleep(0.05)
        client.app[RELEASE].set()
        return await asyncio.gather(*asked), len(calls)

    answers, computations = served(AnswerCache(fresh=1.0, stale=5.0), scenario)
    assert answers == [1] * 5 and computations == 1


def test_another_token_query_method_or_path_is_another_question(clock: Clock):
    async def scenario(client: TestClient, calls: list[str]) -> Any:
        await n(client, token="a")
        await n(client, token="b")
        await n(client, "/api/count?page=2")
        await n(client, "/health")
        await n(client, "/health")
        await client.post("/api/count")
        await client.post("/api/count")
        return calls

    assert served(AnswerCache(fresh=1.0, stale=5.0), scenario) == [
        "/api/count",
        "/api/count",
        "/api/count?page=2",
        "/health",
        "/health",
        "post",
        "post",
    ]


def test_a_change_made_through_the_api_is_read_back_anew(clock: Clock):
    async def scenario(client: TestClient, calls: list[str]) -> Any:
        assert await n(client) == 1
        assert await n(client) == 1  # kept
        await client.post("/api/count")  # a change (n = 2)
        return await n(client)

    assert served(AnswerCache(fresh=1.0, stale=5.0), scenario) == 3


def test_errors_are_not_kept_and_the_entries_are_bounded(clock: Clock):
    async def scenario(client: TestClient, calls: list[str]) -> Any:
        for _ in range(2):
            response = await client.get("/api/count?fail=1")
            assert response.status == 400 and await response.text() == "bad query"
        for page in (1, 2, 3, 1):
            await n(client, f"/api/count?page={page}")
        return calls

    calls = served(AnswerCache(fresh=1.0, stale=5.0, entries=2), scenario)
    # an error is the caller's own, every time; page 1 was pushed out by pages 2 and 3
    assert calls.count("/api/count?fail=1") == 2
    assert [c for c in calls if "page" in c] == [
        "/api/count?page=1",
        "/api/count?page=2",
        "/api/count?page=3",
        "/api/count?page=1",
    ]


def test_bodies_count_against_a_byte_bound_and_large_ones_are_never_kept(clock: Clock):
    async def scenario(client: TestClient, calls: list[str]) -> Any:
        for page in (*range(9), 0):
            await n(client, f"/api/count?page={page}")
        return len(calls)

    body = len(b'{"n": 1}')  # every answer's size here (n stays below 10)
    # room for 8 bodies: the ninth pushes the first out, which is computed again
    assert served(AnswerCache(fresh=1.0, stale=5.0, max_bytes=8 * body), scenario) == 10
    assert served(AnswerCache(fresh=1.0, stale=5.0, max_bytes=9 * body), scenario) == 9
    # a body over an eighth of the bound: never kept
    assert served(AnswerCache(fresh=1.0, stale=5.0, max_bytes=8 * body - 1), scenario) == 10
