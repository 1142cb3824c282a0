"""HTTP ingest: size limits, compressed bodies, a body that stops coming, metrics, money
never a float."""

from __future__ import annotations

import contextlib
import gzip
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from streams.api import ingest as web_ingest
from tests.unit.api.ingest_api import (
    Api,
    csv_text,
    sale,
)
from tests.unit.api.test_web_violations import silent_body
from tests.unit.parsers.conftest import SAMPLES

# --- limits and metrics --------------------------------------------------------------


def test_request_size_limits_answer_413_naming_the_limit(monkeypatch):
    monkeypatch.setenv("CHANNELFLOW_MAX_JSON_BYTES", "2000")
    monkeypatch.setenv("CHANNELFLOW_MAX_REPORT_BYTES", "1000")
    small = Api()
    try:
        status, answer = small.post("/api/ingest/events", [sale(f"T-{i}") for i in range(20)])
        assert (status, answer["error"]["status"]) == (413, 413)
        assert "CHANNELFLOW_MAX_JSON_BYTES" in answer["error"]["message"]
        status, answer = small.post("/api/ingest/edi", (SAMPLES / "867_weekly.edi").read_bytes())
        assert status == 413 and "CHANNELFLOW_MAX_REPORT_BYTES" in answer["error"]["message"]
        assert small.published == []
    finally:
        small.close()


def test_a_json_batch_of_more_events_than_the_limit_is_refused_whole(monkeypatch):
    """Each element of a JSON batch is answered and spooled in memory: ten MiB of `1,`
    would be five million of them. More than CHANNELFLOW_MAX_JSON_EVENTS: 413, whether an
    array or JSON Lines, before anything is read or published."""
    monkeypatch.setenv("CHANNELFLOW_MAX_JSON_EVENTS", "3")
    small = Api()
    try:
        lines = b"\n".join(orjson.dumps(sale(f"L-{i}")) for i in range(4))
        for body in (b"[" + b",".join([b"1"] * 4) + b"]", lines):
            status, answer = small.post("/api/ingest/events", body)
            assert (status, answer["error"]["code"]) == (413, "request_entity_too_large")
            message = answer["error"]["message"]
            assert "at most 3 events, this one holds 4" in message
            assert "CHANNELFLOW_MAX_JSON_EVENTS" in message
        assert small.published == []
        answer = small.ok("/api/ingest/events", [sale(f"K-{i}") for i in range(3)])
        assert answer["summary"]["lines"] == 3
    finally:
        small.close()


def test_an_element_nested_deeper_than_any_event_makes_the_batch_unreadable(api):
    """orjson reads 1024 levels but writes 255: such an element was a 500 (TypeError)."""
    deep = b"[" * 300 + b'"bottom"' + b"]" * 300
    second = orjson.dumps(sale("N-2"))[:-1] + b',"x":' + deep + b"}"
    status, answer = api.post(
        "/api/ingest/events", b"[" + orjson.dumps(sale("N-1")) + b"," + second + b"]"
    )
    assert (status, answer["error"]["code"]) == (422, "invalid_batch")
    assert "element 2 nests deeper than any event can" in answer["error"]["message"]
    assert api.published == []


def test_a_claim_file_has_a_limit_of_its_own_at_both_doors(monkeypatch):
    """Claims are read whole (about 30 times the file in memory): a CSV claim file or an
    844, at /api/ingest/claims or /api/ingest/edi, larger than CHANNELFLOW_MAX_CLAIM_BYTES
    is a 413, where a report of that size is taken."""
    csv_claims = (SAMPLES / "claims_good.csv").read_bytes()
    edi_claims = (SAMPLES / "844_claim.edi").read_bytes()
    report = (SAMPLES / "867_weekly.edi").read_bytes()
    monkeypatch.setenv(
        "CHANNELFLOW_MAX_CLAIM_BYTES", str(min(len(csv_claims), len(edi_claims)) - 1)
    )
    small = Api()
    try:
        for path, body in [
            ("/api/ingest/claims", csv_claims),
            ("/api/ingest/claims", gzip.compress(edi_claims)),
            ("/api/ingest/edi", edi_claims),
        ]:
            headers = {"Content-Encoding": "gzip"} if body[:2] == b"\x1f\x8b" else None
            status, answer = small.post(path, body, headers=headers)
            assert status == 413, (path, answer)
            assert "CHANNELFLOW_MAX_CLAIM_BYTES" in answer["error"]["message"]
        assert small.published == []
        assert len(report) > len(edi_claims)
        assert small.post("/api/ingest/edi", report)[0] == 200
    finally:
        small.close()


