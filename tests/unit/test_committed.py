"""Where the worker's consumer resumes after a rebalance (streams/worker/committed.py)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import faust
from faust.types import TP
from hypothesis import given
from hypothesis import strategies as st

from streams.worker.committed import (
    FETCH_WAIT_MS,
    ISOLATION_LEVEL,
    CommittedConsumer,
    Fetching,
    placed,
    read_committed,
)

SALES, CHANGELOG = TP("sales", 6), TP("state-changelog", 6)


def test_partitions_committed_past_their_checkpoints_or_not_at_all_resume_there() -> None:
    checkpoints = {
        SALES: 4,
        TP("sales", 8): 12,
        TP("sales", 10): 30,
        TP("sales", 11): 0,
        TP("sales", 12): 7,
        TP("sales", 13): 5,
    }
    committed = {
        SALES: 30,  # acknowledged past what was stored: read again from 4
        TP("sales", 8): 9,  # behind the checkpoint: redelivered, the gate drops it
        TP("sales", 10): 30,  # at it
        TP("sales", 11): None,  # nothing committed: aiokafka's seek leaves it where it is
        TP("sales", 12): None,  # the same, past a stored prefix
        TP("sales", 13): 0,  # aiokafka seeks only past 0
        CHANGELOG: 120,  # not the worker's to say
        TP("state-changelog", 7): None,
    }
    assert placed(committed, checkpoints.get) == {
        SALES: 4,
        TP("sales", 11): 0,
        TP("sales", 12): 7,
        TP("sales", 13): 5,
    }


offsets = st.none() | st.integers(0, 40)


@given(
    st.dictionaries(
        st.builds(TP, st.just("sales"), st.integers(0, 11)), st.tuples(offsets, offsets)
    )
)
def test_no_partition_resumes_past_its_checkpoint_nor_where_it_stood(
    cases: dict[TP, tuple[int | None, int | None]],
) -> None:
    """(committed offset, checkpoint) per partition: aiokafka seeks to a committed offset
    past 0 and leaves the others where they stand (None here)."""
    committed = {tp: offset for tp, (offset, _) in cases.items()}
    checkpoints = {tp: at for tp, (_, at) in cases.items() if at is not None}
    place = placed(committed, checkpoints.get)
    for tp, (offset, at) in cases.items():
        resumes = place.get(tp, offset or None)
        if at is not None:
            assert resumes is not None and resumes <= at
        else:
            assert tp not in place


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
