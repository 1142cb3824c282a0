"""The reference replica gives the event loop a turn while it applies a burst of reference
records, and its watermark still counts only records applied (docs/DESIGN.md, "Reference
data in every worker"); a record it fails on leaves nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition

import projections.channel
from projections.stores import ChannelStores
from schemas.codec import encode_event
from streams.config import Settings
from streams.kafka.reference import SLICE_RECORDS, ReferenceReplica
from tests.unit.catalog import DEFINED_AT, product

PRODUCTS = TopicPartition("t.products", 0)
#: a burst of reference data: a catalog of this many SKUs
BURST = 20_000


def burst() -> list[ConsumerRecord[bytes, bytes]]:
    stamp = int(DEFINED_AT.timestamp() * 1000)
    records = []
    for offset in range(BURST):
        value = encode_event(product(f"SKU-{offset}"))
        key = f"SKU-{offset}".encode()
        records.append(
            ConsumerRecord(
                PRODUCTS.topic, 0, offset, stamp, 1, key, value, None, len(key), len(value), []
            )
        )
    return records


def replica() -> ReferenceReplica:
    return ReferenceReplica(Settings(kafka_bootstrap="127.0.0.1:1"), ChannelStores())


def skus(of: ReferenceReplica) -> int:
    return sum(1 for _ in of.stores.products.values())


def test_the_loop_gets_a_turn_every_slice_while_a_burst_is_applied() -> None:
    async def go() -> tuple[int, int]:
        applying = replica()
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0)  # the ticker runs once
        before = ticks
        await applying.apply({PRODUCTS: burst()})
        during = ticks - before
        ticker.cancel()
        return during, skus(applying)

    during, applied = asyncio.run(go())
    assert applied == BURST
    assert during >= BURST // SLICE_RECORDS - 1


class HandedOver:
    """A consumer that hands every record over at its first read, its position moving to
    their end at once (as aiokafka's does), then waits for more for ever."""

    def __init__(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        self.records = records
        self.next = 0

    async def getmany(self, **_: Any) -> dict[TopicPartition, list[Any]]:
        if not self.records:
            await asyncio.Event().wait()
        records, self.records = self.records, []
        self.next = records[-1].offset + 1
        return {PRODUCTS: records}

    async def position(self, _: TopicPartition) -> int:
        return self.next


def test_the_watermark_counts_only_records_applied_while_the_loop_has_turns() -> None:
    """A batch received before the burst was appended waits until the replica applied all of
    it, however often the end-offsets task looks meanwhile."""

    async def go() -> tuple[list[tuple[bool, int]], int]:
        reading = replica()
        consumer = HandedOver(burst())
        moment = reading.moment()
        reading.sync.want(moment)
        reading.sync.answered(reading.sync.issue(), {PRODUCTS: BURST})  # the burst's end
        looks = []  # (the batch may go on, SKUs applied) at every turn the loop gave
        reader = asyncio.create_task(reading._read(consumer, [PRODUCTS]))
        async with asyncio.timeout(120):  # a bug, not a measure
            while not reading.sync.satisfied(moment):
                await reading._look(consumer, [PRODUCTS])
                looks.append((reading.sync.satisfied(moment), skus(reading)))
                await asyncio.sleep(0)
        reader.cancel()
        return looks, skus(reading)

    looks, applied = asyncio.run(go())
    assert applied == BURST
    assert len(looks) >= BURST // SLICE_RECORDS - 1  # the loop had turns during the burst
    assert all(n == BURST for released, n in looks if released)
    assert any(n < BURST for _, n in looks)  # looks were made in the middle of the burst


def test_a_record_whose_handler_fails_half_way_leaves_nothing_in_the_shared_stores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug after a product was stored, at its identifiers: neither the product nor its
    aliases stay (the owning agent dead-letters it), and the next record applies."""
    stamp = int(DEFINED_AT.timestamp() * 1000)

    def record(offset: int, sku: str) -> ConsumerRecord[bytes, bytes]:
        value = encode_event(product(sku, identifiers={"upc": f"UPC-{sku}"}))
        key = sku.encode()
        return ConsumerRecord(
            PRODUCTS.topic, 0, offset, stamp, 1, key, value, None, len(key), len(value), []
        )

    real = projections.channel.alias

    def alias(before: Any, identifier: str, sku: str, *args: Any) -> Any:
        if sku == "SKU-BAD":
            raise RuntimeError("planted bug")
        return real(before, identifier, sku, *args)

    monkeypatch.setattr(projections.channel, "alias", alias)
    applying = replica()
    asyncio.run(applying.apply({PRODUCTS: [record(0, "SKU-BAD"), record(1, "SKU-OK")]}))
    assert [key for key, _ in applying.stores.products.scan()] == ["SKU-OK"]
    assert [key for key, _ in applying.stores.aliases.scan()] == ["UPC-SKU-OK"]
