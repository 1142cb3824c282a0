"""What /health says, and how the rest learns quickly that the event store is away.

A worker keeps answering while PostgreSQL or Kafka is away (its batches wait and retry,
ingest keeps publishing), so /health is where an operator sees which one is down: the
event store is watched by a probe of its own every few seconds, Kafka through the jobs
that use it, and every job that failed last time says why.

The event-store library retries a call for up to ten times its connection timeout before
it gives up, so a request that tried PostgreSQL while it is away would hang for most of a
minute. While the probe finds the store away, `check_store` fails at once instead: the
API answers 503 within its own request, and the agent waits for the store before it
tries its batch again.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg

#: how long a probe of the event store waits for an answer
PROBE_SECONDS = 2
#: how often the event store is probed
PROBE_EVERY_SECONDS = 2.0


class StoreAway(Exception):
    """The event store is known to be unreachable right now."""


@dataclass(frozen=True)
class Coverage:
    """Which state partitions a worker holds: its reads answer for these alone."""

    count: int
    active: frozenset[int]
    standby: frozenset[int]

    @property
    def missing(self) -> list[int]:
        return sorted(set(range(self.count)) - self.active - self.standby)

    def report(self) -> dict[str, Any]:
        missing = self.missing
        return {
            "count": self.count,
            "active": sorted(self.active),
            "standby": sorted(self.standby),
            "missing": missing,
            "reads": "whole channel"
            if not missing
            else "partial: the distributors of the missing partitions are left out "
            "(the PostgreSQL read models hold the whole channel)",
        }


class Health:
    def __init__(
        self,
        store_dsn: str | None,
        coverage: Callable[[], Coverage] | None = None,
        reference: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        #: the PostgreSQL event store to probe; None: nothing to probe (SQLite)
        self.store_dsn = store_dsn
        #: the state partitions held (a Kafka worker's); None: all of the channel
        self.coverage = coverage
        #: the reference replica's progress (a Kafka worker's); None: no replica
        self.reference = reference
        #: job -> why it failed last time (jobs that succeeded since are not listed)
        self.failing: dict[str, str] = {}
        #: why the last probe found the store away; None while it answers
        self.store_away: str | None = None
        self._probing = ThreadPoolExecutor(1, thread_name_prefix="store-probe")
        self._lock = threading.Lock()

    def reference_loading(self) -> bool:
        """Whether the reference replica is still reading what was published before the
        worker started (a master or SKU not found yet may only not be read yet)."""
        return self.reference is not None and not self.reference()["loaded"]

    def failed(self, job: str, exc: BaseException) -> None:
        self.failing[job] = f"{type(exc).__name__}: {exc}"[:500]

    def recovered(self, job: str) -> None:
        self.failing.pop(job, None)

    def check_store(self) -> None:
        """Raise `StoreAway` while the probe finds the event store unreachable."""
        away = self.store_away
        if away is not None:
            raise StoreAway(f"the event store (PostgreSQL) is not reachable: {away}")

    async def watch(self) -> None:
        """Probe the event store every few seconds, for as long as the process runs."""
        if self.store_dsn is None:
            return
        loop = asyncio.get_running_loop()
        while True:
            started = time.monotonic()
            self.store_away = await loop.run_in_executor(self._probing, self._probe)
            await asyncio.sleep(max(0.0, PROBE_EVERY_SECONDS - (time.monotonic() - started)))

    def _probe(self) -> str | None:
        assert self.store_dsn is not None
        try:
            with psycopg.connect(self.store_dsn, connect_timeout=PROBE_SECONDS) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return f"{type(exc).__name__}: {exc}".strip()[:300]
        return None

    async def report(self) -> dict[str, Any]:
        dependencies: dict[str, str] = {}
        if self.store_dsn is not None:
            away = self.store_away
            dependencies["event_store"] = "up" if away is None else f"down: {away}"
        if "kafka" in self.failing:
            dependencies["kafka"] = f"down: {self.failing['kafka']}"
        failing = dict(self.failing)
        partitions = {} if self.coverage is None else {"partitions": self.coverage().report()}
        reference = {} if self.reference is None else {"reference": self.reference()}
        stalled = reference.get("reference", {}).get("stalled")
        if stalled is not None:  # its worker applies nothing while batches wait for it
            failing["reference_replica"] = stalled
        degraded = bool(failing) or any(v != "up" for v in dependencies.values())
        return {
            "status": "degraded" if degraded else "ok",
            "dependencies": dependencies,
            "failing": dict(sorted(failing.items())),
            **partitions,
            **reference,
        }
