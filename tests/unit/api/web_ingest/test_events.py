"""HTTP ingest of JSON events: each event's answer, the projection it changes, a batch as
a report, bodies that cannot be read."""

from __future__ import annotations

import base64
import uuid

import orjson
from aiokafka.errors import KafkaTimeoutError

from schemas.codec import decode_event, encode_event
from schemas.events import LineRejected, ReportSubmitted, SaleReported
from schemas.jsonschema import SCHEMA_DIR
from tests.unit.api.ingest_api import (
    csv_text,
    inventory,
    quality,
    row,
    sale,
)

# --- JSON events ---------------------------------------------------------------------


def test_a_broker_that_cannot_be_reached_is_a_503_and_the_retry_counts_once(api):
    api.broker_error = KafkaTimeoutError()
    status, answer = api.post("/api/ingest/events", [sale("T-9")])
    assert status == 503 and answer["error"]["code"] == "unavailable"
    assert "Kafka is not reachable" in answer["error"]["message"]
    api.broker_error = None
    assert api.ok("/api/ingest/events", [sale("T-9")])["summary"]["accepted"] == 1
    assert api.ok("/api/ingest/events", [sale("T-9")])["summary"]["duplicate"] == 1


def test_each_event_gets_its_answer_and_the_projection_changes(api):
    first = api.ok("/api/ingest/events", [sale("T-1")])
    assert first["lines"] == [{"line": 1, "ref": "api[1]", "answer": "accepted"}]
    batch = [
        sale("T-1"),  # the same line again: a duplicate
        sale("T-1", quantity=4, event_id=str(uuid.uuid4())),  # same key, other content
        sale("T-2", unit_price=12.5),  # a float: the schema refuses it
        sale("T-3", sku="NOPE"),  # unknown to the catalog
        sale("T-4", quantity=2, unit="CA"),  # 2 cases = 24 EA
        sale("T-4", quantity=2, unit="CA"),  # twice in one request
    ]
    answer = api.ok("/api/ingest/events", batch)
    answers = [(line["line"], line["answer"], line.get("reason")) for line in answer["lines"]]
    assert answers == [
        (1, "duplicate", None),
        (2, "conflict", "conflicting_duplicate"),
        (3, "rejected", "schema_violation"),
        (4, "rejected", "unknown_sku"),
        (5, "accepted", None),
        (6, "duplicate", None),
    ]
    schema = row(answer, 3)
    assert schema["field"] == "unit_price" and "float" in schema["detail"]
    assert answer["summary"] == {
        "lines": 6,
        "accepted": 1,
        "duplicate": 2,
        "conflict": 1,
        "rejected": 2,
        "rejected_by_reason": {"schema_violation": 1, "unknown_sku": 1},
        "published": 6,
    }
    # the projection: 3 + 24 units; what it could not apply is counted by reason
    assert inventory(api, "DIST-001", "WIDGET-100")["sell_through"] == 27
    counted = quality(api, "DIST-001")
    assert (counted["accepted"], counted["conflicts"]) == (2, 1)
    assert counted["rejected_by_reason"] == {"schema_violation": 1, "unknown_sku": 1}


def test_events_are_stamped_at_ingest_and_a_rejected_one_keeps_its_bytes(api):
    bad = sale("T-2", quantity="three")
    api.ok("/api/ingest/events", [sale("T-1", recorded_at="2020-01-01T00:00:00Z"), bad])
    accepted, rejected = api.events()
    assert isinstance(accepted, SaleReported)
    assert accepted.source == "api" and accepted.source_ref == "api[1]"
    assert accepted.recorded_at is not None and accepted.recorded_at.year >= 2026
    assert isinstance(rejected, LineRejected) and rejected.distributor_id == "DIST-001"
    assert rejected.reason == "schema_violation" and rejected.source_ref == "api[2]"
    assert orjson.loads(base64.b64decode(rejected.original_b64)) == bad
    dead = [letter for letter in api.channel.dead_letters if letter.reason == "schema_violation"]
    assert [orjson.loads(letter.original) for letter in dead] == [bad]


def test_the_gateway_fields_are_the_gateways_and_the_producers_id_is_required(api):
    """`source`, `recorded_at` and `source_ref` may be left out, and what a producer writes
    there (another door, a value the schema does not know) is replaced, not refused; the
    event's own id is the producer's, and without one the line is refused naming it."""
    bare = sale("T-1")
    for name in ("source", "recorded_at", "source_ref"):
        bare.pop(name, None)
    lying = sale("T-2", source="csv", source_ref="x.csv:9", recorded_at="2020-01-01T00:00:00Z")
    unknown = sale("T-3", source="SAP ECC", recorded_at="yesterday")
    anonymous = sale("T-4")
    del anonymous["event_id"]
    answer = api.ok("/api/ingest/events", [bare, lying, unknown, anonymous])
    assert [line["answer"] for line in answer["lines"]] == ["accepted"] * 3 + ["rejected"]
    assert row(answer, 4)["field"] == "event_id"
    assert row(answer, 4)["reason"] == "schema_violation"
    sales = [event for event in api.events() if isinstance(event, SaleReported)]
    assert [(e.source, e.source_ref) for e in sales] == [("api", f"api[{n}]") for n in (1, 2, 3)]
    assert all(e.recorded_at is not None and e.recorded_at.year >= 2026 for e in sales)


def test_the_published_schema_requires_what_a_producer_must_send():
    required = orjson.loads((SCHEMA_DIR / "SaleReported.v1.json").read_bytes())["required"]
    assert {"event_id", "occurred_at"} <= set(required)
    assert not {"source", "recorded_at", "source_ref"} & set(required)


