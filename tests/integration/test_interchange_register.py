"""The register of X12 interchanges received, on the real PostgreSQL server: written once,
by whichever process comes first, read back for a resend; and written by the HTTP door
only once the upload is published."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from aiokafka.errors import KafkaTimeoutError

from infra.interchange_register import TABLE, InterchangeKey, InterchangeRegister, Receipt
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
