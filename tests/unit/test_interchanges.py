"""What the doors say of an X12 interchange received again (streams/ingest/interchanges.py),
without a register: its identity, the outcome registered, the JSON answer."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from infra.interchange_register import InterchangeKey, Receipt
from projections.ingest_check import upload_outcome
from streams.ingest.interchanges import Registered, key_of
from streams.ingest.parsers.x12 import tokenize
from tests.unit.parsers.conftest import SAMPLES

FIRST = datetime(2026, 4, 6, 8, 30, tzinfo=UTC)
KEY = InterchangeKey("ZZ", "ACMEDIST", "ZZ", "VENDORCO", "000000101")


def test_an_interchange_is_its_sender_receiver_and_control_number() -> None:
    data = (SAMPLES / "867_weekly.edi").read_bytes()
    isa = next(tokenize(io.BytesIO(data)))
    assert key_of(isa) == KEY  # the fixed-width ids without their blanks


def summary(
    accepted: int = 0, duplicate: int = 0, rejected: int = 0, conflict: int = 0
) -> dict[str, int]:
    return {
        "accepted": accepted,
        "duplicate": duplicate,
        "rejected": rejected,
        "conflict": conflict,
    }


def test_the_outcome_registered_is_what_the_lines_earned() -> None:
    assert upload_outcome(summary(accepted=3)) == "accepted"
    assert upload_outcome(summary(duplicate=3)) == "accepted"
    assert upload_outcome(summary(accepted=2, rejected=1)) == "errors"
    assert upload_outcome(summary(duplicate=1, conflict=1)) == "errors"
    assert upload_outcome(summary(rejected=2, conflict=1)) == "rejected"


def test_a_first_receipt_is_answered_as_not_resent() -> None:
    registered = Registered(KEY, "d1", None)
    assert not registered.resent
    assert registered.answer() == {
        "sender": "ACMEDIST",
        "receiver": "VENDORCO",
        "control_number": "000000101",
        "resent": False,
    }


def test_a_resend_names_the_first_receipt_and_whether_its_content_is_the_same() -> None:
    first = Receipt(FIRST, "d1", "DIST-001", "accepted")
    same = Registered(KEY, "d1", first).answer()
    assert same["resent"] and same["same_content"]
    assert same["first_received_at"] == "2026-04-06T08:30:00Z"
    assert "025" in same["note"]
    other = Registered(KEY, "d2", first).answer()
    assert other["resent"] and not other["same_content"]
    assert "other content" in other["note"]