def test_a_report_flag_makes_the_batch_a_report_headed_by_its_submission(api):
    lines = [sale("T-1"), sale("T-2", report_id="OTHER"), sale("T-3"), sale("T-4", quantity=1.5)]
    answer = api.ok("/api/ingest/events", {"events": lines, "report": {"report_id": "R-1"}})
    assert row(answer, 2)["reason"] == "report_mismatch"
    assert row(answer, 4)["reason"] == "schema_violation"
    assert answer["reports"][0] | {"published": True} == answer["reports"][0]
    header, *rest = api.events()
    assert isinstance(header, ReportSubmitted)
    assert (header.report_id, header.line_count, header.distributor_id) == ("R-1", 4, "DIST-001")
    assert [e.report_id for e in rest if isinstance(e, SaleReported)] == ["R-1", "R-1"]


def test_json_lines_and_bad_bodies(api):
    body = encode_event(decode_event(orjson.dumps(sale("T-1")))) + b"\n{not json\n"
    answer = api.ok("/api/ingest/events", body)
    assert [(line["answer"], line.get("reason")) for line in answer["lines"]] == [
        ("accepted", None),
        ("rejected", "invalid_json"),
    ]
    status, error = api.post("/api/ingest/events", b'{"a": 1, not json')
    assert (status, error["error"]["code"]) == (422, "invalid_json")
    assert "CSV" not in error["error"]["message"]
    status, error = api.post("/api/ingest/events", {"events": "nope"})
    assert (status, error["error"]["code"]) == (422, "invalid_batch")


def test_a_csv_report_sent_as_events_is_refused_whole_not_dead_lettered_line_by_line(api):
    report = b"distributor_id,transaction_id\nD01,T-1\nD01,T-2\n"
    status, error = api.post("/api/ingest/events", report)
    assert (status, error["error"]["code"]) == (422, "invalid_json")
    assert "a CSV report? send it to /api/ingest/csv" in error["error"]["message"]
    assert api.published == []
    status, error = api.post("/api/ingest/events", b"ISA*00*x~\nGS*PT~\n")
    assert "an X12 interchange? send it to /api/ingest/edi" in error["error"]["message"]


def test_a_value_the_wire_schema_refuses_is_a_rejected_line_never_a_500(api):
    extra = sale("T-5")
    extra["note\nhidden"] = "x"  # an unknown field whose name holds a line break
    batch = [
        sale("RM-NUL\u0000"),
        sale("T-2", sold_at="0001-01-01T00:00:00+14:00"),
        sale("T-3", unit_price="1e3"),
        sale("T-4", unit_price="-2.00"),
        extra,
        sale("T-6", quantity=10**12 + 1),
    ]
    answer = api.ok("/api/ingest/events", batch)
    assert [(line["answer"], line["reason"], line["field"]) for line in answer["lines"]] == [
        ("rejected", "schema_violation", "transaction_id"),
        ("rejected", "schema_violation", "sold_at"),
        ("rejected", "schema_violation", "unit_price"),
        ("rejected", "schema_violation", "unit_price"),
        ("rejected", "schema_violation", "note\nhidden"),
        ("rejected", "schema_violation", "quantity"),
    ]
    assert "contains U+0000" in answer["lines"][0]["detail"]
    letters = api.events("LineRejected")
    assert len(letters) == 6 and "\\n" in letters[4].detail  # escaped, still a valid text
    dead = [letter for letter in api.channel.dead_letters if letter.reason == "schema_violation"]
    assert orjson.loads(dead[0].original)["transaction_id"] == "RM-NUL\u0000"


def test_ids_given_with_an_upload_follow_the_wire_schema(api):
    body = b"distributor_id,transaction_id,reseller_id,sku,quantity,unit_price,currency,sold_at"
    for first, column in (
        (b"DIST-001,C-1,RES-1,WIDGET-100,1,1.00,USD,2026-04-07,R|1", "report_id"),
        (b"DIST-001,C-1,RES-1,WIDGET-100,1,1.00,USD,2026-04-07,R\xe2\x80\x8b1", "report_id"),
    ):
        status, answer = api.post("/api/ingest/csv", body + b",report_id\n" + first + b"\n")
        assert (status, answer["error"]["code"], answer["error"]["column"]) == (
            422,
            "invalid_id",
            column,
        )
    status, answer = api.post(
        "/api/ingest/csv", body + b"\nD|1,C-1,RES-1,W,1,1,USD,2026-04-07\n", "admin"
    )
    assert (status, answer["error"]["column"]) == (422, "distributor_id")
    status, answer = api.post("/api/ingest/csv", csv_text(), report_id="W\u200b15")
    assert status == 400 and "U+200B" in answer["error"]["message"]
    assert api.published == []
    named = api.ok(
        "/api/ingest/csv",
        csv_text("C-7,RES-1,WIDGET-100,1,1.00,USD,2026-04-07"),
        filename="week\n15.csv",
        lines="all",
    )
    assert named["lines"][0] == {"line": 2, "ref": "week\\n15.csv:2", "answer": "accepted"}


def test_a_byte_order_mark_before_json_is_passed_over_as_at_the_other_doors(api):
    """Windows tools write UTF-8 with a BOM: an array so written is read, and the first of
    JSON Lines so written is an event, not an `invalid_json` line."""
    bom = b"\xef\xbb\xbf"
    answer = api.ok("/api/ingest/events", bom + orjson.dumps([sale("B-1")]))
    assert answer["summary"]["accepted"] == 1
    lines = bom + orjson.dumps(sale("B-2")) + b"\r\n" + orjson.dumps(sale("B-3")) + b"\r\n"
    answer = api.ok("/api/ingest/events", lines)
    assert [line["answer"] for line in answer["lines"]] == ["accepted", "accepted"]
    assert not api.events("LineRejected")
