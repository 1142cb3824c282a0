"""A history published before the worker starts is applied in broker-time order, as the
auditor's replay merges it (docs/DESIGN.md, "Broker-time order in the worker"): counts and
movements published together give the replay's `late_after_count` and reconciliations.
(Workers joining and dying during the backlog are not covered: docs/DESIGN.md says why.)"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

import pytest

from schemas.events import Envelope, InventoryCounted
from streams.config import Settings
from streams.generator import generate_channel
from tests.integration.conftest import WorkerProcess
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
