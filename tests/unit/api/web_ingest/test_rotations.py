"""Stock rotation requests through the HTTP door and the embedded runner: a distributor
submits its own (never another's), the request is decided and read back over
/api/rotations, a bad one is rejected with its field and reason and dead-lettered with its
bytes."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import orjson

from schemas.events import LineRejected
from tests.unit.event_samples import SAMPLES


def request(**changes: Any) -> dict[str, Any]:
    sample = {k: v for k, v in SAMPLES["StockRotationRequested"].items() if k != "recorded_at"}
    lines = {"returns": [{"sku": "WIDGET-100", "quantity": 4}], "orders": []}
    return {**sample, **lines, "event_id": str(uuid.uuid4()), "distributor_id": "DIST-001",
            **changes}  # fmt: skip


def test_a_distributor_submits_its_own_request_and_reads_the_decision(api):
    answer = api.ok("/api/ingest/events", [request()], token="d1")
    assert answer["summary"]["accepted"] == 1
    assert [(m.topic, m.key) for m in api.published] == [("rotations", b"DIST-001")]
    rows = api.get("/api/rotations?distributor_id=DIST-001")["rows"]
    assert [(r["request_id"], r["status"], r["reasons"]) for r in rows] == [
        ("ROT-2026-07-1", "rejected", ["no_agreement"])  # DIST-001 has no agreement
    ]
    one = api.get("/api/rotations/DIST-001/ROT-2026-07-1")
    assert one == rows[0] and one["returns"] == {"WIDGET-100": 4}


def test_a_distributor_may_not_submit_another_distributors_request(api):
    status, answer = api.post("/api/ingest/events", [request(distributor_id="DIST-002")], "d1")
    assert status == 403, answer
    assert "DIST-002" in answer["error"]["message"]
    assert api.published == []
    assert api.ok("/api/ingest/events", [request(distributor_id="DIST-002")], token="admin")


def test_a_request_without_returns_is_rejected_and_dead_lettered_with_its_bytes(api):
    bad = request(returns=[])
    answer = api.ok("/api/ingest/events", [bad], token="d1")
    [line] = answer["lines"]
    assert (line["answer"], line["reason"], line["field"]) == (
        "rejected",
        "schema_violation",
        "returns",
    )
    [rejected] = api.events()
    assert isinstance(rejected, LineRejected) and rejected.distributor_id == "DIST-001"
    assert orjson.loads(base64.b64decode(rejected.original_b64)) == bad
    assert [d.reason for d in api.channel.dead_letters] == ["schema_violation"]


def test_an_unknown_request_is_a_json_404(api):
    assert api.get("/api/rotations/DIST-001/NOPE")["error"]["status"] == 404
