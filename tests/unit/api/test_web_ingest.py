"""HTTP ingest over the embedded runner: who may submit what, the answer per line, what is
published (and in which order), and what the projections make of it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import gzip
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from aiokafka.errors import KafkaTimeoutError

from domain.roles import Role
from schemas.codec import decode_event, encode_event
from schemas.events import LineRejected, ProductDefined, ReportSubmitted, SaleReported
from streams.api import ingest as web_ingest
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.auth import TokenRegistry, token_hash
from streams.kafka.messages import Message
from streams.runners.embedded import EmbeddedChannel
from tests.unit.api.test_web_violations import silent_body
from tests.unit.parsers.conftest import SAMPLES
from tests.unit.parsers.edi_builder import interchange

TOKENS = {
    "d1": (Role.DISTRIBUTOR, "DIST-001"),
    "d2": (Role.DISTRIBUTOR, "DIST-002"),
    "admin": (Role.ADMIN, None),
    "cm": (Role.CHANNEL_MANAGER, None),
    "auditor": (Role.AUDITOR, None),
}
AT = datetime(2026, 4, 7, 10, tzinfo=UTC)


def catalog() -> list[ProductDefined]:
    def product(sku: str, **fields: Any) -> ProductDefined:
        return ProductDefined.model_validate(
            {
                "event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"product:{sku}"),
                "occurred_at": datetime(2026, 1, 1, tzinfo=UTC),
                "source": "erp",
                "sku": sku,
                "base_unit": "EA",
                **fields,
            }
        )

    return [
        product(
            "WIDGET-100",
            unit_conversions={"CA": 12},
            identifiers={"upc": "012345678905", "vendor_part": "WID-100-BLU"},
        ),
        product("GADGET-200", unit_conversions={"CA": 6}),
    ]


class Api:
    """The app over an embedded channel on a test server, called synchronously; every
    message it publishes is recorded (in order) before the channel applies it."""

    def __init__(self, tokens: TokenRegistry | None = None) -> None:
        self.channel = EmbeddedChannel()
        self.channel.feed_events(catalog())
        self.published: list[Message] = []
        #: raised by the publisher instead of publishing (a broker that cannot be reached)
        self.broker_error: Exception | None = None
        registry = tokens or TokenRegistry(
            [
                {"sha256": token_hash(token), "role": role.value, "actor": token}
                | ({"distributor_id": distributor} if distributor else {})
                for token, (role, distributor) in TOKENS.items()
            ]
        )

        async def submit(messages: Sequence[Message]) -> None:
            if self.broker_error is not None:
                raise self.broker_error
            self.published.extend(messages)
            await self.channel.submit(messages)

        context = dataclasses.replace(
            ApiContext.of_channel(self.channel, registry, "test"), submit=submit
        )
        self.loop = asyncio.new_event_loop()
        self.client = TestClient(TestServer(make_web_app(context)), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())

    def post(
        self,
        path: str,
        body: Any,
        token: str | None = "d1",
        headers: dict[str, str] | None = None,
        **params: str,
    ) -> tuple[int, Any]:
        async def go() -> tuple[int, Any]:
            sent = {"Authorization": f"Bearer {token}"} if token else {}
            sent.update(headers or {})
            data = body if isinstance(body, bytes | FormData) else orjson.dumps(body)
            response = await self.client.post(path, data=data, params=params, headers=sent)
            assert response.content_type == "application/json", await response.text()
            return response.status, await response.json()

        return self.loop.run_until_complete(go())

    def ok(self, path: str, body: Any, token: str = "d1", **params: str) -> Any:
        status, answer = self.post(path, body, token, None, **params)
        assert status == 200, answer
        return answer

    def get(self, path: str) -> Any:
        async def go() -> Any:
            response = await self.client.get(path, headers={"Authorization": "Bearer admin"})
            return await (
                response.json() if response.content_type.endswith("json") else response.text()
            )

        return self.loop.run_until_complete(go())

    def events(self, event_type: str | None = None) -> list[Any]:
        found = [decode_event(m.value) for m in self.published]
        return [e for e in found if event_type is None or e.event_type == event_type]

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@pytest.fixture
def api() -> Iterator[Api]:
    client = Api()
    yield client
    client.close()


def sale(transaction: str, distributor: str = "DIST-001", **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "event_type": "SaleReported",
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{distributor}:{transaction}")),
        "occurred_at": "2026-04-07T10:00:00Z",
        "source": "kafka",
        "distributor_id": distributor,
        "transaction_id": transaction,
        "reseller_id": "RES-1",
        "sku": "WIDGET-100",
        "quantity": 3,
        "unit_price": "12.50",
        "currency": "USD",
        "sold_at": "2026-04-07T10:00:00Z",
    }
    values.update(fields)
    return values


def csv_text(*lines: str, distributor: str = "DIST-001") -> bytes:
    header = "distributor_id,transaction_id,reseller_id,sku,quantity,unit_price,currency,sold_at"
    rows = [f"{distributor},{line}" for line in lines]
    return ("\n".join([header, *rows]) + "\n").encode()


def row(answer: dict[str, Any], line: int) -> dict[str, Any]:
    return next(found for found in answer["lines"] if found["line"] == line)


def inventory(api: Api, distributor: str, sku: str) -> dict[str, Any]:
    rows = api.channel.snapshot()["inventory"]
    return next(r for r in rows if (r["distributor_id"], r["sku"]) == (distributor, sku))


def quality(api: Api, distributor: str) -> dict[str, Any]:
    return next(r for r in api.channel.snapshot()["quality"] if r["distributor_id"] == distributor)


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
    status, error = api.post("/api/ingest/events", b"{not json")
    assert (status, error["error"]["code"]) == (422, "invalid_json")
    status, error = api.post("/api/ingest/events", {"events": "nope"})
    assert (status, error["error"]["code"]) == (422, "invalid_batch")


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


# --- CSV -----------------------------------------------------------------------------


def test_csv_report_answers_per_line_and_is_published_header_first(api):
    body = (SAMPLES / "sales_dist002_w15.csv").read_bytes()
    answer = api.ok("/api/ingest/csv", body, "d2", filename="w15.csv")
    assert answer["reports"] == [
        {
            "report_id": "DIST-002-2026W15",
            "replaces": None,
            "distributor_id": "DIST-002",
            "period_start": "2026-04-06",
            "period_end": "2026-04-11",
            "line_count": 8,
            "published": True,
        }
    ]
    summary = answer["summary"]
    assert (summary["lines"], summary["accepted"], summary["rejected"]) == (8, 5, 3)
    assert summary["rejected_by_reason"] == {"bad_date": 1, "bad_quantity": 1, "unknown_sku": 1}
    problems = {line["line"]: (line["reason"], line.get("field")) for line in answer["lines"]}
    assert problems == {
        6: ("bad_quantity", "quantity"),
        7: ("unknown_sku", None),
        8: ("bad_date", "sold_at"),
    }
    assert row(answer, 6)["ref"] == "w15.csv:6"
    header, *lines = api.events()
    assert isinstance(header, ReportSubmitted) and header.line_count == 8
    assert {type(e).__name__ for e in lines} == {"SaleReported", "LineRejected"}
    # 12 + 4 + 12 (one case, by UPC) - 2 = 26 units of WIDGET-100; 2 cases of GADGET-200
    assert inventory(api, "DIST-002", "WIDGET-100")["sell_through"] == 26
    assert inventory(api, "DIST-002", "GADGET-200")["sell_through"] == 12
    counted = quality(api, "DIST-002")
    assert counted["accepted"] == 5
    assert counted["rejected_by_reason"] == {"bad_date": 1, "bad_quantity": 1, "unknown_sku": 1}
    dead = {letter.reason: letter for letter in api.channel.dead_letters}
    assert dead["bad_quantity"].original.startswith(
        b'DIST-002,INV7004-1,RES-320,WIDGET-100,,,"1,200"'
    )


def test_lines_all_lists_every_line_and_a_resend_is_answered_duplicate(api):
    body = (SAMPLES / "sales_dist002_w15.csv").read_bytes()
    api.ok("/api/ingest/csv", body, "d2")
    again = api.ok("/api/ingest/csv", body, "d2", lines="all")
    assert len(again["lines"]) == 8
    assert again["summary"]["duplicate"] == 5
    assert quality(api, "DIST-002")["accepted"] == 5  # nothing counted twice


def test_csv_replacement_reverses_the_replaced_report(api):
    api.ok(
        "/api/ingest/csv", csv_text("C-1,RES-1,WIDGET-100,10,12.50,USD,2026-04-07"), report_id="W15"
    )
    corrected = csv_text("C-1,RES-1,WIDGET-100,7,12.50,USD,2026-04-07")
    answer = api.ok("/api/ingest/csv", corrected, report_id="W15-B", replaces="W15")
    assert answer["summary"]["accepted"] == 1
    assert answer["reports"][0]["replaces"] == "W15"
    assert inventory(api, "DIST-001", "WIDGET-100")["sell_through"] == 7


def test_multipart_upload_and_options_checked(api):
    form = FormData()
    form.add_field(
        "file",
        csv_text("C-1,RES-1,WIDGET-100,1,1.00,USD,2026-04-07"),
        filename="week.csv",
        content_type="text/csv",
    )
    answer = api.ok("/api/ingest/csv", form, lines="all")
    assert answer["file"] == "week.csv" and answer["lines"][0]["ref"] == "week.csv:2"
    status, error = api.post("/api/ingest/csv", csv_text(), replaces="X")
    assert (status, error["error"]["code"]) == (400, "bad_request")
    assert api.post("/api/ingest/csv", csv_text(), period_start="2026-04-06")[0] == 400


def test_a_bad_csv_header_is_refused_whole(api):
    status, answer = api.post("/api/ingest/csv", b"distributor_id,qty,sku\nDIST-001,1,S\n")
    assert status == 422
    error = answer["error"]
    assert error["code"] == "bad_csv_header" and "qty" in error["unknown"]
    assert "quantity" in error["missing"]
    assert api.published == []


# --- X12 -----------------------------------------------------------------------------


def test_867_then_its_replacement(api):
    weekly = api.ok("/api/ingest/edi", (SAMPLES / "867_weekly.edi").read_bytes())
    assert weekly["format"] == "867" and weekly["summary"]["accepted"] == 5
    assert inventory(api, "DIST-001", "WIDGET-100")["sell_through"] == 32  # 10+5+20-3
    replace = api.ok("/api/ingest/edi", (SAMPLES / "867_replace.edi").read_bytes(), lines="all")
    report = replace["reports"][0]
    assert (report["purpose"], report["replaces"]) == ("replace", "RPT-2026-W14")
    assert [line["answer"] for line in replace["lines"]] == ["accepted"] * 3
    assert inventory(api, "DIST-001", "WIDGET-100")["sell_through"] == 9  # 10-1
    assert inventory(api, "DIST-001", "GADGET-200")["sell_through"] == 12
    # each report's header went out before its lines
    kinds = [m.event_type for m in api.published]
    assert kinds == ["ReportSubmitted", *["SaleReported"] * 5] * 1 + [
        "ReportSubmitted",
        *["SaleReported"] * 3,
    ]


def test_867_quantity_sold_is_read_and_other_quantities_are_listed_as_ignored(api):
    answer = api.ok("/api/ingest/edi", (SAMPLES / "867_qty32.edi").read_bytes())
    assert answer["summary"]["accepted"] == 3 and answer["summary"]["rejected"] == 0
    assert inventory(api, "DIST-001", "WIDGET-100")["sell_through"] == 2  # 4 sold, 2 back
    report = answer["reports"][0]
    assert report["ignored_count"] == 1
    assert report["ignored"] == [
        {"segment": 14, "line": 1, "code": "QTY*17", "description": "quantity on hand",
         "quantity": "120"},
    ]  # fmt: skip


def test_867_line_errors_name_segment_and_element(api):
    answer = api.ok("/api/ingest/edi", (SAMPLES / "867_line_errors.edi").read_bytes())
    rejected = [line for line in answer["lines"] if line["answer"] == "rejected"]
    quantity = next(line for line in rejected if line["reason"] == "bad_quantity")
    assert quantity["field"] == "QTY02" and "segment" in quantity["ref"]
    ptd = next(line for line in rejected if line["reason"] == "unsupported_ptd_type")
    assert ptd["field"] == "PTD01" and "return to vendor" in ptd["detail"]
    letters = [e for e in api.events() if isinstance(e, LineRejected)]
    assert len(letters) == answer["summary"]["rejected"] - answer["summary"][
        "rejected_by_reason"
    ].get("unknown_sku", 0) - answer["summary"]["rejected_by_reason"].get("unknown_unit", 0)
    assert all(base64.b64decode(e.original_b64).startswith(b"PTD*") for e in letters)


def test_a_report_error_rejects_every_line_of_its_report(api):
    body = (SAMPLES / "867_weekly.edi").read_bytes().replace(b"CTT*5*40~", b"CTT*4*40~")
    body = body.replace(b"LIN*2*VP*GADGET-200", b"LIN*2*VP*NOPE-1")  # unknown: its own reason
    answer = api.ok("/api/ingest/edi", body)
    assert answer["reports"][0]["report_errors"][0]["reason"] == "ctt_mismatch"
    assert answer["reports"][0]["published"] is False
    assert answer["summary"]["rejected_by_reason"] == {"ctt_mismatch": 4, "unknown_sku": 1}
    rejections = api.events()
    assert {e.event_type for e in rejections} == {"LineRejected"}  # no line, no header
    assert sorted(e.reason for e in rejections) == ["ctt_mismatch"] * 4 + ["unknown_sku"]
    assert quality(api, "DIST-001")["rejected_by_reason"] == {"ctt_mismatch": 4, "unknown_sku": 1}


def test_a_report_error_rejects_every_count_of_an_852(api):
    """As in an 867: each count the report would have given is answered and dead-lettered
    with the report's reason and its ZA segment; lines in error keep their own."""
    body = (SAMPLES / "852_weekly.edi").read_bytes().replace(b"CTT*6~", b"CTT*5~")
    answer = api.ok("/api/ingest/edi", body, format="852", lines="all")
    assert answer["reports"][0]["report_errors"][0]["reason"] == "ctt_mismatch"
    summary = answer["summary"]
    assert (summary["lines"], summary["accepted"]) == (7, 0)
    assert summary["rejected_by_reason"] == {
        "ctt_mismatch": 5, "missing_item": 1, "negative_on_hand": 1
    }  # fmt: skip
    lines = [line["line"] for line in answer["lines"]]
    assert lines == sorted(lines)  # in file order
    rejections = api.events()
    assert {e.event_type for e in rejections} == {"LineRejected"}
    withheld = [e for e in rejections if e.reason == "ctt_mismatch"]
    assert len(withheld) == 5
    assert all(base64.b64decode(e.original_b64).startswith(b"ZA*") for e in withheld)
    assert quality(api, "DIST-001")["rejected"] == 7


