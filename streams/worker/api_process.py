"""`channelflow api`: the HTTP API in a process of its own, beside a worker.

It serves the same routes as the worker's own API (the dashboard, the reads, ingest, the
audit trail) from the worker's databases opened as secondary instances
(streams/worker/secondary.py), caught up every `CATCH_UP_SECONDS`; the reference data
(catalog, prices, programs, closes, rates) it replicates from the raw topics as a worker does.
Ingest publishes to the raw topics, as the worker's API does. The worker applies on one
core while this process answers on the other: a request no longer waits for a batch to
be applied or written (docs/OPERATIONS.md, "The API process").
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import time
from typing import Any

from aiohttp import web

from infra.eventstore import open_audit_log
from projections.stores import ChannelStores
from streams import metrics
from streams.api.answer_cache import AnswerCache
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.auth import TokenRegistry
from streams.config import Settings
from streams.health import Coverage, Health
from streams.ingest.deadletters import dead_letter_page
from streams.ingest.kafka import KafkaPublisher
from streams.kafka.reference import ReferenceReplica
from streams.runners.processing import GC_THRESHOLD
from streams.worker.app import SWITCH_SECONDS
from streams.worker.secondary import SecondaryState, state_directory

log = logging.getLogger("channelflow.api")

#: how often the databases catch up with the worker's writes: how stale a read may be
CATCH_UP_SECONDS = 0.2


class ApiProcess:
    """The secondary state, the reference replica and the event store's health, shared by
    the routes and the process's tasks."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state = SecondaryState(state_directory(settings), settings.partitions)
        self.reference = ChannelStores()
        self.replica = ReferenceReplica(settings, self.reference)
        self.audit_log = open_audit_log(settings.eventstore_url)
        self.health = Health(
            settings.eventstore_url if self.audit_log.is_postgres else None, self.coverage
        )

    def coverage(self) -> Coverage:
        """The partitions whose databases this process reads (the worker's beside it)."""
        return Coverage(self.settings.partitions, frozenset(self.state.dbs), frozenset())

    def stores(self) -> ChannelStores:
        return self.state.stores(self.reference)

    async def committed(self) -> ChannelStores:
        return self.state.stores(self.reference, copy_reference=True)

    def answers(self) -> AnswerCache | None:
        fresh, stale = self.settings.api_fresh_seconds, self.settings.api_stale_seconds
        return AnswerCache(fresh, stale) if fresh or stale else None

    async def follow(self) -> None:
        """Catch the databases up with the worker, a partition at a time (requests are
        answered in between), for as long as it runs."""
        loop = asyncio.get_running_loop()
        state = self.state
        while True:
            started = time.monotonic()
            try:
                await loop.run_in_executor(None, state.open_new)
                for partition in list(state.dbs):
                    await loop.run_in_executor(None, state.catch_up, partition)
                self.health.recovered("catch_up")
            except Exception as exc:  # a database being created or moved: next time
                self.health.failed("catch_up", exc)
                log.warning("catching up with the worker's databases failed: %r", exc)
            elapsed = time.monotonic() - started
            metrics.ROUND_SECONDS.labels("catch_up").observe(elapsed)
            await asyncio.sleep(max(0.0, CATCH_UP_SECONDS - elapsed))

    async def _ready(self, tasks: list[asyncio.Task[None]]) -> None:
        """Wait for the reference data; a task that fails first (a reference topic missing,
        Kafka refusing) ends the process with its error instead of a silent wait."""
        ready = asyncio.create_task(self.replica.ready.wait())
        waiting: set[asyncio.Task[Any]] = {ready, *tasks}
        while not ready.done():
            done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            for task in done - {ready}:
                if task.exception() is not None:
                    ready.cancel()
                    task.result()

    async def serve(self) -> None:
        """Start the tasks, wait for the reference data, then answer until cancelled."""
        sys.setswitchinterval(SWITCH_SECONDS)  # reads in threads: as in the worker
        gc.set_threshold(*GC_THRESHOLD)  # decoded values live long: collect less often
        settings = self.settings
        tasks = [
            asyncio.create_task(job())
            for job in (self.replica.run, self.health.watch, self.follow, metrics.watch_the_loop)
        ]
        try:
            async with KafkaPublisher(settings) as publisher:
                await self._ready(tasks)
                gc.freeze()  # the reference data: long-lived, not walked by each collection
                context = ApiContext(
                    self.stores,
                    "kafka",
                    self.audit_log,
                    TokenRegistry.from_env(),
                    publisher.publish,
                    lambda query: dead_letter_page(settings, query),
                    self.health,
                    self.committed,
                    answers=self.answers(),
                )
                runner = web.AppRunner(make_web_app(context))
                await runner.setup()
                await web.TCPSite(runner, settings.web_host, settings.api_port).start()
                log.info("HTTP API on http://%s:%s/", settings.web_host, settings.api_port)
                try:
                    await asyncio.gather(*tasks)
                finally:
                    await runner.cleanup()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.state.close()
