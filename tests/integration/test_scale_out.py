"""Two workers on the same topics share the partitions, and each says which it holds and
that its reads leave the other's out (standby replicas, which would hold them, are off by
default)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import HEAVY, free_port, wait_until

pytestmark = [pytest.mark.kafka, HEAVY]


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
