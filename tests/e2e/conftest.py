"""End-to-end fixtures: headless Chromium (Debian's chromium + chromium-driver) via Selenium,
and the embedded app served on a loopback port from a background event loop.

The Kafka fixtures of tests/integration are shared here for the dashboard-on-a-worker test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from streams.auth import TokenRegistry
from tests.integration.conftest import (  # noqa: F401  (fixtures used by the Kafka variant)
    kafka_bootstrap,
    settings,
    worker_factory,
)
from tests.live_app import LiveApp

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
