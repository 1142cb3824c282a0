"""The register of X12 interchanges received, on the real PostgreSQL server: written once,
by whichever process comes first, read back for a resend; written by the HTTP door only
once the upload is published; pruned of the rows older than the window (`channelflow
interchanges prune`), found by their index on `received_at`."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from aiokafka.errors import KafkaTimeoutError

from infra.interchange_register import (
    RECEIVED_AT_INDEX,
    TABLE,
    InterchangeKey,
    InterchangeRegister,
    Receipt,
)
from tests.unit.api.ingest_api import WEEKLY, Api

pytestmark = pytest.mark.postgres

KEY = InterchangeKey("ZZ", "ACMEDIST", "ZZ", "VENDORCO", "000000101")
FIRST = Receipt(datetime(2026, 4, 6, 8, 30, tzinfo=UTC), "d1", "DIST-001", "accepted")
LATER = Receipt(datetime(2026, 4, 7, 9, 0, tzinfo=UTC), "d2", "DIST-001", "errors")


def rows(dsn: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            f"SELECT sender_id, receiver_id, control_number, digest, outcome FROM {TABLE}"
        ).fetchall()


def received_at_indexes(dsn: str) -> list[str]:
    """The names of the register's indexes on `received_at` alone."""
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname || '.' || tablename = %s"
            " AND indexdef LIKE '%%(received_at)'",
            (TABLE,),
        )
        return [str(row[0]) for row in found]


def test_the_register_is_made_with_its_index_on_received_at(database):
    register = InterchangeRegister(database)
    try:
        assert register.first(KEY) is None  # the table made
    finally:
        register.close()
    assert received_at_indexes(database) == [RECEIVED_AT_INDEX]


def test_a_register_made_without_the_index_gets_it_when_next_opened(database):
    register = InterchangeRegister(database)
    try:
        register.record(KEY, FIRST)
    finally:
        register.close()
    with psycopg.connect(database) as conn:  # the table as it was made before the index
        conn.execute(f"DROP INDEX IF EXISTS public.{RECEIVED_AT_INDEX}")
    assert received_at_indexes(database) == []
    upgraded, other = InterchangeRegister(database), InterchangeRegister(database)
    try:
        assert upgraded.first(KEY) == FIRST  # its rows kept
        assert other.record(KEY, LATER) == FIRST  # and opened again: made once
    finally:
        upgraded.close()
        other.close()
    assert received_at_indexes(database) == [RECEIVED_AT_INDEX]


def test_an_interchange_is_registered_once_and_its_first_receipt_read_back(database):
    register, other = InterchangeRegister(database), InterchangeRegister(database)
    try:
        assert register.record(KEY, FIRST) is None  # its first receipt
        assert other.record(KEY, LATER) == FIRST  # another process: received before
        assert register.record(KEY, LATER) == FIRST  # nothing overwritten
        # another receiver's numbering, or another number: other interchanges
        assert (
            register.record(InterchangeKey("ZZ", "ACMEDIST", "ZZ", "OTHER", "000000101"), LATER)
            is None
        )
        assert (
            register.record(InterchangeKey("ZZ", "ACMEDIST", "ZZ", "VENDORCO", "000000102"), LATER)
            is None
        )
    finally:
        register.close()
        other.close()
    assert len(rows(database)) == 3


def test_a_control_number_received_longer_than_the_window_ago_is_a_first_receipt(database):
    register = InterchangeRegister(database, window=timedelta(days=30))
    try:
        assert register.record(KEY, FIRST) is None
        within = Receipt(FIRST.received_at + timedelta(days=29), "d2", "DIST-001", "accepted")
        assert register.record(KEY, within) == FIRST  # a resend
        # the sender's numbering came round: the old receipt is replaced
        later = Receipt(FIRST.received_at + timedelta(days=31), "d3", "DIST-001", "errors")
        assert register.record(KEY, later) is None
        assert register.first(KEY) == later
        assert register.record(KEY, within) == later  # none older replaces a newer one
    finally:
        register.close()
    assert rows(database) == [("ACMEDIST", "VENDORCO", "000000101", "d3", "errors")]


