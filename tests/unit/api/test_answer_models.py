"""Every answer other than a page's rows is its model (schemas/answers.py), as the OpenAPI
document derives it: health, the schema list, errors, a violation, a statement, what a page
adds to its rows, an upload's answer; and the bodies the document declares accept what the
API takes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from schemas.answers import IngestAnswer, Statement, Violation
from tests.api_channel import populated_channel
from tests.unit.api.authz_matrix import OWN_STATEMENT
from tests.unit.api.ingest_api import Api as IngestApi
from tests.unit.api.ingest_api import sale
from tests.unit.api.test_row_models import field_problems, value_problems
from tests.unit.api.test_web_contract import Api


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    client = Api(populated_channel())
    yield client
    client.close()


def test_health_and_the_schema_list_are_their_models(api):
    assert value_problems("Health", api.ok("/health")) == []
    assert value_problems("SchemaList", api.ok("/schemas")) == []
    assert value_problems("Health", {"status": "fine", "mode": "x"})  # not ok nor degraded


def test_errors_are_the_error_model(api):
    status, body = api.get("/api/violations/not-a-uuid")
    assert status == 404
    assert value_problems("Error", body) == []
    status, body = api.get("/api/inventory", token=None)
    assert status == 401
    assert value_problems("Error", body) == []
    assert value_problems("Error", {"error": {"status": 400, "code": "bad_request"}})


def test_a_violation_with_its_steps_is_its_model(api):
    rows = api.ok("/api/violations", distributor_id="D01", status="acknowledged")["rows"]
    found = api.ok(f"/api/violations/{rows[0]['violation_id']}")
    assert found["steps"], "the fixture acknowledged it"
    assert field_problems(Violation, found) == []
    assert value_problems("Violation", found) == []


def test_a_statement_is_its_model(api):
    found = api.ok(OWN_STATEMENT)
    assert field_problems(Statement, found) == []
    assert value_problems("Statement", found) == []


@pytest.mark.parametrize(
    ("path", "params", "component"),
    [
        ("/api/inventory/summary", {}, "InventorySummaryTotals"),
        ("/api/sell-through", {}, "SellThroughPeriods"),
        ("/api/rebates/watchlist", {"share": "0.5"}, "WatchlistShare"),
    ],
)
def test_what_a_page_adds_is_its_model(api, path, params, component):
    page = api.ok(path, **params)
    assert value_problems("Page", page) == []
    assert value_problems(component, page) == []


def test_an_upload_answer_is_its_model():
    ingest = IngestApi()
    try:
        lines = [sale("M-1"), sale("M-2", sku="NO-SUCH-SKU")]
        answer = ingest.ok("/api/ingest/events", lines)
    finally:
        ingest.close()
    assert {line["answer"] for line in answer["lines"]} == {"accepted", "rejected"}
    assert field_problems(IngestAnswer, answer) == []
    assert value_problems("IngestAnswer", answer) == []


@pytest.mark.parametrize(
    ("component", "body", "valid"),
    [
        ("ViolationStep", {"reason": "seen"}, True),
        ("ViolationStep", {"reason": "ok", "resolution": "credited", "amount": "12.50"}, True),
        ("ViolationStep", {"resolution": "waived"}, False),
        ("ViolationStep", {"reason": "seen", "resolutoin": "waived"}, False),
        ("Payment", {"reference": "PAY-1"}, True),
        ("Payment", {}, True),  # approve: no reference
        ("Payment", {"reference": 5}, False),
        ("EventBatch", [{"event_type": "SaleReported"}], True),
        ("EventBatch", {"events": [], "report": {"report_id": "R-1"}}, True),
        ("EventBatch", "not a batch", False),
    ],
)
def test_the_documented_bodies(component: str, body: Any, valid: bool):
    assert (value_problems(component, body) == []) is valid
