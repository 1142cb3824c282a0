"""Debit claims over HTTP: read from the claim's aggregate (a distributor its own only),
its 849 answer, and the lifecycle steps with their roles (403) and states (409)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from schemas.answers import Claim
from streams.api.claims import answer_849
from streams.ingest.parsers.edi849 import read_849
from tests.unit.api.ingest_api import Api
from tests.unit.api.test_row_models import field_problems, value_problems
from tests.unit.claim_events import decided_claim
from tests.unit.parsers.conftest import SAMPLES

CLAIM = "/api/claims/DIST-001/DB-1"


@pytest.fixture
def api() -> Iterator[Api]:
    client = Api()
    client.channel.audit.save(decided_claim("DIST-001", "DB-1"))
    yield client
    client.close()


def get(api: Api, path: str, token: str) -> tuple[int, str, Any]:
    async def go() -> tuple[int, str, Any]:
        response = await api.client.get(path, headers={"Authorization": f"Bearer {token}"})
        json = response.content_type == "application/json"
        return (
            response.status,
            response.content_type,
            await (response.json() if json else response.read()),
        )

    return api.loop.run_until_complete(go())


def test_a_claim_reads_as_its_aggregate_records_it(api):
    status, _, claim = get(api, CLAIM, "d1")
    assert status == 200, claim
    assert (claim["status"], claim["total_claimed"], claim["total_accepted"]) == (
        "validated",
        "3600.00",
        "3000.00",
    )
    decisions = [(line["line_no"], line["decision"]["status"]) for line in claim["lines"]]
    assert decisions == [(1, "accepted"), (2, "adjusted"), (3, "rejected")]
    assert claim["lines"][1]["decision"]["reasons"] == ["cap_partial"]
    assert claim["steps"] == [] and claim["outstanding"] is None


def test_a_distributor_reads_its_own_claims_only(api):
    status, _, answer = get(api, CLAIM, "d2")
    assert status == 403, answer
    assert get(api, f"{CLAIM}/849", "d2")[0] == 403
    status, _, answer = get(api, "/api/claims/DIST-001/DB-404", "d1")
    assert status == 404 and answer["error"]["code"] == "not_found"


def test_the_849_is_written_from_the_recorded_decisions(api):
    status, content_type, body = get(api, f"{CLAIM}/849", "d1")
    assert (status, content_type) == (200, "application/edi-x12")
    assert body == answer_849(api.channel.audit.debit_claim("DIST-001", "DB-1"))
    [response] = read_849(io.BytesIO(body))
    assert [(line.line_no, line.status) for line in response.lines] == [
        (1, "accepted"),
        (2, "adjusted"),
        (3, "rejected"),
    ]


def test_a_claim_whose_ids_x12_cannot_carry_has_no_849_and_says_why(api):
    """A CSV claim's ids may hold X12's delimiters; its 849 was a 500."""
    api.channel.audit.save(decided_claim("DIST-001", "DB*1~ST"))
    status, _, answer = get(api, "/api/claims/DIST-001/DB%2A1~ST/849", "d1")
    assert (status, answer["error"]["code"]) == (409, "conflict")
    assert "claim 'DB*1~ST' has no 849: 'DB*1~ST' holds '*~'" in answer["error"]["message"]
    assert get(api, "/api/claims/DIST-001/DB%2A1~ST", "d1")[0] == 200


def test_approve_then_pay_are_the_admins(api):
    status, answer = api.post(f"{CLAIM}/approve", {"reason": "looks right"}, "d1")
    assert status == 403, answer
    approved = api.ok(f"{CLAIM}/approve", {"reason": "checked against POS"}, token="admin")
    assert approved["status"] == "approved"
    assert approved["steps"][0]["actor"] == "admin" and approved["steps"][0]["amount"] == "3000.00"
    status, answer = api.post(f"{CLAIM}/approve", {"reason": "again"}, "admin")
    assert status == 409 and answer["error"]["code"] == "conflict"
    status, answer = api.post(f"{CLAIM}/pay", {}, "admin")
    assert status == 400 and "reference" in answer["error"]["message"]
    paid = api.ok(f"{CLAIM}/pay", {"reference": "ACH-778"}, token="admin")
    assert (paid["status"], paid["outstanding"], paid["steps"][1]["reference"]) == (
        "paid",
        "0.00",
        "ACH-778",
    )


def test_a_distributor_disputes_its_own_claim_and_the_admin_resolves(api):
    status, answer = api.post(f"{CLAIM}/dispute", {"reason": "T3 was R9's"}, "d2")
    assert status == 403, answer
    status, answer = api.post(f"{CLAIM}/dispute", {"reason": "T3 was R9's", "lines": [9]}, "d1")
    assert status == 400, answer
    disputed = api.ok(f"{CLAIM}/dispute", {"reason": "T3 was R9's", "lines": [3]}, token="d1")
    assert disputed["status"] == "disputed" and disputed["steps"][0]["lines"] == [3]
    status, answer = api.post(f"{CLAIM}/resolve", {"reason": "ok", "outcome": "upheld"}, "d1")
    assert status == 403, answer
    body = {"reason": "POS corrected", "outcome": "upheld", "granted": "300.00"}
    resolved = api.ok(f"{CLAIM}/resolve", body, token="admin")
    assert (resolved["status"], resolved["total_accepted"]) == ("validated", "3300.00")


def test_a_claim_and_a_step_body_are_their_models(api):
    api.ok(f"{CLAIM}/approve", {"reason": "checked"}, token="admin")
    _, _, found = get(api, CLAIM, "admin")
    assert field_problems(Claim, found) == []
    assert value_problems("Claim", found) == []
    assert value_problems("ClaimStep", {"reason": "T3", "lines": [3]}) == []
    assert value_problems("ClaimStep", {"outcome": "maybe"}) != []


def test_a_claim_upload_answer_is_its_model(api):
    answer = api.ok("/api/ingest/claims", (SAMPLES / "claims_good.csv").read_bytes())
    assert value_problems("IngestAnswer", answer) == []
