"""Shared steps of the integration tests: publish, compute the expected snapshot, compare."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from schemas.events import Envelope, InventoryCounted
from streams.config import Settings
from streams.embedded import EmbeddedChannel
from streams.generator import generate_channel
from streams.kafka_io import ensure_topics, publish_events


def publish(settings: Settings, events: Sequence[Envelope]) -> int:
    async def run() -> int:
        await ensure_topics(settings)
        return await publish_events(settings, events)

    return asyncio.run(run())


def order_independent_channel(seed: int = 11, weeks: int = 3) -> list[Envelope]:
    """A generated channel without counts: its snapshot does not depend on topic interleaving."""
    return [
        e for e in generate_channel(seed=seed, weeks=weeks) if not isinstance(e, InventoryCounted)
    ]


def expected_snapshot(events: Sequence[Envelope]) -> dict[str, Any]:
    channel = EmbeddedChannel()
    channel.feed_events(events)
    return channel.snapshot()


def comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The parts of a snapshot a live worker and a replay must agree on."""
    return {key: snapshot[key] for key in ("inventory", "quality", "dead_letters")}
