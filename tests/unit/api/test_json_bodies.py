"""Every command taking a JSON body answers a body it cannot take alike: 400, and when a
field is in question its path (`error.field`) and why; a field the body's model does not
have is refused, not ignored (streams/api/http_body.py). Uploads answer per line instead
(docs/INGEST.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from streams.api.openapi_paths import PATHS
from tests.unit.api.authz_matrix import Api, generated, with_claims
from tests.unit.test_match_queue import M1, M2, TYPO

#: a command of each route taking a JSON body (the admin may take every one) and a body it
#: takes
COMMANDS = {
    "/api/violations/{violation_id}/{action}": (
        "/api/violations/{v01}/resolve", {"reason": "x", "resolution": "waived"},
    ),
    "/api/rebates/statements/{program_id}/{distributor_id}/{period}/{action}": (
        "/api/rebates/statements/VPA-2026-SI/D01/2026-Q3/pay", {"reference": "PAY-1"},
    ),
    "/api/rotations/{distributor_id}/{request_id}/cancel": (
        "/api/rotations/D01/NOPE/cancel", {"reason": "sold"},
    ),
    "/api/resellers/proposals/{distributor_id}/{alias}/{action}": (
        "/api/resellers/proposals/D1/R2/confirm", {"reason": "same owner"},
    ),
    "/api/claims/{distributor_id}/{claim_id}/{action}": (
        "/api/claims/D01/DB-1/dispute", {"reason": "x", "lines": [1]},
    ),
}  # fmt: skip
PATHS_TAKEN = [path for path, _ in COMMANDS.values()]


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    channel = with_claims(generated(weeks=3))
    channel.feed_events([M1, M2, TYPO])  # a match proposal for D1's reseller R2
    client = Api(channel)
    yield client
    client.close()


def test_every_command_with_a_json_body_is_walked() -> None:
    documented = {
        route
        for route, methods in PATHS.items()
        for operation in methods.values()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
        and "ingest" not in operation["tags"]
    }
    assert documented == set(COMMANDS)


def error(api: Api, path: str, body: Any) -> dict[str, Any]:
    status, kind, answer = api.call("POST", path, "admin", body)
    assert (status, kind) == (400, "application/json"), (path, body, answer)
    assert (answer["error"]["status"], answer["error"]["code"]) == (400, "bad_request")
    return dict(answer["error"])


@pytest.mark.parametrize("path", PATHS_TAKEN)
def test_a_body_that_is_not_a_json_object_is_a_400(api: Api, path: str) -> None:
    assert error(api, path, b"reason=late")["message"].startswith("request body is not JSON: ")
    assert error(api, path, b"")["message"].startswith("request body is not JSON: ")
    assert error(api, path, ["late"])["message"] == "request body must be a JSON object"


@pytest.mark.parametrize(("path", "body"), COMMANDS.values())
def test_a_field_the_body_does_not_have_is_named(api: Api, path: str, body: Any) -> None:
    found = error(api, path, {**body, "resolutoin": "waived"})
    assert found["field"] == "resolutoin"
    assert found["message"] == "resolutoin: Extra inputs are not permitted"


RESOLVE, CLAIM = "/api/violations/{v01}/resolve", "/api/claims/D01/DB-1"
PAY = "/api/rebates/statements/VPA-2026-SI/D01/2026-Q3/pay"
CONFIRM = "/api/resellers/proposals/D1/R2/confirm"
TEXT, NOT_EMPTY = "Input should be a valid string", "a non-empty string is required"
CREDITED = {"reason": "x", "resolution": "credited"}
NOT_DECIMAL = "'twelve' is not a decimal such as \"125.00\""
LINES, INTEGER = (
    "the line numbers disputed are required, e.g. [2, 3]",
    "Input should be a valid integer",
)
OUTCOME, UNKNOWN_MASTER = (
    "Input should be 'upheld' or 'rejected'",
    "'M9' is not a registered master",
)


@pytest.mark.parametrize(
    ("path", "body", "field", "why"),
    [
        (RESOLVE, {"reason": 5}, "reason", TEXT),
        (RESOLVE, {"reason": " "}, "reason", NOT_EMPTY),
        (RESOLVE, {"reason": "x"}, "resolution", NOT_EMPTY),
        (RESOLVE, {**CREDITED, "amount": 12.5}, "amount", TEXT),
        (RESOLVE, {**CREDITED, "amount": "twelve"}, "amount", NOT_DECIMAL),
        (f"{CLAIM}/dispute", {"reason": "x"}, "lines", LINES),
        (f"{CLAIM}/dispute", {"reason": "x", "lines": [1, "2"]}, "lines.1", INTEGER),
        (f"{CLAIM}/resolve", {"reason": "x", "outcome": "won"}, "outcome", OUTCOME),
        (f"{CLAIM}/pay", {}, "reference", NOT_EMPTY),
        (PAY, {}, "reference", NOT_EMPTY),
        ("/api/rotations/D01/NOPE/cancel", {"reason": None}, "reason", TEXT),
        (CONFIRM, {}, "reason", "Field required"),
        (CONFIRM, {"reason": "x", "master_id": "M9"}, "master_id", UNKNOWN_MASTER),
    ],
)  # fmt: skip
def test_a_field_missing_or_not_taken_is_named_with_why(
    api: Api, path: str, body: Any, field: str, why: str
) -> None:
    found = error(api, path, body)
    assert (found["field"], found["message"]) == (field, f"{field}: {why}")