@pytest.fixture
def api(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The HTTP doors over the embedded runner, registering in the test's database."""
    monkeypatch.setenv("CHANNELFLOW_INTERCHANGES_URL", database)
    client = Api()
    yield client
    client.close()


def test_a_failed_publish_registers_nothing(api, database):
    register = InterchangeRegister(database)
    assert register.first(KEY) is None  # the table made, empty
    register.close()
    api.broker_error = KafkaTimeoutError()
    status, answer = api.post("/api/ingest/edi", WEEKLY)
    assert status == 503, answer
    assert api.published == [] and rows(database) == []

    # published at last: registered, and answered as a first receipt
    api.broker_error = None
    answer = api.ok("/api/ingest/edi", WEEKLY)
    assert answer["interchange"] == {
        "sender": "ACMEDIST",
        "receiver": "VENDORCO",
        "control_number": "000000101",
        "resent": False,
    }
    assert rows(database) == [
        ("ACMEDIST", "VENDORCO", "000000101", hashlib.sha256(WEEKLY).hexdigest(), "accepted")
    ]


def test_a_resend_with_other_content_is_said_so(api):
    api.ok("/api/ingest/edi", WEEKLY)
    changed = WEEKLY.replace(b"QTY*39*10*EA", b"QTY*39*11*EA")
    assert changed != WEEKLY
    answer = api.ok("/api/ingest/edi", changed)["interchange"]
    assert answer["resent"] and not answer["same_content"]
    assert "other content" in answer["note"]


def test_prune_deletes_the_rows_older_than_the_window_in_batches(database):
    register = InterchangeRegister(database, window=timedelta(days=30))
    now = datetime(2026, 6, 1, tzinfo=UTC)
    try:
        for number in range(5):  # received 31 … 35 days before: past the window
            old = Receipt(now - timedelta(days=31 + number), f"old{number}", "DIST-001", "accepted")
            assert register.record(replace(KEY, control_number=f"00000020{number}"), old) is None
        fresh = Receipt(now - timedelta(days=29), "fresh", "DIST-001", "accepted")
        assert register.record(KEY, fresh) is None
        assert register.stale(now) == 5
        assert register.prune(now, batch=2) == 5  # three statements: 2, 2, 1
        assert register.stale(now) == 0 and register.prune(now) == 0
        assert register.first(KEY) == fresh
    finally:
        register.close()
    assert rows(database) == [("ACMEDIST", "VENDORCO", "000000101", "fresh", "accepted")]


def test_channelflow_interchanges_prune(database):
    register = InterchangeRegister(database)
    now = datetime.now(UTC)
    try:
        register.record(KEY, Receipt(now - timedelta(days=400), "old", "DIST-001", "accepted"))
        newer = replace(KEY, control_number="000000102")
        register.record(newer, Receipt(now - timedelta(days=10), "new", "DIST-001", "errors"))
    finally:
        register.close()
    env = {**os.environ, "CHANNELFLOW_INTERCHANGES_URL": database}

    def prune(*flags: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "streams.cli", "interchanges", "prune", *flags]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    dry = prune("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("interchanges received before ")
    assert dry.stdout.endswith(" (the 365-day window): 1 to delete (--dry-run: none deleted)\n")
    assert len(rows(database)) == 2
    done = prune()
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(" (the 365-day window): 1 deleted\n")
    assert rows(database) == [("ACMEDIST", "VENDORCO", "000000102", "new", "errors")]
    env["CHANNELFLOW_INTERCHANGE_WINDOW_DAYS"] = "5"  # the window is the setting's
    assert prune().stdout.endswith(" (the 5-day window): 1 deleted\n")
    assert rows(database) == []
