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
from collections.abc import Callable
from typing import Any, cast

from aiohttp import web

from infra.eventstore import AuditLog, open_audit_log
from projections.stores import ChannelStores
from streams import metrics
from streams.api.answer_cache import AnswerCache, Runner
from streams.api.app import app_runner
from streams.api.compute_thread import ComputeThread
from streams.api.context import ApiContext
from streams.auth import TokenRegistry
from streams.config import Settings
from streams.health import Coverage, Health
from streams.ingest.deadletters import dead_letter_page
from streams.ingest.kafka import KafkaPublisher
from streams.kafka.reference import ReferenceReplica
from streams.memory import keep_long_lived
from streams.runners.processing import GC_THRESHOLD
from streams.worker import upkeep
from streams.worker.app import SWITCH_SECONDS
from streams.worker.secondary import SecondaryState, state_directories
from streams.worker.stores import REFERENCE_STORES, copied

log = logging.getLogger("channelflow.api")

#: how often each database catches up with the worker's writes: how stale a read may be.
#: A catch-up costs a few milliseconds however little was written and holds the GIL
#: (rocksdict 0.3) meanwhile, so it is done seldom and spread: one partition at a time,
#: the partitions evenly over the interval (bench/README.md, "The API process")
CATCH_UP_SECONDS = 1.0


class ApiProcess:
    """The secondary state, the reference replica and the event store's health, shared by
    the routes and the process's tasks."""

    def __init__(
        self,
        settings: Settings,
        audit: AuditLog | None = None,
        started: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.state = SecondaryState(state_directories(settings), settings.partitions)
        self.reference = ChannelStores()
        self.replica = ReferenceReplica(settings, self.reference, changed=self._freeze)
        self._freeze()
        self.audit_log = audit or open_audit_log(settings.eventstore_url)
        #: called once it answers: its Kafka clients are connected (streams/worker/start_wait.py)
        self.started = started
        self.health = Health(
            settings.eventstore_url if self.audit_log.is_postgres else None, self.coverage
        )
        #: catch-up rounds done: the projection gauges are set again after new ones
        self.rounds = 0

    def coverage(self) -> Coverage:
        """The partitions whose databases this process reads (the worker's beside it)."""
        return Coverage(self.settings.partitions, frozenset(self.state.dbs), frozenset())

    def _freeze(self) -> None:
        """Copies of the reference data, taken on the replica's loop as soon as it changed,
        for the reads in threads: the replica never changes them (the reads made on its
        loop see them equal to its own)."""
        frozen = {name: copied(getattr(self.reference, name)) for name in REFERENCE_STORES}
        self.frozen = ChannelStores(**cast(Any, frozen))

    def stores(self) -> ChannelStores:
        return self.state.stores(self.frozen)

    async def committed(self) -> ChannelStores:
        return self.stores()

    def answers(self, runner: Runner) -> AnswerCache | None:
        fresh, stale = self.settings.api_fresh_seconds, self.settings.api_stale_seconds
        return AnswerCache(fresh, stale, runner=runner) if fresh or stale else None

    async def follow(self) -> None:
        """Catch the databases up with the worker, one partition at a time with requests
        answered in between, every `CATCH_UP_SECONDS`, for as long as it runs."""
        loop = asyncio.get_running_loop()
        for directory in self.state.absent():  # a typo answers every page empty, "ok"
            log.warning(
                "no worker state at %s yet: a worker with this data directory and "
                "CHANNELFLOW_APP_ID=%s writes it; until then none of its partitions is answered "
                "(check --worker-data-dir / CHANNELFLOW_API_DATA_DIRS and CHANNELFLOW_APP_ID)",
                directory, self.settings.app_id,
            )  # fmt: skip
        while True:
            started, busy = time.monotonic(), 0.0
            try:
                await loop.run_in_executor(None, self.state.open_new)
                partitions = list(self.state.dbs)
                for n, partition in enumerate(partitions, 1):
                    began = time.monotonic()
                    await loop.run_in_executor(None, self.state.catch_up, partition)
                    busy += time.monotonic() - began
                    spread = started + CATCH_UP_SECONDS * n / len(partitions)
                    await asyncio.sleep(max(0.0, spread - time.monotonic()))
                self.health.recovered("catch_up")
            except Exception as exc:  # a database being created or moved: next time
                self.health.failed("catch_up", exc)
                log.warning("catching up with the worker's databases failed: %r", exc)
            self.rounds += 1
            metrics.ROUND_SECONDS.labels("catch_up").observe(busy)
            await asyncio.sleep(max(0.0, started + CATCH_UP_SECONDS - time.monotonic()))

    async def keep_gauges(self) -> None:
        """The gauges that read the projections, set in a thread as the worker sets its own
        (streams/worker/upkeep.py), so a scrape of /metrics computes nothing."""
        await self.replica.ready.wait()
        await upkeep.keep_gauges(lambda: self.rounds, lambda: True, self.committed)

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

    def context(self, publisher: KafkaPublisher, runner: Runner) -> ApiContext:
        """What the routes share; the answers kept are computed by `runner`."""
        settings = self.settings
        return ApiContext(
            self.stores,
            "kafka",
            self.audit_log,
            TokenRegistry.from_env(),
            publisher.publish,
            lambda query: dead_letter_page(settings, query),
            self.health,
            self.committed,
            gauges_at_scrape=False,  # self.keep_gauges keeps them
            answers=self.answers(runner),
        )

    async def serve(self) -> None:
        """Start the tasks, wait for the reference data, then answer until cancelled."""
        sys.setswitchinterval(SWITCH_SECONDS)  # reads in threads: as in the worker
        gc.set_threshold(*GC_THRESHOLD)  # decoded values live long: collect less often
        settings = self.settings
        jobs = (self.replica.run, self.health.watch, self.follow, self.keep_gauges)
        tasks = [asyncio.create_task(job()) for job in (*jobs, metrics.watch_the_loop)]
        compute = ComputeThread().start()
        try:
            async with KafkaPublisher(settings) as publisher:
                await self._ready(tasks)
                keep_long_lived()  # the reference data: not walked by each collection
                runner = app_runner(self.context(publisher, compute.run))
                await runner.setup()
                await web.TCPSite(runner, settings.web_host, settings.api_port).start()
                log.info("HTTP API on http://%s:%s/", settings.web_host, settings.api_port)
                self.started()
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
            compute.stop()
            self.state.close()
