"""The events' JSON Schemas over HTTP, for producers not written in Python. No token: they
describe the wire format, not anyone's data.

  GET /schemas          every schema: its file name, event type, version and address
  GET /schemas/{name}   one of them (application/schema+json), e.g. /schemas/SaleReported.v1.json

The files are the ones in `schemas/json/` (python -m schemas.jsonschema writes them; a test
fails when they are stale), so each schema's `$id` ends with the path it is served under.
"""

from __future__ import annotations

from importlib import resources

import orjson
from aiohttp import web

from streams.api.dashboard import packaged_file

SCHEMA_FILES = resources.files("schemas") / "json"


def add_schema_routes(app: web.Application) -> None:
    names = sorted(f.name for f in SCHEMA_FILES.iterdir() if f.name.endswith(".json"))
    listing = [
        {"name": name, "type": kind, "version": int(version[1:]), "url": f"/schemas/{name}"}
        for name in names
        for kind, version, _ in [name.split(".")]
    ]

    async def index(_: web.Request) -> web.Response:
        return web.Response(
            body=orjson.dumps({"schemas": listing}, option=orjson.OPT_INDENT_2),
            content_type="application/json",
        )

    async def schema(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in names:
            raise web.HTTPNotFound(text=f"no schema {name!r}: the list is at /schemas")
        return packaged_file(SCHEMA_FILES / name, "application/schema+json")

    app.router.add_get("/schemas", index)
    app.router.add_get("/schemas/{name}", schema)