def test_852_counts_reach_the_inventory(api):
    answer = api.ok("/api/ingest/edi", (SAMPLES / "852_weekly.edi").read_bytes(), format="852")
    report = answer["reports"][0]
    assert report["report_id"] == "INVRPT-2026-W14" and report["ignored_count"] >= 5
    counted = inventory(api, "DIST-001", "WIDGET-100")
    assert counted["last_count_on_hand"] == 120
    reasons = answer["summary"]["rejected_by_reason"]
    assert reasons["negative_on_hand"] == 1 and reasons["missing_item"] == 1


WEEKLY = (SAMPLES / "867_weekly.edi").read_bytes()


@pytest.mark.parametrize(
    ("body", "params", "code", "segment"),
    [
        ((SAMPLES / "867_weekly.edi").read_bytes()[:700], {}, "x12_structure", 28),
        (WEEKLY[:106] + WEEKLY[106:].replace(b"*", b"|"), {}, "x12_structure", 2),
        (b"hello", {}, "x12_structure", 1),
        ((SAMPLES / "867_weekly.edi").read_bytes(), {"format": "852"}, "wrong_format", None),
        (interchange(["BIG*20260406*1"], set_id="810"), {}, "unsupported_transaction_set", None),
    ],
)
def test_unreadable_interchanges_are_refused_whole(api, body, params, code, segment):
    status, answer = api.post("/api/ingest/edi", body, **params)
    assert (status, answer["error"]["code"]) == (422, code), answer
    assert answer["error"].get("segment") == segment
    assert api.published == []


