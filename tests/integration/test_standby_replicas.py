"""Standby replicas end to end (CHANNELFLOW_STANDBY_REPLICAS=1, two workers): each holds the
other's partitions as standby copies and answers for the whole channel; after a kill -9 of
one, the other keeps answering for the whole channel with the same answers, takes the dead
worker's partitions over and goes on applying what arrives on them."""

from __future__ import annotations

import sys
import time
from functools import partial
from typing import Any

import pytest

from tests.integration.conftest import HEAVY, WorkerProcess, free_port, wait_until
from tests.integration.helpers import (
    is_reference,
    matches_replay,
    order_independent_channel,
    publish,
    publish_reference_first,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, HEAVY]


def holds_everything(worker: WorkerProcess, partitions: int) -> dict[str, Any] | None:
    """The worker's partitions when it answers for the whole channel (None: not yet)."""
    held: dict[str, Any] = worker.get("/health")["partitions"]
    every = set(held["active"]) | set(held["standby"])
    whole = held["reads"] == "whole channel" and every == set(range(partitions))
    return held if whole else None


def test_the_survivor_of_a_kill_answers_for_the_whole_channel_and_takes_over(
    settings, worker_factory, database
):
    env = {"CHANNELFLOW_STANDBY_REPLICAS": "1"}
    first = worker_factory(env, eventstore_url=database).start()
    second = worker_factory(
        env, eventstore_url=database, web_port=free_port(), data_dir=settings.data_dir + "-2"
    ).start()
    events = order_independent_channel(seed=5, weeks=2)
    reference = [e for e in events if is_reference(e)]
    moves = [e for e in events if not is_reference(e)]
    later = len(moves) // 3
    publish_reference_first(settings, first, reference + moves[:-later])

    for worker in (first, second):
        held = wait_until(partial(holds_everything, worker, settings.partitions), 60, "all")
        assert held["active"] and held["standby"]  # a share of its own and the other's
    answer = matches_replay(settings, first, 60, "the first worker")
    assert matches_replay(settings, second, 60, "the second worker") == answer

    second.kill()  # SIGKILL: no goodbye to the group, its partitions time out
    killed = time.monotonic()
    every = set(range(settings.partitions))

    same: list[bool] = []  # each read during the takeover: the answer before the kill?

    def taken_over() -> bool:
        same.append(first.get("/api/snapshot") == answer)
        return set(first.get("/health")["partitions"]["active"]) == every

    wait_until(taken_over, 60, "the survivor active on every partition")
    took = time.monotonic() - killed
    assert same and all(same), same  # whole, and the same, all along
    print(
        f"survivor active on all {len(every)} partitions {took:.1f} s after the kill",
        file=sys.stderr,
    )

    publish(settings, moves[-later:])  # lines on the partitions it took over too
    matches_replay(settings, first, 60, "the survivor after the takeover")
