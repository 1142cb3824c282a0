"""A worker whose consumer group committed offsets past its checkpoints resumes from the
checkpoints at once (docs/DESIGN.md, "Progress checkpoints").

faust seeks every partition to the group's committed offset at the end of each recovery,
and it commits what it acknowledged: the events of a batch the agent set aside during a
rebalance, the events a stream skipped for a generation gone, those a killed worker held
for their order. A survivor taking such a partition over resumed past the input never
stored; with nothing more coming on it, only the tail watch found it, once the whole
worker had applied nothing for 15 s (read again and counted as a rewind), minutes when
the watch's re-reads kept missing. Here the worker stores a channel and stops, more lines
come while it is away, and its group's offsets are committed at the ends of every topic
(as such acknowledgements leave them); started again, it applies the new lines without a
single rewind: it read them from its checkpoints, not because something found them
missing."""

from __future__ import annotations

import asyncio

import pytest

from streams.generator import generate_channel
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.helpers import (
    is_reference,
    matches_replay,
    metric_sum,
    publish,
    publish_reference_first,
    weeks_ago,
)
from tests.integration.test_redelivery_metrics import commit_for_the_group, totals

pytestmark = pytest.mark.kafka


def test_a_worker_resumes_from_its_checkpoints_when_the_group_committed_past_them(
    settings, tmp_path
):
    events = generate_channel(seed=43, weeks=2, start=weeks_ago(3))
    moves = [e for e in events if not is_reference(e)]
    later = moves[-len(moves) // 3 :]
    away = {id(e) for e in later}
    first = [e for e in events if id(e) not in away]
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    try:
        worker.start()
        publish_reference_first(settings, worker, first)
        wait_until(lambda: totals(worker)["lagging"] == 0, 120, "every message stored")
        worker.stop()

        publish(settings, later)  # while the worker is away
        wait_until(
            lambda: asyncio.run(commit_for_the_group(settings, at_the_ends=True)),
            60,
            "the ends committed",
        )

        worker.start()
        wait_until(lambda: totals(worker)["lagging"] == 0, 120, "the new lines stored")
        matches_replay(settings, worker, 60, "the worker started again")
        assert metric_sum(worker, "channelflow_input_rewinds_total") == 0
    finally:
        worker.kill()