def test_x12_options_are_the_reports_own(api):
    status, answer = api.post(
        "/api/ingest/edi", (SAMPLES / "867_weekly.edi").read_bytes(), replaces="X"
    )
    assert status == 400 and "report itself" in answer["error"]["message"]


# --- business-date plausibility ------------------------------------------------------

#: a sale date that lies in the future, and one no business date can be (as the sender wrote it)
IMPLAUSIBLE = [("future_date", "2062-08-18"), ("date_out_of_range", "9999-12-31")]


def implausible_lines(answer: dict[str, Any], reason: str) -> list[dict[str, Any]]:
    found = [line for line in answer["lines"] if line["answer"] == "rejected"]
    assert [line["reason"] for line in found] == [reason], answer["lines"]
    return found


def assert_dead_lettered(api: Api, reason: str, distributor: str = "DIST-001") -> LineRejected:
    """The line went out as a LineRejected (never as its event) and was dead-lettered."""
    letters = [e for e in api.events("LineRejected") if e.reason == reason]
    assert len(letters) == 1 and letters[0].distributor_id == distributor
    assert [letter.reason for letter in api.channel.dead_letters] == [reason]
    assert quality(api, distributor)["rejected_by_reason"] == {reason: 1}
    return letters[0]


@pytest.mark.parametrize(("reason", "day"), IMPLAUSIBLE)
def test_an_implausible_date_in_a_json_batch_is_rejected_naming_the_field(api, reason, day):
    far = sale("F-1", sold_at=f"{day}T00:00:00Z")
    answer = api.ok("/api/ingest/events", [sale("F-0"), far])
    (line,) = implausible_lines(answer, reason)
    assert (line["line"], line["field"]) == (2, "sold_at")
    assert line["detail"].startswith(f"sold_at: {day}T00:00:00Z is ")
    letter = assert_dead_lettered(api, reason)
    assert orjson.loads(base64.b64decode(letter.original_b64)) == far  # the bytes as sent
    assert [e.transaction_id for e in api.events("SaleReported")] == ["F-0"]


