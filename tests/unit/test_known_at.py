"""The known-at rule (projections/known_at.py) and `replay --known-at` over a file."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import orjson

from projections.known_at import is_known, line_recorded_at
from schemas.codec import encode_event
from schemas.events import SaleReported
from streams.generator import generate_channel

REPO = Path(__file__).resolve().parents[2]
T = datetime(2026, 8, 1, 12, tzinfo=UTC)


def sale(sold_at: datetime, recorded: datetime | None) -> SaleReported:
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=sold_at, recorded_at=recorded, source="kafka",
        distributor_id="D01", transaction_id=uuid.uuid4().hex, reseller_id="R1", sku="SKU-1",
        quantity=1, unit_price=Decimal("10.00"), currency="USD", sold_at=sold_at,
    )  # fmt: skip


def test_recorded_at_or_before_the_moment_is_known_after_it_is_not():
    assert is_known(T, T)
    assert is_known(T - timedelta(microseconds=1), T)
    assert not is_known(T + timedelta(microseconds=1), T)
    assert is_known(T + timedelta(days=9), None)  # no cut
    assert is_known(None, T)  # nothing to judge by: kept, its dead letter shows


def test_a_file_line_is_recorded_at_its_own_recorded_at_else_its_business_time():
    early = T - timedelta(days=3)
    assert line_recorded_at(encode_event(sale(early, T))) == T
    assert line_recorded_at(encode_event(sale(early, None))) == early
    bundle = b"[" + encode_event(sale(early, None)) + b"," + encode_event(sale(early, T)) + b"]"
    assert line_recorded_at(bundle) == T  # a bundle is applied whole: its latest
    assert line_recorded_at(b"not json") is None
    assert line_recorded_at(b'{"event_type": "SaleReported"}') is None


def replay(path: Path, *flags: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "replay", "--events", str(path), *flags],
        cwd=REPO, capture_output=True, timeout=300, check=True,
    )  # fmt: skip
    snapshot: dict[str, object] = orjson.loads(result.stdout)
    return snapshot


def test_a_known_at_replay_is_the_replay_of_what_was_recorded_by_then(tmp_path):
    events = generate_channel(seed=5, weeks=4)
    recorded = sorted(e.recorded_at or e.business_time for e in events)
    cut = recorded[len(recorded) // 2]
    whole = tmp_path / "whole.jsonl"
    whole.write_bytes(b"".join(encode_event(e) + b"\n" for e in events))
    known = tmp_path / "known.jsonl"
    known.write_bytes(
        b"".join(
            encode_event(e) + b"\n" for e in events if (e.recorded_at or e.business_time) <= cut
        )
    )
    expected = replay(known, "--jobs", "1")
    flag = ("--known-at", cut.isoformat())
    assert replay(whole, *flag, "--jobs", "1") == expected
    assert replay(whole, *flag, "--jobs", "2") == expected
    assert replay(whole, "--jobs", "1") != expected


def test_a_stated_recorded_at_is_read_without_the_rest_and_a_bad_one_falls_back():
    """A line's own recorded_at decides even when the event is invalid otherwise (it was
    recorded then: its dead letter was known from then on); one without a zone or not a
    time is no recorded time, and the event's business time (or nothing) decides."""
    line = {"event_type": "SaleReported", "recorded_at": "2026-08-02T00:00:00Z"}
    assert line_recorded_at(orjson.dumps(line)) == datetime(2026, 8, 2, tzinfo=UTC)
    early = T - timedelta(days=3)
    for bad in ("2026-08-02T00:00:00", "yesterday"):
        event = orjson.loads(encode_event(sale(early, None))) | {"recorded_at": bad}
        assert line_recorded_at(orjson.dumps(event)) is None  # invalid as an event too
    plain = orjson.loads(encode_event(sale(early, None)))
    assert "recorded_at" not in plain or plain["recorded_at"] is None
    assert line_recorded_at(orjson.dumps(plain)) == early
