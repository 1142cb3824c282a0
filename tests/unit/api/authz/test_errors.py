"""Every error of every route is JSON: 401 asks for a bearer token, 413 and an unexpected
failure too."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from streams.runners.embedded import EmbeddedChannel
from tests.unit.api.authz_matrix import (
    AUDIT,
    SCOPED,
    VENDOR,
    WRITES,
    Api,
    assert_json_error,
)

# --- every error is JSON ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "caller", "expected"),
    [
        ("GET", "/api/nope", "cm", 404),
        ("GET", "/api/violations/not-a-uuid", "cm", 404),
        ("GET", "/api/violations/00000000-0000-0000-0000-000000000000", "cm", 404),
        ("GET", "/api/audit/nope/x/history", "auditor", 400),
        ("DELETE", "/api/snapshot", "cm", 405),
        ("GET", "/api/ingest/events", "cm", 405),
        ("PUT", "/api/violations/{v01}/acknowledge", "admin", 405),
        ("POST", "/api/violations/{v01}/delete", "admin", 404),
        ("GET", "/api/inventory?limit=0", "cm", 400),
        ("GET", "/api/nope", None, 401),
    ],
)
def test_errors_are_json(api, method, path, caller, expected):
    status, content_type, body = api.call(method, path, caller)
    assert_json_error(status, content_type, body, expected)


@pytest.mark.parametrize("caller", [None, "bad"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        *(("GET", route) for route in (*SCOPED, *VENDOR, *AUDIT.values())),
        *(("POST", path) for rows in WRITES.values() for path, _, _ in rows),
    ],
)
def test_every_401_asks_for_a_bearer_token(api, method, path, caller):
    status, _, headers, body = api.exchange(method, path, caller)
    assert status == 401, body
    assert headers["WWW-Authenticate"].split()[0] == "Bearer"


def test_a_body_too_large_is_a_json_413(api):
    big = b'{"reason": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    status, content_type, body = api.call("POST", "/api/violations/{v01}/dispute", "admin", big)
    assert_json_error(status, content_type, body, 413)


def test_an_unexpected_failure_is_a_json_500():
    def broken() -> Any:
        raise RuntimeError("boom")

    client = Api(EmbeddedChannel(), stores=broken)
    try:
        status, content_type, body = client.call("GET", "/api/inventory", "cm")
        assert_json_error(status, content_type, body, 500)
        assert "boom" not in orjson.dumps(body).decode()  # no internals leak out
    finally:
        client.close()
