"""Where the worker's consumer resumes after a rebalance (streams/worker/committed.py)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import faust
from faust.types import TP

from streams.worker.committed import (
    FETCH_WAIT_MS,
    ISOLATION_LEVEL,
    CommittedConsumer,
    Fetching,
    behind,
    read_committed,
)

SALES, CHANGELOG = TP("sales", 6), TP("state-changelog", 6)


def test_partitions_committed_past_their_checkpoints_resume_from_the_checkpoints() -> None:
    checkpoints = {SALES: 4, TP("sales", 8): 12, TP("sales", 10): 30, TP("sales", 11): 0}
    committed = {
        SALES: 30,  # acknowledged past what was stored: read again from 4
        TP("sales", 8): 9,  # behind the checkpoint: redelivered, the gate drops it
        TP("sales", 10): 30,  # at it
        TP("sales", 11): None,  # nothing committed: from the start, as faust resets it
        CHANGELOG: 120,  # not the worker's to say
    }
    assert behind(committed, checkpoints.get) == {SALES: 4}


def test_the_worker_consumer_reads_committed_records_and_waits_briefly_for_data() -> None:
    async def made() -> tuple[str, int]:
        app = faust.App("committed-consumer", broker="kafka://127.0.0.1:1", web_enabled=False)
        read_committed(app, lambda tp: None)
        thread = cast(CommittedConsumer, app.consumer)._new_consumer_thread()
        consumer = thread._create_worker_consumer(cast(Any, app.transport))
        try:
            return consumer._isolation_level, consumer._fetch_max_wait_ms
        finally:
            await consumer.stop()  # never started: closes what its constructor opened

    isolation, fetch_wait = asyncio.run(made())
    assert isolation == ISOLATION_LEVEL
    # faust's own wait is 1,500 ms: the partitions a fetch leaves out wait for it
    assert fetch_wait == FETCH_WAIT_MS < 250


def test_a_fetch_sees_the_active_partitions_as_they_change_and_never_every_partition() -> None:
    active = {CHANGELOG}
    fetching = Fetching(active)
    active.discard(CHANGELOG)  # faust pauses the changelog while the fetch waits
    assert fetching and CHANGELOG not in fetching and SALES not in fetching
    assert (len(fetching), set(fetching)) == (0, set())
    active.add(SALES)
    assert SALES in fetching and set(fetching) == {SALES}
