"""A long-running command waits for Kafka and PostgreSQL as it starts.

`channelflow worker`, `channelflow api` and `channelflow decisions relay` (not `--once`)
started while a server cannot be reached try again, waiting 1, 2, 4, ... up to
`LONGEST_WAIT` seconds between tries, with one log line a
try (which server, its address, what failed, the next try), and give up once
`CHANNELFLOW_START_WAIT_SECONDS` (`--start-wait`) have passed since the start: the last
failure is then the command's one-line error, exit status 3. 0 gives up at the first
failure. One-shot commands (ingest, publish, replay, verify) do not wait: their caller sees
the failure at once.

PostgreSQL is waited for around the calls that open it (`StartWait.postgres`). Kafka clients
are started in many places (the topics' admin client, faust's producer and consumer, the
reference replica, the API process's publisher), some inside faust's own start, so while
the command starts every aiokafka client's bootstrap waits (`StartWait.kafka_clients`):
when the broker goes away during faust's start, its start waits too, instead of ending in
a traceback. Once the command serves (`StartWait.done`), a bootstrap that fails raises at
once, as before.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, TypeVar

import psycopg
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError

from streams.kafka.bootstrap_log import bootstrap_lines_held, kafka_reason

T = TypeVar("T")

log = logging.getLogger("channelflow.start")

#: the first wait between two tries, doubled after each failure up to `LONGEST_WAIT`
FIRST_WAIT: Final = 1.0
LONGEST_WAIT: Final = 30.0


def next_wait(tries: int, waited: float, bound: float) -> float | None:
    """Seconds to wait before the next try, after `tries` failed tries and `waited` seconds
    since the start; None: give up (the bound has passed). The last wait is cut short so the
    last try is made at the bound."""
    left = bound - waited
    if left <= 0:
        return None
    return min(FIRST_WAIT * 2 ** (tries - 1), LONGEST_WAIT, left)


#: what a PostgreSQL server that answered says of a setting no wait mends (libpq gives
#: these no SQLSTATE): a wrong password or user, a database that does not exist, a host
#: the server does not let in
_REFUSED_FOR_GOOD: Final = (
    "authentication failed",
    "does not exist",
    "no pg_hba.conf entry",
)


def refused_for_good(exc: psycopg.OperationalError) -> bool:
    """Whether the server answered and refused the settings themselves: reported at once,
    not waited out (a server starting up, full or away is waited for)."""
    text = str(exc)
    return any(reason in text for reason in _REFUSED_FOR_GOOD)


def postgres_address(url: str) -> str:
    """host:port/database of a PostgreSQL URL, without its credentials."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


def _reason(exc: Exception) -> str:
    """The first line of what failed."""
    text = kafka_reason(exc) if isinstance(exc, KafkaConnectionError) else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


class StartWait:
    """How long the command still waits for its servers: `seconds` from its creation."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self.began = clock()
        #: the failure the wait gave up on: the command's error (faust reports it as a crash)
        self.gave_up: BaseException | None = None
        self._starting = threading.Event()
        self._starting.set()
        #: the last try logged: clients waiting side by side (a producer and a consumer)
        #: fail their tries together, and one line says it for all of them
        self._said: tuple[str, str, int, bool] | None = None

    def done(self) -> None:
        """The command serves: a server that fails from now on fails at once."""
        self._starting.clear()

    def retry_in(
        self,
        server: str,
        address: str,
        setting: str,
        exc: Exception,
        tries: int,
        final: bool = False,
    ) -> float:
        """The wait before the next try, logged; raises `exc` when the wait is over, or at
        once when the failure is `final` (no wait mends it)."""
        if not self._starting.is_set():  # serving: as if there were no wait
            raise exc
        delay = None if final else next_wait(tries, self.clock() - self.began, self.seconds)
        said, self._said = self._said, (server, address, tries, delay is None)
        if delay is None:
            if tries > 1 and said != self._said:
                log.error("gave up waiting for %s at %s after %d tries", server, address, tries)
            self.gave_up = exc
            raise exc
        if said != self._said:
            log.warning(
                "waiting for %s at %s (%s): %s; next try in %g s, giving up %g s after the "
                "start (CHANNELFLOW_START_WAIT_SECONDS)",
                server, address, setting, _reason(exc), round(delay, 1), self.seconds,
            )  # fmt: skip
        return delay

    def postgres(self, url: str, attempt: Callable[[], T]) -> T:
        """`attempt()` (which opens PostgreSQL at `url`), tried again while it cannot be
        reached."""
        tries = 0
        while True:
            try:
                return attempt()
            except psycopg.OperationalError as exc:
                tries += 1
                address = postgres_address(url)
                setting = "CHANNELFLOW_EVENTSTORE_URL"
                final = refused_for_good(exc)
                time.sleep(self.retry_in("PostgreSQL", address, setting, exc, tries, final))

    async def bootstrapped(
        self, client: AIOKafkaClient, bootstrap: Callable[[], Awaitable[Any]]
    ) -> None:
        """aiokafka's `bootstrap`, tried again while no bootstrap server answers."""
        tries = 0
        while True:
            try:
                with bootstrap_lines_held():
                    await bootstrap()
                return
            except KafkaConnectionError as exc:
                tries += 1
                address = ",".join(f"{host}:{port}" for host, port, _ in client.hosts)
                setting = "CHANNELFLOW_KAFKA_BOOTSTRAP"
                await asyncio.sleep(self.retry_in("Kafka", address, setting, exc, tries))

    @contextmanager
    def kafka_clients(self) -> Iterator[None]:
        """Every aiokafka client started in the block waits for its broker as it starts."""
        original = AIOKafkaClient.bootstrap
        wait = self

        async def bootstrap(client: AIOKafkaClient) -> None:
            await wait.bootstrapped(client, lambda: original(client))

        AIOKafkaClient.bootstrap = bootstrap
        try:
            yield
        finally:
            AIOKafkaClient.bootstrap = original


class GaveUpLines(logging.Filter):
    """Drops a log line carrying the failure `wait` gave up on (faust logs its crash with a
    traceback): the command reports it as its one-line error."""

    def __init__(self, wait: StartWait) -> None:
        super().__init__()
        self.wait = wait

    def filter(self, record: logging.LogRecord) -> bool:
        gave_up = self.wait.gave_up
        return gave_up is None or not record.exc_info or record.exc_info[1] is not gave_up
