"""A history published before the worker starts is applied in broker-time order, as the
auditor's replay merges it (docs/DESIGN.md, "Broker-time order in the worker"): counts and
movements published together give the replay's `late_after_count` and reconciliations,
also when workers join and die while inputs are held for their order."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

import pytest

from schemas.events import Envelope, InventoryCounted
from streams.config import Settings
from streams.generator import generate_channel
from tests.integration.audit_db import fresh_database
from tests.integration.conftest import WorkerProcess, free_port, wait_until
from tests.integration.helpers import is_reference, matches_replay, publish, verify

pytestmark = pytest.mark.kafka


def movements(events: Sequence[Envelope]) -> list[Envelope]:
    assert sum(isinstance(e, InventoryCounted) for e in events) > 100, "fixture needs counts"
    return sorted((e for e in events if not is_reference(e)), key=lambda e: e.occurred_at)


def publish_by_day(settings: Settings, events: Sequence[Envelope]) -> None:
    """Each day's counts and movements together: the broker's times interleave the topics,
    and a worker reading them a topic partition at a time would not."""
    for _, day in groupby(events, key=lambda e: e.occurred_at.date()):
        publish(settings, list(day))


def settled_like_the_replay(settings: Settings, worker: WorkerProcess, dsn: str) -> None:
    live = matches_replay(settings, worker)
    assert any(row["late_after_count"] for row in live["inventory"]), "fixture needs late moves"
    # and the counts' reconciliations recorded as the replay derives them
    result = verify(worker, dsn)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified" in result.stdout


def test_a_backlog_of_counts_and_movements_is_applied_as_the_replay_reads_it(
    settings, worker_factory
):
    events = generate_channel(seed=5, weeks=1)
    publish(settings, [e for e in events if is_reference(e)])
    publish_by_day(settings, movements(events))

    worker = worker_factory().start()  # the whole history waits for it
    settled_like_the_replay(settings, worker, settings.eventstore_url)


@pytest.mark.postgres
def test_workers_joining_and_killed_during_a_backlog_still_give_the_replay(
    settings, worker_factory, pg_dsn
):
    """A second worker joins while the first catches up (a rebalance drops what the first
    held), more arrives, then the second is killed (what it held is lost with it): the
    first, owning everything again, equals the replay."""
    events = generate_channel(seed=9, weeks=8)
    later = movements(events)
    half = len(later) // 2
    publish(settings, [e for e in events if is_reference(e)])
    publish_by_day(settings, later[:half])

    def applied(worker: WorkerProcess) -> int:
        return sum(row["accepted"] for row in worker.get("/api/quality")["rows"])

    with fresh_database(pg_dsn) as dsn:
        first = worker_factory(eventstore_url=dsn).start()
        second = worker_factory(
            web_port=free_port(), data_dir=settings.data_dir + "-second", eventstore_url=dsn
        ).start()
        publish_by_day(settings, later[half:])
        wait_until(lambda: applied(second) > 0, 120, "the second worker to apply its share")
        second.kill()
        settled_like_the_replay(settings, first, dsn)
