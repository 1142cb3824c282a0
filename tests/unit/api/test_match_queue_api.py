"""The match queue over HTTP (embedded): the open proposals listed for the vendor's roles,
a confirmation by the channel manager mapping the reseller id (and closing the proposal),
a rejection, and the errors: a closed proposal (409), an unknown master (400; 503 while a
worker's reference replica is still reading the masters), no reason."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.health import Health
from tests.unit.api.authz_matrix import Api
from tests.unit.test_match_queue import M1, M2, TYPO, fed, onboarding

QUEUE = "/api/resellers/proposals"


@pytest.fixture
def api() -> Iterator[Api]:
    second = onboarding(20, "R5", "Acme Tolls", country="US", postal_code="94108")
    client = Api(fed(M1, M2, TYPO, second))
    yield client
    client.close()


def test_the_channel_manager_confirms_one_proposal_and_rejects_the_other(api: Api) -> None:
    status, _, body = api.call("GET", QUEUE, "cm", status="open")
    assert status == 200 and [row["alias_id"] for row in body["rows"]] == ["R2", "R5"]
    assert body["rows"][0]["candidates"][0]["master_id"] == "M1"
    status, _, answer = api.call("POST", f"{QUEUE}/D1/R2/confirm", "cm", {"reason": "same owner"})
    assert status == 202 and (answer["master_id"], answer["changed_by"]) == ("M1", "cm")
    status, _, _ = api.call("POST", f"{QUEUE}/D1/R5/reject", "cm", {"reason": "another shop"})
    assert status == 202
    assert api.call("GET", QUEUE, "cm", status="open")[2]["rows"] == []
    closed = api.call("GET", QUEUE, "admin")[2]["rows"]
    assert [(r["alias_id"], r["status"], r["closed_by"]) for r in closed] == [
        ("R2", "confirmed", "cm"), ("R5", "rejected", "cm"),
    ]  # fmt: skip
    aliases = api.call("GET", "/api/resellers/aliases", "cm", distributor_id="D1")[2]["rows"]
    [step] = next(row["history"] for row in aliases if row["alias_id"] == "R2")
    assert (step["changed_by"], step["reason"], step["automatic"]) == ("cm", "same owner", False)


def test_errors_are_json_and_name_the_problem(api: Api) -> None:
    unknown = {"reason": "x", "master_id": "M9"}
    status, _, body = api.call("POST", f"{QUEUE}/D1/R2/confirm", "cm", unknown)
    assert status == 400 and "M9" in body["error"]["message"]
    status, _, body = api.call("POST", f"{QUEUE}/D1/R2/reject", "cm", {})
    assert status == 400 and "reason" in body["error"]["message"]
    assert api.call("POST", f"{QUEUE}/D1/R2/reject", "cm", {"reason": "no"})[0] == 202
    status, _, body = api.call("POST", f"{QUEUE}/D1/R2/confirm", "admin", {"reason": "yes"})
    assert status == 409 and "rejected" in body["error"]["message"]
    status, _, body = api.call("GET", QUEUE, "cm", status="all")
    assert status == 400 and body["error"]["code"] == "bad_request"
    assert api.call("GET", QUEUE, "d01")[0] == 403


def test_a_master_not_read_yet_is_a_retry_not_an_error() -> None:
    loading = Health(None, reference=lambda: {"loaded": False, "lag_records": 12})
    api = Api(fed(M1, M2, TYPO), health=loading)
    try:
        unknown = {"reason": "x", "master_id": "M9"}
        status, _, headers, body = api.exchange("POST", f"{QUEUE}/D1/R2/confirm", "cm", unknown)
        assert status == 503 and headers["Retry-After"] == "5", body
        assert "still loading" in body["error"]["message"]
        assert api.call("POST", f"{QUEUE}/D1/R2/confirm", "cm", {"reason": "x"})[0] == 202
    finally:
        api.close()
