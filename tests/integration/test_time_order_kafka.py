"""A history published before the worker starts is applied in broker-time order, as the
auditor's replay merges it (docs/DESIGN.md, "Broker-time order in the worker"): counts and
movements published together give the replay's `late_after_count` and reconciliations."""

from __future__ import annotations

from itertools import groupby

import pytest

from schemas.events import InventoryCounted
from streams.generator import generate_channel
from tests.integration.helpers import is_reference, matches_replay, publish, verify

pytestmark = pytest.mark.kafka


def test_a_backlog_of_counts_and_movements_is_applied_as_the_replay_reads_it(
    settings, worker_factory
):
    events = generate_channel(seed=5, weeks=1)
    assert sum(isinstance(e, InventoryCounted) for e in events) > 100, "fixture needs counts"
    publish(settings, [e for e in events if is_reference(e)])
    # day by day, each day's counts and movements together: the broker's times interleave
    # the topics, and a worker reading them a topic partition at a time would not
    movements = sorted((e for e in events if not is_reference(e)), key=lambda e: e.occurred_at)
    for _, day in groupby(movements, key=lambda e: e.occurred_at.date()):
        publish(settings, list(day))

    worker = worker_factory().start()  # the whole history waits for it
    live = matches_replay(settings, worker)
    assert any(row["late_after_count"] for row in live["inventory"]), "fixture needs late moves"
    # and the counts' reconciliations recorded as the replay derives them
    result = verify(worker, settings.eventstore_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified" in result.stdout
