"""What a `GapProbe` costs (streams/worker/gaps.py): the worker probes each gap its gate
finds before rewinding, and a tail of markers once.

On a topic of its own (deleted afterwards), 20 transactions of 50 records each, the 6th
aborted; then the gap each commit marker leaves is probed (one at a time, as the worker
does with one partition), and the gap of the aborted transaction and one that holds records
(the answers must be: empty, empty, not empty). Prints the wall and CPU time per probe.

    .venv/bin/python -m bench.gap_probe [--bootstrap 127.0.0.1:9092]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.worker.gaps import GapProbe
from tests.transactions import in_transactions

TRANSACTIONS, RECORDS, ABORTED = 20, 50, 5


async def transactions(bootstrap: str, topic: str) -> list[tuple[int, int]]:
    """Each transaction's first and last offset."""

    async def send(producer: AIOKafkaProducer, _: int) -> tuple[int, int]:
        sent = [await (await producer.send(topic, b"x" * 200)) for _ in range(RECORDS)]
        return sent[0].offset, sent[-1].offset

    return await in_transactions(bootstrap, topic, TRANSACTIONS, ABORTED, send)


async def measure(bootstrap: str) -> None:
    topic = f"gapprobe{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    probe = GapProbe(bootstrap)
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
        spans = await transactions(bootstrap, topic)
        source = f"{topic}:0"
        markers = [
            (spans[i][1] + 1, spans[i + 1][0])
            for i in range(TRANSACTIONS - 1)
            if i not in (ABORTED - 1, ABORTED)
        ]
        await probe.empty({source: markers[0]})  # connected and assigned
        wall, cpu = time.perf_counter(), time.process_time()
        empty = [await probe.empty({source: gap}) for gap in markers]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        aborted = (spans[ABORTED - 1][1] + 1, spans[ABORTED + 1][0])
        holding = (spans[2][1] - 3, spans[3][0])
        print(f"{len(markers)} marker gaps, all empty: {all(empty)}")
        each = len(markers) / 1000
        print(f"per probe: {wall / each:.1f} ms wall, {cpu / each:.2f} ms CPU")
        print(f"aborted transaction {aborted}: empty {bool(await probe.empty({source: aborted}))}")
        print(f"records {holding}: empty {bool(await probe.empty({source: holding}))}")
    finally:
        await probe.stop()
        await admin.delete_topics([topic])
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    asyncio.run(measure(parser.parse_args().bootstrap))


if __name__ == "__main__":
    main()
