"""A batch's changelog writes handed to the producer in whole batches (streams/worker/state.py):
every record reaches the partition's log once, in order, and the offset reported for a
batch is the one its last record got."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatch

from streams.worker.changelog_packs import is_pack, unpack
from streams.worker.state import acknowledged, changelog_records, produce_batches


class Metadata:
    def __init__(self, offset: int) -> None:
        self.offset = offset


class Broker:
    """aiokafka's producer as `produce_batches` uses it: real batch builders, and a log per
    partition that appends each submitted batch and answers its base offset."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.logs: dict[int, list[tuple[bytes | None, bytes | None]]] = {}
        self.batches = 0

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(self.batch_size, 0)  # no compression

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> Any:
        log = self.logs.setdefault(partition, [])
        base = len(log)
        records = DefaultRecordBatch(bytes(batch._build()))
        log += [(record.key, record.value) for record in records]
        self.batches += 1
        done: asyncio.Future[Metadata] = asyncio.get_running_loop().create_future()
        done.set_result(Metadata(base))
        return done


def sent(broker: Broker, writes: dict[int, dict[bytes, bytes | None]]) -> dict[int, int]:
    async def run() -> dict[int, int]:
        pending: list[tuple[int, Awaitable[Any], int]] = []
        for partition, keyed in writes.items():
            records = changelog_records(keyed, (b"mv|",))
            pending += await produce_batches(broker, "t", partition, records)
        return await acknowledged(pending)

    return asyncio.run(run())


def restored(log: list[tuple[bytes | None, bytes | None]]) -> dict[bytes, bytes | None]:
    state: dict[bytes, bytes | None] = {}
    for key, value in log:
        if is_pack(key):
            assert value is not None
            state.update(unpack(value))
        else:
            assert key is not None
            state[key] = value
    return state


def test_every_write_reaches_its_partition_in_batches_with_the_last_offset() -> None:
    writes: dict[int, dict[bytes, bytes | None]] = {
        0: {f"inv|D{i}".encode(): b"x" * 300 for i in range(200)},
        3: {f"q|D{i}".encode(): b"y" * 40 for i in range(10)},
    }
    writes[0][b"inv|gone"] = None
    writes[0].update({f"mv|D1|{i:04}".encode(): b"m" * 100 for i in range(500)})
    broker = Broker(batch_size=4096)

    offsets = sent(broker, writes)

    assert broker.batches > 2  # 0's records filled several batches
    for partition, keyed in writes.items():
        log = broker.logs[partition]
        assert offsets[partition] == len(log) - 1
        assert restored(log) == keyed
    singles = [key for key, _ in broker.logs[0] if not is_pack(key)]
    assert singles == [key for key in writes[0] if not key.startswith(b"mv|")]  # in order


def test_a_record_larger_than_a_batch_goes_alone() -> None:
    writes: dict[int, dict[bytes, bytes | None]] = {
        1: {b"inv|a": b"a" * 10, b"inv|big": b"b" * 10_000, b"inv|c": b"c" * 10}
    }
    broker = Broker(batch_size=1024)

    offsets = sent(broker, writes)

    assert broker.logs[1] == list(writes[1].items())
    assert offsets == {1: 2}
    assert broker.batches == 3