@pytest.mark.parametrize(("reason", "day"), IMPLAUSIBLE)
def test_an_implausible_date_in_a_csv_is_rejected_and_not_its_reports_period(api, reason, day):
    body = csv_text(
        "C-1,RES-1,WIDGET-100,1,12.50,USD,2026-04-07", f"C-2,RES-1,WIDGET-100,1,12.50,USD,{day}"
    )
    answer = api.ok("/api/ingest/csv", body, filename="w.csv")
    (line,) = implausible_lines(answer, reason)
    assert (line["line"], line["ref"], line["field"]) == (3, "w.csv:3", "sold_at")
    assert (answer["reports"][0]["period_end"], answer["reports"][0]["published"]) == (
        "2026-04-07",
        True,
    )
    letter = assert_dead_lettered(api, reason)
    assert orjson.loads(base64.b64decode(letter.original_b64))["transaction_id"] == "C-2"
    assert [e.transaction_id for e in api.events("SaleReported")] == ["C-1"]


@pytest.mark.parametrize(("reason", "day"), IMPLAUSIBLE)
def test_an_implausible_date_in_an_867_is_rejected_with_its_segments(api, reason, day):
    body = WEEKLY.replace(b"DTM*003*20260404~", f"DTM*003*{day.replace('-', '')}~".encode())
    answer = api.ok("/api/ingest/edi", body)
    (line,) = implausible_lines(answer, reason)
    assert line["field"] == "sold_at" and "segment 42" in line["ref"]
    assert answer["summary"]["accepted"] == 4 and answer["reports"][0]["published"]
    letter = assert_dead_lettered(api, reason)
    assert base64.b64decode(letter.original_b64).startswith(b"PTD*BN~")


