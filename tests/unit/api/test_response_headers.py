"""The headers every response carries (streams/api/headers.py) and the dashboard's
Content-Security-Policy, on answers made every way: a handler's, an error's, a streamed
upload's, a packaged file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from multidict import CIMultiDictProxy

from tests.unit.api.ingest_api import Api, csv_text


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    api = Api()
    yield api
    api.close()


def headers_of(
    api: Api, method: str, path: str, token: str | None = "cm", body: Any = None
) -> CIMultiDictProxy[str]:
    async def go() -> CIMultiDictProxy[str]:
        sent = {"Authorization": f"Bearer {token}"} if token else {}
        response = await api.client.request(method, path, headers=sent, data=body)
        await response.read()
        return response.headers

    return api.loop.run_until_complete(go())


@pytest.mark.parametrize(
    ("method", "path", "token", "body"),
    [
        ("GET", "/api/inventory", "cm", None),  # a read
        ("GET", "/api/scorecard.csv?period=2026-Q2", "cm", None),  # an export
        ("GET", "/api/inventory", None, None),  # 401
        ("GET", "/api/inventory?distributor_id=DIST-002", "d1", None),  # 403
        ("GET", "/api/nope", "cm", None),  # 404
        ("POST", "/api/ingest/csv?lines=all", "d1", csv_text()),  # a streamed answer
    ],
)
def test_an_answer_that_needs_a_token_is_never_stored_or_sniffed(api, method, path, token, body):
    headers = headers_of(api, method, path, token, body)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/static/dashboard.js", "/schemas", "/api/openapi.json"])
def test_an_open_file_is_cached_but_not_sniffed(api, path):
    headers = headers_of(api, "GET", path, token=None)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers.get("Cache-Control") != "no-store"


def test_the_dashboard_runs_its_own_scripts_only_and_is_framed_by_no_one(api):
    policy = headers_of(api, "GET", "/dashboard", token=None)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["frame-ancestors"] == "'none'"
