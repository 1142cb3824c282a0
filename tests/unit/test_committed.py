"""Where the worker's consumer resumes after a rebalance (streams/worker/committed.py)."""

from __future__ import annotations

from faust.types import TP

from streams.worker.committed import behind

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
