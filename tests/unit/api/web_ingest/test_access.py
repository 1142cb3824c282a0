"""HTTP ingest: who may submit what (a distributor its own data, an admin anyone's), and a
request refused whole publishing nothing."""

from __future__ import annotations

from typing import Any

import pytest

from streams.auth import TokenRegistry
from tests.unit.api.ingest_api import (
    Api,
    csv_text,
    sale,
)
from tests.unit.parsers.conftest import SAMPLES

# --- who may submit ------------------------------------------------------------------

WEEKLY_867 = (SAMPLES / "867_weekly.edi").read_bytes()
ENDPOINTS = {
    "/api/ingest/events": [sale("A-1")],
    "/api/ingest/csv": csv_text("C-1,RES-1,WIDGET-100,1,12.50,USD,2026-04-07"),
    "/api/ingest/edi": (SAMPLES / "867_weekly.edi").read_bytes(),
}
#: each endpoint's body naming DIST-001 and, in one line or its header, DIST-002
FOREIGN: dict[str, Any] = {
    "/api/ingest/events": [sale("A-1"), sale("A-2", distributor="DIST-002")],
    "/api/ingest/csv": csv_text("C-1,RES-1,WIDGET-100,1,12.50,USD,2026-04-07")
    + b"DIST-002,C-2,RES-1,WIDGET-100,1,12.50,USD,2026-04-07\n",
    "/api/ingest/edi": (SAMPLES / "867_weekly.edi")
    .read_bytes()
    .replace(b"N1*DS*ACME DISTRIBUTION*91*DIST-001", b"N1*DS*ACME DISTRIBUTION*91*DIST-002"),
}


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("token", "status", "code"),
    [
        (None, 401, "unauthorized"),
        ("not-a-token", 401, "unauthorized"),
        ("cm", 403, "forbidden"),
        ("auditor", 403, "forbidden"),
        ("d2", 403, "forbidden"),  # the bodies are DIST-001's
    ],
)
def test_refused_requests_are_json_errors_and_publish_nothing(api, path, token, status, code):
    got, answer = api.post(path, ENDPOINTS[path], token)
    assert (got, answer["error"]["status"], answer["error"]["code"]) == (status, status, code)
    assert answer["error"]["message"]
    assert api.published == []


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_distributor_submits_its_own_data_and_an_admin_anyones(api, path):
    assert api.ok(path, ENDPOINTS[path], "d1")["summary"]["published"] > 0
    assert api.ok(path, ENDPOINTS[path], "admin")["summary"]["published"] > 0


@pytest.mark.parametrize("path", ENDPOINTS)
def test_one_line_of_another_distributor_refuses_the_whole_request(api, path):
    status, answer = api.post(path, FOREIGN[path], "d1")
    assert status == 403, answer
    assert "DIST-002" in answer["error"]["message"]
    assert api.published == []


#: another distributor's line that is also unreadable, and a second N1*DS naming another
FOREIGN_AND_BROKEN = {
    "column_count": (
        "/api/ingest/csv",
        FOREIGN["/api/ingest/csv"].replace(
            b"USD,2026-04-07\nDIST-002", b"USD,2026-04-07\nDIST-002,x"
        ),
    ),
    "csv_syntax": (
        "/api/ingest/csv",
        FOREIGN["/api/ingest/csv"].replace(b"DIST-002,C-2", b'DIST-002,"C-2"x'),
    ),
    "second N1*DS": (
        "/api/ingest/edi",
        WEEKLY_867.replace(b"PTD*DS~", b"PTD*DS~N1*DS*OTHER*91*DIST-002~").replace(
            b"SE*44*0001~", b"SE*45*0001~"
        ),
    ),
}


@pytest.mark.parametrize("case", FOREIGN_AND_BROKEN)
def test_another_distributors_line_is_refused_whole_valid_or_not(api, case):
    path, body = FOREIGN_AND_BROKEN[case]
    status, answer = api.post(path, body, "d1")
    assert status == 403, answer
    assert "DIST-002" in answer["error"]["message"]
    assert api.published == []
    # an admin may send it: the line, or the report, is rejected with that reason
    answer = api.ok(path, body, "admin")
    assert answer["summary"]["rejected_by_reason"].get("distributor_mismatch", 0) >= 1
    assert not [e for e in api.events() if getattr(e, "distributor_id", None) == "DIST-002"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_distributor_cannot_submit_on_behalf_of_another(api, path):
    status, answer = api.post(path, ENDPOINTS[path], "d1", distributor_id="DIST-002")
    assert (status, answer["error"]["code"]) == (403, "forbidden")
    assert api.published == []


@pytest.mark.parametrize("path", ENDPOINTS)
def test_open_mode_reads_only(path):
    open_api = Api(TokenRegistry([]))
    try:
        status, answer = open_api.post(path, ENDPOINTS[path], None)
        assert (status, answer["error"]["code"]) == (401, "unauthorized")
        assert open_api.published == []
    finally:
        open_api.close()


@pytest.mark.parametrize(
    "event",
    [
        {"event_type": "PriceChanged", "sku": "WIDGET-100"},
        {"event_type": "ShipmentRecorded", "distributor_id": "DIST-001"},
        {"event_type": "LineRejected", "distributor_id": "DIST-001"},
    ],
)
def test_a_distributor_may_not_submit_vendor_or_gateway_events(api, event):
    status, answer = api.post("/api/ingest/events", [sale("A-1"), event], "d1")
    assert (status, answer["error"]["code"]) == (403, "forbidden")
    assert event["event_type"] in answer["error"]["message"]
    assert api.published == []
