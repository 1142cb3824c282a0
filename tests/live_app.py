"""The embedded runner and its web app served on 127.0.0.1 from a thread: for tests that
call it over real HTTP (a browser, the CLI)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from aiohttp import web

from schemas.events import Envelope
from streams.api.app import app_runner
from streams.api.context import ApiContext
from streams.auth import TokenRegistry, token_hash
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import Input
from tests.api_channel import populated_channel
from tests.integration.conftest import free_port


class LiveApp:
    """The embedded runner and its web app on 127.0.0.1, on an event loop in a thread.

    Events are fed on that loop, as in the demo: the handlers read the stores there.
    """

    def __init__(self, tokens: TokenRegistry) -> None:
        self.channel = EmbeddedChannel()
        self.port = free_port()
        self._tokens = tokens
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _call(self, function: Callable[[], Any]) -> Any:
        async def run() -> Any:
            return function()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(120)

    def start(self) -> LiveApp:
        self._thread.start()
        context = ApiContext.of_channel(self.channel, self._tokens, "embedded test")

        async def up() -> web.AppRunner:
            runner = app_runner(context)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            return runner

        self._runner = asyncio.run_coroutine_threadsafe(up(), self._loop).result(30)
        return self

    def feed(self, events: Iterable[Envelope]) -> None:
        batch = list(events)
        self._call(lambda: self.channel.feed_events(batch))

    def feed_raw(self, values: Iterable[bytes], source: str = "test") -> None:
        """Message values as a topic hands them over (what cannot be read is dead-lettered)."""
        inputs = [Input(value, None, source) for value in values]
        self._call(lambda: self.channel.feed(inputs))

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


def cli_tokens() -> TokenRegistry:
    """An admin token `adm` and D02's distributor token `d02`."""
    return TokenRegistry(
        [
            {"sha256": token_hash("adm"), "role": "admin", "actor": "adm"},
            {"sha256": token_hash("d02"), "role": "distributor", "actor": "d02",
             "distributor_id": "D02"},
        ]
    )  # fmt: skip


def served_fixture_channel() -> Iterator[LiveApp]:
    """The API fixture channel (tests/api_channel.py) served for CLI tests, with an admin
    token `adm` and D02's distributor token `d02`."""
    live = LiveApp(cli_tokens())
    live.channel = populated_channel()
    yield live.start()
    live.stop()
