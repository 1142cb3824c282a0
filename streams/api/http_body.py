"""Reading a request body with a deadline.

A client that declares a body (Content-Length: 1000000) and sends nothing would hold its
handler, and what the handler holds, until the client gives up: aiohttp waits for a body
as long as the connection stays open. Every body read goes through `within`, answered
408 (JSON, like every error) when the bytes stop coming. A JSON body (`json_body`) is an
object, or 400.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import orjson
from aiohttp import web

T = TypeVar("T")


async def within(read: Awaitable[T], seconds: float) -> T:
    """`read`'s result, or 408 when it has not come within `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            return await read
    except TimeoutError:
        raise web.HTTPRequestTimeout(
            text=f"the request body stopped arriving: nothing came for {seconds:g} s "
            "(CHANNELFLOW_BODY_TIMEOUT_SECONDS sets how long); nothing was done"
        ) from None


async def json_body(request: web.Request, seconds: float) -> dict[str, Any]:
    """The request's body, a JSON object (else 400), read `within` the seconds given."""
    try:
        body = orjson.loads(await within(request.read(), seconds))
    except orjson.JSONDecodeError as exc:
        raise web.HTTPBadRequest(text=f"request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="request body must be a JSON object")
    return body


def required_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise web.HTTPBadRequest(text=f"{name}: a non-empty string is required")
    return value
