"""The OpenAPI document: valid OpenAPI 3.1, served by the app, and listing exactly the
app's routes (a route added without documenting it fails here)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate

from streams.api.app import OPEN_PATHS, make_web_app
from streams.api.context import ApiContext
from streams.api.openapi import document
from streams.auth import TokenRegistry, token_hash
from streams.runners.embedded import EmbeddedChannel

METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


@pytest.fixture(scope="module")
def app() -> web.Application:
    channel = EmbeddedChannel()
    tokens = TokenRegistry([{"sha256": token_hash("t"), "role": "admin", "actor": "a"}])
    context = ApiContext.of_channel(channel, tokens, "test")
    return make_web_app(context)


def routes(app: web.Application) -> set[tuple[str, str]]:
    """(path, method) of every route; HEAD is aiohttp's automatic twin of each GET."""
    return {
        (route.resource.canonical, route.method.lower())
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item}


def test_the_document_is_valid_openapi_3_1():
    doc = document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_it_lists_exactly_the_routes_of_the_app(app):
    doc = document()
    assert {method for _, method in documented(doc)} <= METHODS
    missing = routes(app) - documented(doc)
    stale = documented(doc) - routes(app)
    assert not missing, f"routes not in streams/api/openapi.py: {sorted(missing)}"
    assert not stale, f"documented routes the app does not have: {sorted(stale)}"


def test_path_parameters_are_the_routes_placeholders():
    for path, item in document()["paths"].items():
        placeholders = set(re.findall(r"{(\w+)}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == placeholders, f"{method.upper()} {path}"


def test_open_routes_are_documented_without_security():
    doc = document()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    open_paths = {
        path
        for path, item in doc["paths"].items()
        for operation in item.values()
        if operation.get("security") == []
    }
    assert open_paths == OPEN_PATHS


def test_every_operation_documents_its_errors_with_the_error_schema():
    doc = document()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            codes = {int(code) for code in operation["responses"]}
            if operation.get("security") != []:
                assert {401, 403} <= codes, f"{method.upper()} {path}"
            for code in codes - {200, 202, 302}:
                assert operation["responses"][str(code)] == {
                    "$ref": f"#/components/responses/E{code}"
                }
    error = doc["components"]["responses"]["E400"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}


def test_the_app_serves_it_without_a_token(app):
    async def fetch() -> tuple[int, Any]:
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            assert (await client.get("/api/snapshot")).status == 401  # tokens are on
            response = await client.get("/api/openapi.json")
            return response.status, await response.json()
        finally:
            await client.close()

    status, body = asyncio.run(fetch())
    assert status == 200
    assert body == document()