def test_an_implausible_count_date_in_an_852_is_rejected(api):
    body = (SAMPLES / "852_weekly.edi").read_bytes()
    body = body.replace(b"ZA*QA*9*CA*007*20260402~", b"ZA*QA*9*CA*007*20620818~")
    answer = api.ok("/api/ingest/edi", body, format="852")
    far = [line for line in answer["lines"] if line.get("reason") == "future_date"]
    assert [(line["field"], line["line"]) for line in far] == [("counted_at", 21)]
    assert not [e for e in api.events("InventoryCounted") if e.counted_at.year == 2062]


def test_a_report_whose_period_cannot_be_is_rejected_as_a_whole(api):
    body = WEEKLY.replace(b"DTM*090*20260330~", b"DTM*090*20620801~").replace(
        b"DTM*091*20260405~", b"DTM*091*20620807~"
    )
    answer = api.ok("/api/ingest/edi", body)
    assert answer["reports"][0]["published"] is False
    assert answer["summary"]["rejected_by_reason"] == {"future_date": 5}
    assert "period_start: 2062-08-01 is after" in answer["lines"][0]["detail"]
    assert {e.event_type for e in api.events()} == {"LineRejected"}
    csv = csv_text("C-1,RES-1,WIDGET-100,1,12.50,USD,2026-04-07")
    answer = api.ok("/api/ingest/csv", csv, period_start="1999-12-27", period_end="2000-01-02")
    assert answer["summary"]["rejected_by_reason"] == {"date_out_of_range": 1}
    assert answer["reports"][0]["published"] is False


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
