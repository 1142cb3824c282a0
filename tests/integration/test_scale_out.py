"""Two workers on the same topics share the partitions and each answers for the whole
channel: the other's partitions are standby replicas in its own databases, kept up to date
from their changelogs (CHANNELFLOW_STANDBY_REPLICAS, default 1)."""

from __future__ import annotations

import pytest

from streams.generator import generate_sales, sales_catalog
from tests.integration.audit_db import fresh_database
from tests.integration.conftest import free_port, wait_until
from tests.integration.helpers import matches_replay, publish, publish_reference_first

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def test_each_of_two_workers_answers_for_the_whole_channel(settings, worker_factory, pg_dsn):
    stream = list(generate_sales(8_000, seed=11))
    with fresh_database(pg_dsn) as dsn:
        first = worker_factory(eventstore_url=dsn).start()
        second = worker_factory(
            web_port=free_port(), data_dir=settings.data_dir + "-second", eventstore_url=dsn
        ).start()

        def shared() -> bool:
            held = [w.get("/health").get("partitions", {}) for w in (first, second)]
            actives = [set(h.get("active", [])) for h in held]
            return (
                all(actives)
                and actives[0] | actives[1] == set(range(settings.partitions))
                and all(h["reads"] == "whole channel" for h in held)
            )

        wait_until(shared, 90, "the partitions shared out, the others held as standbys")
        publish_reference_first(settings, first, sales_catalog())
        publish(settings, stream)
        for worker, name in ((first, "the first worker"), (second, "the second worker")):
            live = matches_replay(settings, worker, 180, name)
            assert sum(row["sell_through"] for row in live["inventory"]) == sum(
                sale.quantity for sale in stream
            )
        health = first.get("/health")["partitions"]
        assert set(health["standby"]) == set(range(settings.partitions)) - set(health["active"])


def test_without_standbys_each_worker_says_its_reads_are_partial(settings, worker_factory):
    env = {"CHANNELFLOW_STANDBY_REPLICAS": "0"}
    first = worker_factory(env).start()
    second = worker_factory(
        env, web_port=free_port(), data_dir=settings.data_dir + "-second"
    ).start()

    def split() -> list[dict] | None:
        held = [w.get("/health").get("partitions", {}) for w in (first, second)]
        actives = [set(h.get("active", [])) for h in held]
        every = set(range(settings.partitions))
        shared = all(actives) and not actives[0] & actives[1] and actives[0] | actives[1] == every
        return held if shared else None

    held = wait_until(split, 90, "the partitions shared out (a rebalance settled)")
    for mine, theirs in (held, held[::-1]):
        assert mine["standby"] == [] and mine["missing"] == theirs["active"]
        assert mine["reads"].startswith("partial")
