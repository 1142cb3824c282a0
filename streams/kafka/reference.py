"""Reference data (catalog, prices, programs and closes, exchange rates, special price
authorizations) replicated whole into every worker.

Every worker needs every SKU's product and price history, whichever partitions it owns.
Rather than a Faust GlobalTable (whose writer does not re-read changes made by other
workers unless it re-reads its own too, which can briefly roll a value back), each worker
reads the raw reference topics (`schemas.topics.REFERENCE_TOPICS`) - retained forever -
from the beginning, on all partitions, through the same pure reducers. The agent that
owns a partition applies and dead-letters its messages as usual; applying the same
position twice is a no-op.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from projections.channel import apply_message
from projections.positions import message_position
from projections.stores import ChannelStores
from schemas.topics import REFERENCE_TOPICS, topic_name
from streams.config import Settings

log = logging.getLogger("channelflow.reference")


class TopicMissing(Exception):
    """A reference topic does not exist (yet): the topics were never created."""


class ReferenceReplica:
    """`changed`, if given, is called after each batch of records applied, on the loop that
    runs the replica, before anything else runs there."""

    def __init__(
        self, settings: Settings, shared: ChannelStores, changed: Callable[[], None] | None = None
    ) -> None:
        self.settings = settings
        self.changed = changed
        # only the catalog and price stores are shared; rejections are the agent's to count
        self.stores = ChannelStores(
            products=shared.products,
            aliases=shared.aliases,
            prices=shared.prices,
            programs=shared.programs,
            closed_periods=shared.closed_periods,
            rates=shared.rates,
            authorizations=shared.authorizations,
            sku_authorizations=shared.sku_authorizations,
            reseller_authorizations=shared.reseller_authorizations,
            masters=shared.masters,
        )
        self.ready = asyncio.Event()
        self.rules = settings.time_rules()

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            partitions = [
                TopicPartition(name, p)
                for name in (topic_name(self.settings.topic_prefix, t) for t in REFERENCE_TOPICS)
                for p in consumer.partitions_for_topic(name)
                or await self._partitions(consumer, name)
            ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            end = await consumer.end_offsets(partitions)
            pending = {tp for tp, offset in end.items() if offset > 0}
            if not pending:
                self.ready.set()
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=5000)
                for tp, records in batches.items():
                    for record in records:
                        key = record.key.decode("utf-8", "replace") if record.key else None
                        position = message_position(f"{tp.topic}:{tp.partition}", record.offset)
                        try:
                            recorded = datetime.fromtimestamp(record.timestamp / 1000, UTC)
                            apply_message(
                                self.stores, record.value, key, position,
                                recorded_at=recorded, rules=self.rules,
                            )  # fmt: skip
                        except Exception:  # the owning agent dead-letters it as processing_error
                            log.exception("reference input failed at %s", position)
                    if tp in pending and records and records[-1].offset + 1 >= end[tp]:
                        pending.discard(tp)
                if batches and self.changed is not None:
                    self.changed()
                if pending == set() and not self.ready.is_set():
                    log.info("reference data loaded")
                    self.ready.set()
        finally:
            await consumer.stop()

    async def _partitions(self, consumer: AIOKafkaConsumer, topic: str) -> set[int]:
        for _ in range(50):
            await consumer._client.force_metadata_update()
            found = consumer.partitions_for_topic(topic)
            if found:
                return set(found)
            await asyncio.sleep(0.2)
        raise TopicMissing(f"topic {topic} has no partitions; run `channelflow topics`")
