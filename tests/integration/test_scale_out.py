"""Two workers on the same topics share the partitions, and each says which it holds and
that its reads leave the other's out (standby replicas, which would hold them, are off by
default); `channelflow api` given both workers' data directories answers for the whole
channel, whichever worker holds a partition; and one given back the partitions of another,
killed, opens them again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.events import SaleReported
from tests.integration.conftest import HEAVY, ApiProcess, WorkerProcess, free_port, wait_until
from tests.integration.helpers import (
    catalog,
    matches_replay,
    metric_sum,
    numbered_sales,
    publish,
    publish_reference_first,
)

pytestmark = [pytest.mark.kafka, HEAVY]

SOLD = datetime(2026, 8, 3, 9, tzinfo=UTC)


def test_without_standbys_each_worker_says_its_reads_are_partial(settings, worker_factory):
    env = {"CHANNELFLOW_STANDBY_REPLICAS": "0"}
    first = worker_factory(env).start()
    second = worker_factory(
        env, web_port=free_port(), data_dir=settings.data_dir + "-second"
    ).start()

    def split() -> list[dict] | None:
        """Both workers' coverage once the rebalance has settled in each: the partitions
        shared out, and the databases of those given up closed (for a moment after the
        assignment changes, a worker still holds the partitions it is giving up)."""
        held = [w.get("/health").get("partitions", {}) for w in (first, second)]
        actives = [set(h.get("active", [])) for h in held]
        every = set(range(settings.partitions))
        shared = all(actives) and not actives[0] & actives[1] and actives[0] | actives[1] == every
        closed = not any(h.get("standby") for h in held)
        return held if shared and closed else None

    held = wait_until(split, 90, "the partitions shared out (a rebalance settled)")
    for mine, theirs in (held, held[::-1]):
        assert mine["standby"] == [] and mine["missing"] == theirs["active"]
        assert mine["reads"].startswith("partial")


def unpriced_sales(first: int, count: int) -> list[SaleReported]:
    """Sales of an SKU without a price: each counted in `channelflow_unpriced_sales`."""
    return numbered_sales(first, count, sku="SKU-S", distributors=8, at=SOLD)


def test_a_worker_given_its_partitions_back_opens_them_again(settings, worker_factory):
    """A second worker joins, takes half the partitions and is killed: the first takes them
    back. Its projection gauges, refreshed before the join and not since (nothing stored
    meanwhile), once kept the databases of those partitions open, with their RocksDB locks,
    and faust gave up opening them again (the worker crashed 30 s after the kill)."""
    env = {"CHANNELFLOW_STANDBY_REPLICAS": "0"}
    first = worker_factory(env).start()
    publish_reference_first(settings, first, catalog("SKU-S"))
    publish(settings, unpriced_sales(0, 40))
    wait_until(
        lambda: metric_sum(first, "channelflow_unpriced_sales") == 40,
        90,
        "the first worker's gauges refreshed after its last batch",
    )
    second = worker_factory(
        env, web_port=free_port(), data_dir=settings.data_dir + "-second"
    ).start()
    every = list(range(settings.partitions))
    wait_until(lambda: active(second) and len(active(first)) < len(every), 90, "the split")
    second.kill()
    wait_until(lambda: active(first) == every, 120, "the first worker to take all back")
    publish(settings, unpriced_sales(40, 40))
    wait_until(
        lambda: metric_sum(first, "channelflow_unpriced_sales") == 80,
        90,
        "the first worker applying every partition again",
    )
    matches_replay(settings, first, 120, "the first worker")


def active(worker: WorkerProcess) -> list[int]:
    return sorted(worker.get("/health").get("partitions", {}).get("active", []))


def test_the_api_process_over_both_workers_answers_for_the_whole_channel(settings, worker_factory):
    """The second worker takes half the partitions from the first, which keeps their
    databases as they were: the API process reads the second's copies, further on, and
    once the second is killed and the first has taken them back, the first's again."""
    env = {"CHANNELFLOW_STANDBY_REPLICAS": "0"}
    first = worker_factory(env).start()
    publish_reference_first(settings, first, catalog("SKU-S"))
    publish(settings, unpriced_sales(0, 40))
    wait_until(lambda: metric_sum(first, "channelflow_unpriced_sales") == 40, 90, "40 applied")
    second_dir = settings.data_dir + "-second"
    second = worker_factory(env, web_port=free_port(), data_dir=second_dir).start()
    every = list(range(settings.partitions))
    wait_until(lambda: active(second) and len(active(first)) < len(every), 90, "the split")
    publish(settings, unpriced_sales(40, 40))

    api = ApiProcess(settings, first.log_path.with_name("api.log"), env)
    api.launch("--worker-data-dir", settings.data_dir, "--worker-data-dir", second_dir)
    try:
        wait_until(lambda: api.get("/health"), 60, "the API process's /health")
        matches_replay(settings, api, 120, "the API process over both workers")
        held = api.get("/health")["partitions"]
        assert held["missing"] == [] and held["reads"] == "whole channel", held

        second.kill()
        wait_until(lambda: active(first) == every, 120, "the first worker to take all back")
        publish(settings, unpriced_sales(80, 40))
        matches_replay(settings, api, 120, "the API process after the takeover")
    finally:
        api.kill()
