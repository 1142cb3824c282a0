"""Reading a request body with a deadline.

A client that declares a body (Content-Length: 1000000) and sends nothing would hold its
handler, and what the handler holds, until the client gives up: aiohttp waits for a body
as long as the connection stays open. Every body read goes through `within`, answered
408 (JSON, like every error) when the bytes stop coming.

A command's JSON body (`json_body`) is read against the model its operation documents
(schemas/answers.py, `ApiBody`): a body that is not JSON or not an object, a field
missing, of the wrong type or not among the model's is a 400; one naming a field says which
(`field`, its path, and why: `InvalidField`). Uploads (streams/api/ingest.py) answer
line by line instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

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


class InvalidField(Exception):
    """A JSON body's field missing or not what the operation takes: a 400 naming it."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field


async def json_body(request: web.Request, seconds: float, model: type[BaseModel]) -> dict[str, Any]:
    """The request's body, read `within` the seconds given: a JSON object `model` takes as
    it is (strictly: no field of another type, none it does not have), else 400."""
    try:
        body = orjson.loads(await within(request.read(), seconds))
    except orjson.JSONDecodeError as exc:
        raise web.HTTPBadRequest(text=f"request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="request body must be a JSON object")
    try:
        model.model_validate(body, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidField(".".join(map(str, first["loc"])), first["msg"]) from None
    return body


def required_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidField(name, "a non-empty string is required")
    return value
