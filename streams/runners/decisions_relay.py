"""The decisions relay: the audit store's events, in order, as decision documents on
`<prefix>.decisions` (a transactional outbox over the event store's notification log).

A page of stored events is read and mapped in a thread (infra/decision_log.py), published
keyed by distributor with the idempotent producer (acks=all), and only once the broker has
acknowledged every message is the page's last position stored, on the connection that holds
the relay's advisory lock. A crash between the two publishes the same documents again, with
the same ids: delivery is at-least-once, consumers dedupe on `decision_id`
(docs/DECISIONS.md). Only the lock's holder publishes; any other relay of the same
deployment waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from aiokafka import AIOKafkaProducer

from infra.decision_log import PAGE, DecisionPage, DecisionSource, RelayLease
from infra.eventstore import AuditLog
from schemas.decisions import DECISIONS_TOPIC
from schemas.topics import topic_name
from streams import metrics
from streams.config import Settings
from streams.health import Health
from streams.kafka.io import start_producer, started

log = logging.getLogger("channelflow.decisions")

#: longest wait between attempts after a failure (PostgreSQL or Kafka away)
MAX_BACKOFF_SECONDS: Final = 30.0


class LeaseTaken(Exception):
    """Another relay of this deployment holds the lock (`--once` does not wait)."""


@dataclass(frozen=True, slots=True)
class Progress:
    """One published page: how many documents, the position stored, the events left."""

    published: int
    position: int
    lag: int


class DecisionRelay:
    """Publishes the decisions of one deployment (its topic prefix and audit store)."""

    def __init__(
        self,
        settings: Settings,
        audit: AuditLog,
        on_page: Callable[[Progress], None] | None = None,
        health: Health | None = None,
    ) -> None:
        self.settings = settings
        self.topic = topic_name(settings.topic_prefix, DECISIONS_TOPIC)
        self.source = DecisionSource(audit)
        self.lease = RelayLease(settings.eventstore_url, self.topic)
        self.on_page = on_page
        self.health = health  # a worker's: a failing relay shows in /health
        self.position = 0
        self._producer: AIOKafkaProducer | None = None
        #: the page after the one being published, read meanwhile
        self._prefetch: asyncio.Future[DecisionPage] | None = None

    async def run(self, once: bool = False) -> None:
        """Publish for as long as the process runs, waiting out failures (`once`: until
        caught up, then return; a failure raises, LeaseTaken when another relay holds the
        lock)."""
        delay = self.settings.decisions_interval_seconds
        try:
            while True:
                try:
                    published = await self.step(once)
                    delay = self.settings.decisions_interval_seconds
                    if self.health is not None:
                        self.health.recovered("decisions")
                except Exception as exc:  # PostgreSQL or Kafka away: start again from the store
                    if once or isinstance(exc, LeaseTaken):
                        raise
                    log.warning("decisions not published, retrying in %.0f s: %r", delay, exc)
                    if self.health is not None:
                        self.health.failed("decisions", exc)
                    await self._drop_prefetch()
                    await asyncio.to_thread(self.lease.release)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_BACKOFF_SECONDS)
                    continue
                if published is None and once:
                    return
                if published is None:
                    await asyncio.sleep(self.settings.decisions_interval_seconds)
        finally:
            await self.close()

    async def step(self, once: bool = False) -> int | None:
        """Publish the next page; how many documents (None: caught up, or waiting for the
        lock). The page after it is read while this one is published."""
        if not await asyncio.to_thread(self._acquire):
            if once:
                raise LeaseTaken(f"another relay publishes {self.topic} (its lock is held)")
            return None
        page = await self._next_page()
        metrics.DECISIONS_LAG.set(page.end - page.last)
        if page.last == self.position:
            return None
        self._prefetch = asyncio.ensure_future(asyncio.to_thread(self.source.page, page.last, PAGE))
        await self._publish(page)
        await asyncio.to_thread(self.lease.store, page.last)
        self.position = page.last
        metrics.DECISIONS_LAG.set(page.end - page.last)
        if self.on_page is not None:
            self.on_page(Progress(len(page.documents), page.last, page.end - page.last))
        return len(page.documents)

    async def _next_page(self) -> DecisionPage:
        """The page after the stored position: the one read ahead if it starts there."""
        ahead, self._prefetch = self._prefetch, None
        if ahead is not None:
            page = await ahead
            if page.after == self.position:
                return page
        return await asyncio.to_thread(self.source.page, self.position, PAGE)

    async def _drop_prefetch(self) -> None:
        """Forget the page read ahead, once its thread is done (the source is not shared)."""
        ahead, self._prefetch = self._prefetch, None
        if ahead is not None:
            await asyncio.gather(ahead, return_exceptions=True)

    def _acquire(self) -> bool:
        """Hold the lease; on taking it, continue from the stored position."""
        if self.lease.held:
            return True
        if not self.lease.acquire():
            return False
        self.position = self.lease.position()
        log.info("publishing decisions to %s from position %s", self.topic, self.position)
        return True

    async def _publish(self, page: DecisionPage) -> None:
        """Send the page's documents in order and wait until the broker has them all."""
        producer = await self._started()
        deliveries = []
        counts: Counter[str] = Counter()
        for document in page.documents:
            kind = document.decision_type
            deliveries.append(
                await producer.send(
                    self.topic,
                    document.model_dump_json().encode(),
                    key=document.distributor_id.encode(),
                    headers=[
                        ("decision_id", str(document.decision_id).encode()),
                        ("decision_type", kind.encode()),
                    ],
                )
            )
            counts[kind] += 1
        for delivery in deliveries:
            await delivery
        for kind, n in counts.items():
            metrics.DECISIONS_PUBLISHED.labels(kind).inc(n)

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            self._producer = await started(start_producer(self.settings))
        return self._producer

    async def close(self) -> None:
        await self._drop_prefetch()
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()
        await asyncio.to_thread(self.lease.release)


def decision_relay(settings: Settings, audit: AuditLog, health: Health) -> DecisionRelay | None:
    """The relay a worker runs: on a PostgreSQL event store, unless turned off."""
    if not settings.decisions_relay or not audit.is_postgres:
        return None
    return DecisionRelay(settings, audit, health=health)
