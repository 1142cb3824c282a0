"""The gateway straight to Kafka (the CLI without a server): publisher and catalog view."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Sequence
from typing import Any, cast

from projections.ingest_check import Catalog
from projections.stores import ChannelStores
from streams.config import Settings
from streams.ingest.gateway import StoreView
from streams.kafka.io import send_messages, start_producer, started
from streams.kafka.messages import Message
from streams.kafka.reference import ReferenceReplica


class KafkaPublisher:
    """Publishes messages to the raw topics with the idempotent producer, in order.

    Each call waits for the broker's acknowledgements of all it sent, so the producer does
    not linger: a batch goes as soon as it is queued (with the default 20 ms, every call of
    the gateway's publishing waited that long for its last batch: half its time)."""

    def __init__(self, settings: Settings) -> None:
        self._prefix = settings.topic_prefix
        self._producer = start_producer(settings, linger_ms=0)

    async def __aenter__(self) -> KafkaPublisher:
        await started(self._producer)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._producer.stop()

    async def publish(self, messages: Sequence[Message]) -> None:
        await send_messages(self._send, self._prefix, messages)

    async def _send(self, topic: str, key: bytes, value: bytes) -> Awaitable[Any]:
        return cast(Awaitable[Any], await self._producer.send(topic, value, key=key))


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
