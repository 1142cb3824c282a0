"""End-to-end fixtures: headless Chromium (Debian's chromium + chromium-driver) via Selenium,
and the embedded app served on a loopback port from a background event loop.

The Kafka fixtures of tests/integration are shared here for the dashboard-on-a-worker test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from schemas.events import Envelope
from streams.auth import TokenRegistry
from streams.embedded import EmbeddedChannel
from streams.web import ApiContext, make_web_app
from tests.integration.conftest import (  # noqa: F401  (fixtures used by the Kafka variant)
    free_port,
    kafka_bootstrap,
    settings,
    worker_factory,
)

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--window-size=1366,900",  # a laptop screen
)


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    if CHROMIUM is None or not CHROMEDRIVER.exists():
        pytest.skip(
            "headless Chromium is not installed (bash infra/test-tools.sh installs Debian's "
            "chromium and chromium-driver)"
        )
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


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
            runner = web.AppRunner(make_web_app(context))
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            return runner

        self._runner = asyncio.run_coroutine_threadsafe(up(), self._loop).result(30)
        return self

    def feed(self, events: Iterable[Envelope]) -> None:
        batch = list(events)
        self._call(lambda: self.channel.feed_events(batch))

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


@pytest.fixture
def live_app() -> Iterator[Callable[[TokenRegistry], LiveApp]]:
    started: list[LiveApp] = []

    def make(tokens: TokenRegistry) -> LiveApp:
        app = LiveApp(tokens).start()
        started.append(app)
        return app

    yield make
    for app in started:
        app.stop()
