"""What aiohttp answers itself, before the app sees a request (streams/api/protocol_errors.py),
over real TCP to the app as every server serves it (`app_runner`): raw bytes on a socket,
a JSON error back, one line in the log and no traceback."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import socket
from collections.abc import Iterator

import pytest
from aiohttp import web
from aiohttp.compression_utils import HAS_BROTLI
from aiohttp.web_protocol import RequestHandler

from streams.api.protocol_errors import (
    ENCODINGS,
    REASON_CHARS,
    JsonErrorHandler,
    JsonErrorRunner,
    short_reason,
)
from streams.auth import TokenRegistry
from tests.live_app import LiveApp

#: the start of a TLS 1.2 ClientHello: a client speaking HTTPS to the plain port
CLIENT_HELLO = bytes.fromhex("16030100a5010000a1030365f1c1a2") + bytes(40)

#: what each case sends, the reason aiohttp gives (in the message), whether it is a warning
CASES = {
    "garbage-request-line": (b"GARBAGE\r\n\r\n", "Invalid method", False),
    "header-without-colon": (
        b"GET /health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
        "Invalid header token",
        True,
    ),
    "header-too-long": (
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n",
        "Got more than 8190 bytes",
        True,
    ),
    "bad-content-length": (
        b"POST /api/ingest/events HTTP/1.1\r\nHost: x\r\nContent-Length: 12a\r\n\r\n",
        "Content-Length",
        True,
    ),
    "tls-client-hello": (CLIENT_HELLO, "HTTPS", False),
}


@pytest.fixture(scope="module")
def app() -> Iterator[LiveApp]:
    live = LiveApp(TokenRegistry([])).start()
    yield live
    live.stop()


def exchange(port: int, sent: bytes) -> bytes:
    """All the server answers to `sent`, until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(sent)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("case", CASES)
def test_a_request_aiohttp_cannot_parse_is_answered_as_json(app, caplog, case):
    sent, reason, warned = CASES[case]
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    head, _, body = exchange(app.port, sent).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 400 Bad Request\r\n"), head
    headers = head.decode().lower().split("\r\n")
    assert "content-type: application/json" in headers, headers
    assert "x-content-type-options: nosniff" in headers, headers
    error = json.loads(body)["error"]
    assert error["status"] == 400 and error["code"] == "bad_request", error
    assert error["message"].startswith("malformed HTTP request: "), error
    assert reason in error["message"] and len(error["message"]) < 30 + REASON_CHARS, error
    assert "Traceback" not in caplog.text
    [line] = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert line.exc_info is None and "\n" not in line.getMessage(), line.getMessage()
    assert line.levelno == (logging.WARNING if warned else logging.DEBUG)
    assert line.getMessage().startswith("bad HTTP request from 127.0.0.1: 400 ")


def test_an_encoding_without_a_decoder_here_is_answered_with_those_there_are(app, caplog):
    """aiohttp knows `br` but has no decoder without Brotli: its reason asks to install it,
    which is the operator's business (the log line), not the client's."""
    assert not HAS_BROTLI, "Brotli is installed: send an encoding it cannot decode here"
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    sent = b"POST /api/ingest/events HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\n"
    head, _, body = exchange(app.port, sent + b"Content-Length: 5\r\n\r\nabcde").partition(
        b"\r\n\r\n"
    )
    assert head.startswith(b"HTTP/1.0 400 Bad Request\r\n"), head
    assert json.loads(body)["error"]["message"] == ENCODINGS
    [line] = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert line.levelno == logging.WARNING and "install `Brotli`" in line.getMessage()


def test_a_body_past_its_content_length_after_a_first_request_is_a_warning(app, caplog):
    """What runs past a body's Content-Length is read as the next request: not HTTP. aiohttp's
    quiet rule holds for a connection's first request only; after a good one, bytes that are
    not HTTP are a broken client, worth a warning."""
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    with socket.create_connection(("127.0.0.1", app.port), timeout=30) as conn:
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while not first.endswith(b"}"):  # /health's JSON, whole
            chunk = conn.recv(65536)
            assert chunk, first  # not closed before
            first += chunk
        conn.sendall(
            b"POST /api/ingest/events HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n"
            b'{"events": []}\r\n\r\n'
        )
        rest = b""
        while chunk := conn.recv(65536):
            rest += chunk
    assert first.startswith(b"HTTP/1.1 200 OK\r\n"), first
    last = rest[rest.rindex(b"HTTP/") :]  # the POST's own answer may come first
    head, _, body = last.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 400 Bad Request\r\n"), rest
    assert json.loads(body)["error"]["message"].startswith("malformed HTTP request: "), body
    [line] = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert line.levelno == logging.WARNING, line.getMessage()


def test_an_error_past_the_middlewares_is_a_json_500_with_its_traceback_logged(caplog):
    """What escapes the app's own `json_errors` (here a handler of a bare app: the server's
    fault, not the client's) keeps aiohttp's logged traceback; the client gets JSON."""

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    async def ask() -> bytes:
        app = web.Application()
        app.router.add_get("/", broken)
        runner = JsonErrorRunner(app)
        await runner.setup()
        listening = socket.create_server(("127.0.0.1", 0))
        await web.SockSite(runner, listening).start()
        try:
            reader, writer = await asyncio.open_connection(*listening.getsockname())
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = await reader.read()
            writer.close()
            return answer
        finally:
            await runner.cleanup()

    head, _, body = asyncio.run(ask()).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 500 Internal Server Error\r\n"), head
    error = json.loads(body)["error"]
    assert error == {
        "status": 500,
        "code": "internal_error",  # as json_errors answers an unhandled exception
        "message": "internal error; see the server log",
    }
    [line] = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert line.levelno == logging.ERROR and "RuntimeError: a bug" in caplog.text


def test_the_reason_is_one_short_line():
    aiohttps = "Invalid header token:\n\n  b'NoColonHere'\n               ^"
    assert short_reason(aiohttps) == "Invalid header token: b'NoColonHere'"
    cut = short_reason("Got more than 8190 bytes when reading: b'" + "a" * 8190 + "'.")
    assert len(cut) == REASON_CHARS and cut.endswith("aaa...")


def test_what_aiohttp_must_keep_doing():
    """The private parts of aiohttp that JsonErrorRunner relies on (protocol_errors.py): if
    this fails, aiohttp changed them; see there."""
    assert inspect.iscoroutinefunction(web.AppRunner._make_server)
    assert list(inspect.signature(RequestHandler.handle_error).parameters) == [
        "self",
        "request",
        "status",
        "exc",
        "message",
    ]

    async def made() -> RequestHandler:
        runner = JsonErrorRunner(web.Application(), keepalive_timeout=1.5)
        await runner.setup()
        assert runner.server is not None
        try:
            return runner.server()
        finally:
            await runner.cleanup()

    handler = asyncio.run(made())
    assert type(handler) is JsonErrorHandler
    assert handler._keepalive_timeout == 1.5  # the runner's arguments reach the handler
    assert handler._request_count == 0
