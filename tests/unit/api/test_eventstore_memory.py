"""The embedded demo's in-memory event store is one database for every pooled connection:
a read while another connection is out (the dashboard polling while a script reads)
sees the same facts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast
from uuid import UUID

from infra.eventstore import open_audit_log
from streams.generator import generate_channel
from streams.runners.embedded import EmbeddedChannel


def test_a_second_connection_reads_the_same_in_memory_store():
    channel = EmbeddedChannel("sqlite:///:memory:")
    channel.feed_events(generate_channel(seed=3, weeks=2))
    violation = channel.snapshot()["violations"][0]
    datastore = cast(Any, channel.audit.recorder).datastore
    with datastore.get_connection(commit=False), ThreadPoolExecutor(1) as pool:
        # this connection stays out: the read below needs a second one from the pool
        found = pool.submit(channel.audit.violation, UUID(violation["violation_id"])).result(30)
    assert str(found.id) == violation["violation_id"]


def test_two_in_memory_stores_stay_apart():
    first, second = open_audit_log("sqlite:///:memory:"), open_audit_log("sqlite:///:memory:")
    names = [cast(Any, log.recorder).datastore.pool.db_name for log in (first, second)]
    assert names[0] != names[1]
