"""The OpenAPI 3.1 document of the HTTP API, served at GET /api/openapi.json.

Its component schemas are derived from the pydantic models of the rows (schemas/rows/) and
of the other answers and bodies (schemas/answers.py); its operations are listed in
streams/api/openapi_paths.py.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from pydantic_core import core_schema

from schemas.answers import ANSWER_MODELS
from schemas.rows import ROW_MODELS, SNAPSHOT_SECTIONS
from streams.api.openapi_operations import Schema, ref
from streams.api.openapi_paths import PATHS


class _ComponentSchema(GenerateJsonSchema):
    """Component schemas as the document shows them: no per-field titles, no defaults (a
    field with one may be absent from an answer, it is never filled in)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> Schema:
        return self.generate_inner(schema["schema"])


def model_schemas() -> dict[str, Schema]:
    """The component schema of every row model (schemas/rows/) and answer model
    (schemas/answers.py), `$ref`s to components."""
    _, definitions = models_json_schema(
        [(model, "serialization") for model in (*ROW_MODELS, *ANSWER_MODELS)],
        ref_template="#/components/schemas/{model}",
        schema_generator=_ComponentSchema,
    )
    return dict(definitions["$defs"])


def snapshot_schema() -> Schema:
    return {
        "type": "object",
        "description": (
            "Every projection as lists of rows (docs/DESIGN.md, the projection snapshot)."
        ),
        "properties": {
            section: {"type": "array", "items": ref(model.__name__)}
            for section, model in SNAPSHOT_SECTIONS.items()
        },
        "required": list(SNAPSHOT_SECTIONS),
    }


SCHEMAS: dict[str, Schema] = {**model_schemas(), "Snapshot": snapshot_schema()}

#: responses every operation may give, by status
ERRORS = {
    400: "a query parameter the route does not take (`unknown`, `parameters`), one given "
    "empty, a value it does not take, or a JSON body that is not an object its model takes "
    "(`field`: the field's path); "
    "a request the server cannot parse at all (the message begins `malformed HTTP request:`)",
    401: "no token, or an unknown one (when tokens are configured)",
    403: "the token's role may not do this, or not for this distributor",
    404: "no such resource, or a read filtered by a distributor or rebate program never "
    "heard of (`?distributor_id=`, `?program_id=`)",
    408: "the request body stopped arriving (nothing for CHANNELFLOW_BODY_TIMEOUT_SECONDS, "
    "30 s by default): nothing was done",
    409: "the change is not allowed in the current state",
    413: "the request body is larger than the configured limit",
    422: "the upload cannot be read as a whole (nothing was published)",
    503: "Kafka or PostgreSQL is not reachable, or the server's token file cannot be used: try "
    "again (a line sent again is recognized, never counted twice)",
}

#: every 401 names the scheme to answer with (RFC 6750)
CHALLENGE_HEADER: Schema = {
    "WWW-Authenticate": {"description": 'Bearer realm="channelflow"', "schema": {"type": "string"}}
}


def document() -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "channelflow API",
            "version": "1",
            "description": (
                "Reads of every projection, per distributor and channel-wide, and the "
                "commands of pricing, rebates and audit. Reads take `Authorization: Bearer "
                "<token>`; a distributor token sees only its own distributor (another one's: "
                "403). With no tokens configured (the embedded demo) reads need none. List "
                "endpoints answer pages: `rows`, `total`, `limit` (1-10000, default 1000), "
                "`offset`. Money is a decimal string, time ISO 8601 UTC. Errors are "
                '`{"error": {"status", "code", "message"}}`. In a multi-worker deployment '
                "each worker answers for the partitions it owns; the PostgreSQL read models "
                "are the shared read path."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": {
                f"E{status}": {
                    "description": text,
                    "content": {"application/json": {"schema": ref("Error")}},
                    **({"headers": CHALLENGE_HEADER} if status == 401 else {}),
                }
                for status, text in ERRORS.items()
            },
        },
    }


def add_openapi_route(app: web.Application) -> None:
    body = orjson.dumps(document(), option=orjson.OPT_INDENT_2)

    async def openapi(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app.router.add_get("/api/openapi.json", openapi)
