"""The errors aiohttp answers itself, before the app or its middlewares see a request: a
request line or a header it cannot parse, a line too long, a bad Content-Length, bytes
that are not HTTP (TLS on the plain port). They leave as JSON like every other error
(streams/api/errors.py), and the log gets one line for each, not aiohttp's traceback: a
port scanner does not fill the operator's log.

aiohttp offers no public way to give a server's connections another `RequestHandler`: the
runner's `_make_server` (private) makes the `web.Server` that makes them, and that server
keeps its arguments in `_loop` and `_kwargs`. tests/unit/api/test_protocol_errors.py pins
what this relies on and fails if aiohttp changes it."""

from __future__ import annotations

import logging
from http import HTTPStatus

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, ContentEncodingError
from aiohttp.web_protocol import RequestHandler

from streams.api.context import error_code, json_error
from streams.api.headers import EVERY_RESPONSE

#: a body in an encoding aiohttp knows but has no decoder for here (`br`, `zstd`): its own
#: reason asks to install one, which is the server's business, not the client's
ENCODINGS = "the request's Content-Encoding is not supported: send the body gzip, deflate or as is"

#: how much of aiohttp's reason an answer and its log line keep (it quotes the client's bytes)
REASON_CHARS = 80


def short_reason(message: str) -> str:
    """aiohttp's reason on one line, cut to REASON_CHARS: its parser's message spans lines
    (the bytes it read, then a caret under the one it refused)."""
    lines = (line.strip() for line in message.splitlines())
    said = " ".join(line for line in lines if line.strip("^"))
    return said if len(said) <= REASON_CHARS else said[: REASON_CHARS - 3] + "..."


class JsonErrorHandler(RequestHandler):
    """A connection whose own error answers are JSON, logged on one line."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp: an answer begun cannot be replaced
            raise ConnectionError("an answer was sent already: the error cannot be")
        if status >= 500:  # the server's own failure (a middleware's): its traceback helps
            self.log_exception("error answering a request from %s", request.remote, exc_info=exc)
            answer = json_error(status, "internal_error", "internal error; see the server log")
        else:
            reason = short_reason(message or HTTPStatus(status).phrase)
            # as aiohttp: bytes that are not HTTP at all, first thing on a connection, are
            # what the internet sends any open port (TLS, scanners): not worth a warning
            noise = self._request_count == 1 and isinstance(exc, BadHttpMethod)
            self.logger.log(
                logging.DEBUG if noise else logging.WARNING,
                "bad HTTP request from %s: %d %s",
                request.remote,
                status,
                reason,
            )
            malformed = f"malformed HTTP request: {reason}"
            text = ENCODINGS if isinstance(exc, ContentEncodingError) else malformed
            answer = json_error(status, error_code(HTTPStatus(status).phrase), text)
        answer.headers.update(EVERY_RESPONSE)
        answer.force_close()
        return answer


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:  # aiohttp's, with another class
        return JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class JsonErrorRunner(web.AppRunner):
    """An `AppRunner` whose connections answer their own errors as JSON."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _JsonErrorServer  # the app's server, making our handlers
        return server
