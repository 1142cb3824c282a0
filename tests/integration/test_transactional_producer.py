"""Sales written to the raw topics by a distributor's transactional Kafka producer
(docs/INGEST.md, "Transactional producers"): each transaction leaves a commit or abort
marker that takes an offset no consumer is handed, and an aborted transaction's records are
never applied. The worker applies every committed sale once, none of the aborted one, agrees
with the auditor's replay, and the markers neither rewind its partitions nor keep them
behind their end."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from schemas.events import Envelope, InventoryCounted, SaleReported
from streams.config import Settings
from streams.generator import generate_channel
from streams.kafka.io import send_messages
from streams.kafka.messages import message_of
from tests.integration.conftest import wait_until
from tests.integration.helpers import (
    catalog,
    expected_snapshot,
    is_reference,
    matches_replay,
    metric_sum,
    numbered_sales,
    publish,
    publish_reference_first,
    weeks_ago,
)
from tests.transactions import in_transactions

pytestmark = pytest.mark.kafka

#: sales per transaction, and the transaction that is aborted
PER_TRANSACTION = 30
ABORTED = 2


async def send_in_transactions(
    settings: Settings, transactions: Sequence[Sequence[Envelope]]
) -> None:
    """Each group of sales in a transaction of its own, a message per sale; the `ABORTED`th
    one aborted."""

    async def send(producer: AIOKafkaProducer, number: int) -> None:
        await send_each(producer, settings, transactions[number])

    transactional_id = f"{settings.app_id}-txn"
    await in_transactions(
        settings.kafka_bootstrap, transactional_id, len(transactions), ABORTED, send
    )


async def send_each(
    producer: AIOKafkaProducer, settings: Settings, events: Sequence[Envelope]
) -> None:
    """The events through a transactional producer, a message each, acknowledged."""

    async def one(topic: str, key: bytes, value: bytes) -> Any:
        return await producer.send(topic, value, key=key)

    await send_messages(one, settings.topic_prefix, [message_of(e) for e in events], 1)


def sell_through(snapshot: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(r["distributor_id"], r["sku"]): r["sell_through"] for r in snapshot["inventory"]}


def test_committed_sales_are_applied_once_and_aborted_ones_never(settings, worker_factory):
    events = generate_channel(seed=3, weeks=1)
    reference = [e for e in events if is_reference(e)]
    sales = sorted((e for e in events if isinstance(e, SaleReported)), key=lambda e: e.occurred_at)
    transactions = [sales[i : i + PER_TRANSACTION] for i in range(0, len(sales), PER_TRANSACTION)]
    assert len(transactions) > ABORTED + 2, "fixture needs transactions after the aborted one"
    committed = [e for n, group in enumerate(transactions) if n != ABORTED for e in group]

    worker = worker_factory().start()
    publish_reference_first(settings, worker, reference)
    asyncio.run(send_in_transactions(settings, transactions))

    live = matches_replay(settings, worker)
    assert sell_through(live) == sell_through(expected_snapshot([*reference, *committed]))
    # every partition read to its end, the trailing markers included
    wait_until(
        lambda: metric_sum(worker, "channelflow_consumer_lag_messages") == 0,
        60,
        "the consumer lag to drain",
    )
    assert metric_sum(worker, "channelflow_input_rewinds_total") == 0, worker.log_tail()
    assert metric_sum(worker, "channelflow_order_waits_expired_total") == 0, worker.log_tail()


def test_a_count_waits_for_sales_of_an_open_transaction_appended_before_it(
    settings, worker_factory
):
    """Sales sent inside a transaction, then a count of the same distributor and SKU sent
    outside it: the broker stamps the sales first, but a consumer reading committed records
    sees them only once the transaction commits. The sales' partition looks caught up
    meanwhile (its last stable offset is reached), and a worker that took its last fetch for
    a horizon applied the count first, making the sales late after it. The replay merges
    by broker time: sales, then the count. The worker waits for the open transaction."""
    at = datetime.combine(weeks_ago(2), time(9), tzinfo=UTC)
    sales = numbered_sales(0, 5, sku="SKU-TX", distributors=1, at=at)
    count = InventoryCounted(
        event_id=uuid.uuid4(),
        occurred_at=at,
        source="kafka",
        distributor_id="D0",
        sku="SKU-TX",
        on_hand=0,
        counted_at=at + timedelta(hours=1),
    )
    worker = worker_factory().start()
    publish_reference_first(settings, worker, catalog("SKU-TX"))

    async def scenario() -> None:
        async def send(producer: AIOKafkaProducer, _: int) -> None:
            await send_each(producer, settings, sales)
            await asyncio.to_thread(publish, settings, [count])
            # the worker has the count: applied, or held for the open transaction
            await asyncio.to_thread(
                wait_until,
                lambda: counts_seen(worker) > 0,
                60,
                "the worker to take the count",
            )

        await in_transactions(settings.kafka_bootstrap, f"{settings.app_id}-open", 1, -1, send)

    asyncio.run(scenario())
    live = matches_replay(settings, worker)
    assert not any(row["late_after_count"] for row in live["inventory"]), live["inventory"]


def counts_seen(worker: Any) -> float:
    """Counts the worker applied, or holds for their order."""
    applied = metric_sum(worker, "channelflow_events_consumed_total", event_type="InventoryCounted")
    return applied + metric_sum(worker, "channelflow_order_held_events")
