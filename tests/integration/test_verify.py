"""The auditor's verify: a replay of the raw topics against the live API and PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from tests.integration.audit_db import fresh_database
from tests.integration.conftest import wait_until
from tests.integration.helpers import (
    matches_replay,
    order_independent_channel,
    publish_reference_first,
    verify,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def test_verify_passes_on_the_live_system_and_catches_a_deleted_audit_row(
    settings, worker_factory, pg_dsn
):
    # the generated channel's ids are fixed and verify compares the whole event store: an
    # empty database of its own, so facts recorded by an earlier run (or a test running
    # alongside) cannot stand in for this run's
    with fresh_database(pg_dsn) as dsn:
        verified_alone(settings, worker_factory, dsn)


def verified_alone(settings, worker_factory, pg_dsn: str) -> None:
    events = order_independent_channel(seed=23)
    worker = worker_factory(eventstore_url=pg_dsn).start()
    publish_reference_first(settings, worker, events)
    expected = matches_replay(settings, worker)
    claims = len(expected["price_protection"])
    assert claims and expected["violations"]

    def recorded(kind: str) -> int:
        with psycopg.connect(pg_dsn) as conn:
            row = conn.execute(
                "SELECT count(*) FROM channelflow_audit_events WHERE topic LIKE %s",
                (f"%{kind}%",),
            ).fetchone()
        return int(row[0]) if row else 0

    wait_until(lambda: recorded("PriceProtection") >= claims, 60, "the claims recorded")
    result = verify(worker, pg_dsn)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified" in result.stdout

    violation_id = expected["violations"][0]["violation_id"]
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "DELETE FROM channelflow_audit_events WHERE originator_id = %s", (violation_id,)
        )
    result = verify(worker, pg_dsn)
    assert result.returncode == 1
    assert violation_id in result.stdout
    assert "recorded None" in result.stdout
