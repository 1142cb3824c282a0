"""The matrix's writes: each caller's status on each write, and a distributor never writes
another distributor's data (ingest, replacements)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.api.authz_matrix import (
    CALLERS,
    READ_ONLY,
    WRITES,
    assert_json_error,
)
from tests.unit.api.ingest_api import csv_text, sale
from tests.unit.parsers.conftest import SAMPLES

# --- writes ----------------------------------------------------------------------------

WRITE_CASES = [
    (route, path, body, caller, {**READ_ONLY, **expected}.get(caller))
    for route, rows in WRITES.items()
    for path, body, expected in rows
    for caller in CALLERS
]


@pytest.mark.parametrize(("route", "path", "body", "caller", "expected"), WRITE_CASES)
def test_write_matrix(fresh, route, path, body, caller, expected):
    status, content_type, answer = fresh.call("POST", path, caller, body)
    if expected >= 400:
        assert_json_error(status, content_type, answer, expected)
    else:
        assert status == expected, answer


# --- ingest: whose data --------------------------------------------------------------

WEEKLY_867 = (SAMPLES / "867_weekly.edi").read_bytes()
WEEKLY_852 = (SAMPLES / "852_weekly.edi").read_bytes()
MY_CSV_LINE = "C-1,RES-1,WIDGET-100,1,12.50,USD,2026-04-07"
THEIR_CSV_LINE = b"DIST-002,C-2,RES-1,WIDGET-100,1,12.50,USD,2026-04-07\n"


def named(body: bytes, distributor: bytes = b"DIST-002") -> bytes:
    return body.replace(b"*91*DIST-001", b"*91*" + distributor)


#: a DIST-001 token sending DIST-002's data, any way it can be named
FOREIGN: dict[str, tuple[str, Any, dict[str, str]]] = {
    "event": ("/api/ingest/events", [sale("A-1"), sale("A-2", distributor="DIST-002")], {}),
    "invalid event": (
        "/api/ingest/events",
        [sale("A-3", distributor="DIST-002", quantity="many")],
        {},
    ),
    "report header event": (
        "/api/ingest/events",
        [
            {
                "event_type": "ReportSubmitted",
                "event_id": "6f1c1e0e-7a8b-4c1d-9e2f-000000000001",
                "occurred_at": "2026-04-07T10:00:00Z",
                "source": "api",
                "distributor_id": "DIST-002",
                "report_id": "R-1",
                "period_start": "2026-04-06",
                "period_end": "2026-04-12",
                "line_count": 0,
                "submitted_at": "2026-04-07T10:00:00Z",
            }
        ],
        {},
    ),
    "events on behalf": ("/api/ingest/events", [sale("A-4")], {"distributor_id": "DIST-002"}),
    "events as a report": (
        "/api/ingest/events",
        {"events": [sale("A-5", distributor="DIST-002")], "report": {"report_id": "R-2"}},
        {},
    ),
    "csv line": ("/api/ingest/csv", csv_text(MY_CSV_LINE) + THEIR_CSV_LINE, {}),
    "csv first line": ("/api/ingest/csv", csv_text(MY_CSV_LINE, distributor="DIST-002"), {}),
    "csv on behalf": ("/api/ingest/csv", csv_text(MY_CSV_LINE), {"distributor_id": "DIST-002"}),
    "867 N1*DS": ("/api/ingest/edi", named(WEEKLY_867), {}),
    # another report-level error comes first: the foreign distributor still refuses it
    "867 N1*DS after a bad date": (
        "/api/ingest/edi",
        named(WEEKLY_867).replace(b"DTM*090*20260330~", b"DTM*090*2026XX30~"),
        {},
    ),
    "867 on behalf": ("/api/ingest/edi", WEEKLY_867, {"distributor_id": "DIST-002"}),
    "852 N1*DS": ("/api/ingest/edi", named(WEEKLY_852), {}),
    "852 N1*RL": (
        "/api/ingest/edi",
        WEEKLY_852.replace(
            b"N1*DS*ACME DISTRIBUTION*91*DIST-001~", b"N1*ZZ*X*91*DIST-001~"
        ).replace(b"92*AUS-DC~", b"92*DIST-002~"),
        {},
    ),
}


@pytest.mark.parametrize("case", FOREIGN)
def test_a_distributor_never_writes_another_distributors_data(ingest, case):
    path, body, params = FOREIGN[case]
    status, answer = ingest.post(path, body, "d1", **params)
    assert (status, answer["error"]["code"]) == (403, "forbidden"), answer
    assert ingest.published == []
    status, answer = ingest.post(path, body, "admin", **params)  # the admin may
    assert status in (200, 422), answer


def test_a_refusal_on_behalf_of_another_distributor_names_both_plainly(ingest):
    status, answer = ingest.post(
        "/api/ingest/events", [sale("A-4")], "d1", distributor_id="DIST-002"
    )
    assert status == 403
    assert answer["error"]["message"].endswith(
        "may submit only distributor DIST-001's data, not distributor DIST-002's; "
        "nothing was published"
    )


@pytest.mark.parametrize(
    ("path", "body", "params"),
    [
        ("/api/ingest/csv", csv_text(MY_CSV_LINE), {"report_id": "W2", "replaces": "W1"}),
        (
            "/api/ingest/events",
            {"events": [sale("A-1")], "report": {"report_id": "W2", "replaces": "W1"}},
            {},
        ),
    ],
)
def test_a_replacement_never_touches_another_distributors_report(ingest, path, body, params):
    """DIST-002's report W1; DIST-001 sends W2 'replacing W1': its own W1, none here."""
    theirs = csv_text("T-1,RES-1,WIDGET-100,10,12.50,USD,2026-04-07", distributor="DIST-002")
    ingest.ok("/api/ingest/csv", theirs, "d2", report_id="W1")
    before = ingest.channel.snapshot()
    ingest.published.clear()
    answer = ingest.ok(path, body, "d1", **params)
    assert answer["reports"][0]["distributor_id"] == "DIST-001"
    after = ingest.channel.snapshot()
    for key in ("inventory", "reports", "sell_in_vs_through", "quality"):
        old = [r for r in before[key] if r.get("distributor_id") == "DIST-002"]
        new = [r for r in after[key] if r.get("distributor_id") == "DIST-002"]
        assert old == new, key
    assert all(
        e.distributor_id == "DIST-001" for e in ingest.events() if hasattr(e, "distributor_id")
    )
