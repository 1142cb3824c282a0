"""Records written as a transactional Kafka producer writes them (a distributor's client with
a `transactional.id`): one transaction per step, one of them aborted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka import AIOKafkaProducer

T = TypeVar("T")


async def in_transactions(
    bootstrap: str,
    transactional_id: str,
    steps: int,
    aborted: int,
    send: Callable[[AIOKafkaProducer, int], Awaitable[T]],
) -> list[T]:
    """`send(producer, step)` for each step inside a transaction of its own, committed but
    the `aborted`th; returns what each step returned."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id)
    await producer.start()
    results = []
    try:
        for step in range(steps):
            await producer.begin_transaction()
            results.append(await send(producer, step))
            if step == aborted:
                await producer.abort_transaction()
            else:
                await producer.commit_transaction()
    finally:
        await producer.stop()
    return results
