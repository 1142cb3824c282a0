"""The headers every response carries, whatever made it (a handler, an error, a shared
answer, a streamed upload's answer): set just before the headers are sent (on the errors
aiohttp answers before the app sees a request, by streams/api/protocol_errors.py).

- `X-Content-Type-Options: nosniff` on all: a browser takes a JSON answer or a CSV export
  for what its Content-Type says, never for HTML it guessed from text a distributor sent.
- `Cache-Control: no-store` on every route that needs a token: an answer read with one is
  kept by no browser or proxy cache (a shared one would hand it to the next caller).
- The dashboard's page carries its own Content-Security-Policy (streams/api/dashboard.py).
"""

from __future__ import annotations

from collections.abc import Collection

from aiohttp import web

#: on every response, including those aiohttp answers itself (streams/api/protocol_errors.py)
EVERY_RESPONSE = {"X-Content-Type-Options": "nosniff"}


def add_response_headers(app: web.Application, open_paths: Collection[str]) -> None:
    """Every response of `app` gets the headers above; `open_paths` are the routes (as
    registered) that need no token."""

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(EVERY_RESPONSE)
        resource = request.match_info.route.resource
        if resource is None or resource.canonical not in open_paths:
            response.headers["Cache-Control"] = "no-store"

    app.on_response_prepare.append(on_prepare)
