"""Reading a request body with a deadline.

A client that declares a body (Content-Length: 1000000) and sends nothing would hold its
handler, and what the handler holds, until the client gives up: aiohttp waits for a body
as long as the connection stays open. Every body read goes through `within`, answered
408 (JSON, like every error) when the bytes stop coming.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

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
