"""The gateway straight to Kafka (the CLI without a server): publisher and catalog view."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Sequence

from projections.ingest_check import Catalog
from projections.stores import ChannelStores
from schemas.topics import topic_name
from streams import metrics
from streams.config import Settings
from streams.ingest.gateway import StoreView
from streams.ingest.messages import Message
from streams.kafka_io import start_producer
from streams.reference import ReferenceReplica


class KafkaPublisher:
    """Publishes messages to the raw topics with the idempotent producer, in order."""

    def __init__(self, settings: Settings) -> None:
        self._prefix = settings.topic_prefix
        self._producer = start_producer(settings)

    async def __aenter__(self) -> KafkaPublisher:
        await self._producer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._producer.stop()

    async def publish(self, messages: Sequence[Message]) -> None:
        sent = [
            await self._producer.send(topic_name(self._prefix, m.topic), m.value, key=m.key)
            for m in messages
        ]
        await asyncio.gather(*sent)
        produced = Counter((topic_name(self._prefix, m.topic), m.event_type) for m in messages)
        for (topic, event_type), count in produced.items():
            metrics.EVENTS_PRODUCED.labels(topic, event_type).inc(count)


async def catalog_view(settings: Settings, timeout: float = 60.0) -> StoreView:
    """The catalog as published on the products topic, for the precheck; nothing is seen
    (the idempotency store lives in the workers: their verdict decides duplicates)."""
    stores = ChannelStores()
    replica = ReferenceReplica(settings, stores)
    task = asyncio.create_task(replica.run())
    try:
        async with asyncio.timeout(timeout):
            await replica.ready.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return StoreView(Catalog(stores.products, stores.aliases), lambda _: None)