@pytest.mark.parametrize("path", ["/api/ingest/events", "/api/ingest/csv", "/api/ingest/edi"])
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_body_that_is_not_what_its_encoding_says_is_a_400(api, path, encoding):
    """It was a 500: aiohttp's RequestPayloadError came out of the handler."""
    status, answer = api.post(path, b"not compressed", headers={"Content-Encoding": encoding})
    assert (status, answer["error"]["code"]) == (400, "bad_request")
    assert f"cannot be read as sent (Content-Encoding: {encoding}" in answer["error"]["message"]
    assert api.published == []


FORMS = {
    "no boundary": ("", b"x"),
    "boundary never found": ("; boundary=XX", b"x"),
    "boundary too long": ("; boundary=" + "B" * 100, b"x"),
    "part header past 8 KiB": ("; boundary=XX", b"--XX\r\nX: " + b"a" * 9000 + b"\r\n\r\nx"),
}


@pytest.mark.parametrize("path", ["/api/ingest/csv", "/api/ingest/edi", "/api/ingest/claims"])
@pytest.mark.parametrize(("boundary", "body"), FORMS.values(), ids=FORMS.keys())
def test_a_form_that_is_not_one_is_a_400(api, path, boundary, body):
    """aiohttp's ValueError or LineTooLong from a malformed form was a 500."""
    headers = {"Content-Type": "multipart/form-data" + boundary}
    status, answer = api.post(path, body, headers=headers)
    assert (status, answer["error"]["code"]) == (400, "bad_request")
    assert answer["error"]["message"].startswith("the multipart form cannot be read: ")
    assert api.published == []


def test_a_compressed_upload_is_counted_expanded_and_kept_compressed(monkeypatch):
    """A small gzip body expanding past the limit is refused (413) having taken about its
    own size of disk, not the limit's; one within the limit is read as if sent plain."""
    monkeypatch.setenv("CHANNELFLOW_MAX_REPORT_BYTES", str(4 << 20))
    on_disk: list[int] = []
    upload_file = web_ingest._upload_file

    @contextlib.contextmanager
    def measured() -> Iterator[Path]:
        with upload_file() as path:
            try:
                yield path
            finally:
                on_disk.append(path.stat().st_size if path.exists() else 0)

    monkeypatch.setattr(web_ingest, "_upload_file", measured)
    small = Api()
    try:
        bomb = gzip.compress(csv_text() + b"\n" * (64 << 20))  # 64 MiB of blank lines
        assert len(bomb) < 100_000
        status, answer = small.post("/api/ingest/csv", bomb, headers={"Content-Encoding": "gzip"})
        assert status == 413 and "CHANNELFLOW_MAX_REPORT_BYTES" in answer["error"]["message"]
        assert "4.0 MiB" in answer["error"]["message"]
        assert on_disk == [pytest.approx(0, abs=64 << 10)]  # not the 4 MiB of the limit
        assert small.published == []
        body = csv_text("Z-1,RES-1,WIDGET-100,1,12.50,USD,2026-04-07")
        plain = small.ok("/api/ingest/csv", body)
        status, packed = small.post(
            "/api/ingest/csv", gzip.compress(body), headers={"Content-Encoding": "gzip"}
        )
        assert status == 200 and packed["reports"] == plain["reports"]  # the same file
        assert packed["summary"]["accepted"] == 0 and on_disk[-1] < len(body) + 64
        edi = (SAMPLES / "852_weekly.edi").read_bytes()
        status, answer = small.post(
            "/api/ingest/edi", gzip.compress(edi), headers={"Content-Encoding": "gzip"}
        )
        assert status == 200 and answer["format"] == "852"
    finally:
        small.close()


@pytest.mark.parametrize("path", ["/api/ingest/events", "/api/ingest/csv", "/api/ingest/edi"])
def test_an_upload_whose_body_stops_coming_is_answered_408(monkeypatch, path):
    monkeypatch.setenv("CHANNELFLOW_BODY_TIMEOUT_SECONDS", "0.5")
    slow = Api()
    try:
        status, answer, elapsed = slow.loop.run_until_complete(silent_body(slow.client, path, "d1"))
        assert (status, answer["error"]["code"]) == (408, "request_timeout")
        assert 0.5 <= elapsed < 10 and slow.published == []
    finally:
        slow.close()


def test_ingest_metrics(api):
    api.ok("/api/ingest/events", [sale("M-1"), sale("M-2", sku="NOPE")])
    text = api.get("/metrics")
    assert 'channelflow_ingest_lines_total{answer="rejected",format="events"}' in text
    assert 'channelflow_ingest_request_seconds_count{format="events"}' in text


def test_money_in_answers_is_never_a_float(api):
    answer = api.ok("/api/ingest/events", [sale("F-1", unit_price="12.345678")])
    assert answer["lines"][0]["answer"] == "accepted"
    assert api.events()[0].unit_price == Decimal("12.345678")
