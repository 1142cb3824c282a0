"""A client holding a connection open without finishing its request (slowloris: the
headers a byte at a time, or nothing at all) is cut off after CHANNELFLOW_KEEPALIVE_SECONDS,
over real TCP to the app as the worker serves it (`app_runner`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from streams.auth import TokenRegistry
from tests.live_app import LiveApp

#: far beyond the keep-alive limit set below, far below aiohttp's own (an hour)
PATIENCE = 60


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveApp]:
    monkeypatch.setenv("CHANNELFLOW_KEEPALIVE_SECONDS", "0.5")
    live = LiveApp(TokenRegistry([])).start()
    yield live
    live.stop()


async def closed_by_server(port: int, trickle: bool) -> bool:
    """Whether the server closes a connection whose request never ends: its headers
    begun, then nothing more (or one byte more every 0.1 s)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    await writer.drain()

    async def dribble() -> None:
        while trickle:
            await asyncio.sleep(0.1)
            writer.write(b"X")
            await writer.drain()

    dribbling = asyncio.create_task(dribble())
    try:
        async with asyncio.timeout(PATIENCE):
            return await reader.read() == b""  # EOF: closed without an answer
    except (TimeoutError, ConnectionError):
        return False
    finally:
        dribbling.cancel()
        writer.close()


@pytest.mark.parametrize("trickle", [False, True], ids=["silent", "a-byte-at-a-time"])
def test_a_request_that_never_ends_loses_its_connection(app, trickle):
    assert asyncio.run(closed_by_server(app.port, trickle))
