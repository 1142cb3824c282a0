"""The CLI's bearer token goes to the server it was given for, never to the host a
redirect points at (urllib follows redirects to any host, with the headers it was given)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from streams.cli.ingest_http import _post_once
from streams.cli.support import call_api, get_json


class Elsewhere(BaseHTTPRequestHandler):
    """The host redirected to: records the Authorization header of each request."""

    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        Elsewhere.seen.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_: object) -> None:
        pass


def redirecting_to(target: str) -> type[BaseHTTPRequestHandler]:
    class Redirect(BaseHTTPRequestHandler):
        def redirect(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(302)
            self.send_header("Location", f"{target}/stolen")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = redirect

        def log_message(self, *_: object) -> None:
            pass

    return Redirect


@pytest.fixture
def servers() -> Iterator[str]:
    """The URL of a server that redirects every request to another host (port)."""
    started = []
    elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    target = f"http://127.0.0.1:{elsewhere.server_address[1]}"
    redirect = ThreadingHTTPServer(("127.0.0.1", 0), redirecting_to(target))
    for server in (elsewhere, redirect):
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
    Elsewhere.seen = []
    yield f"http://127.0.0.1:{redirect.server_address[1]}"
    for server in started:
        server.shutdown()
        server.server_close()


CALLS: dict[str, Callable[[str], object]] = {
    "get": lambda url: get_json(url, "/api/inventory", "secret", "inventory"),
    "post": lambda url: call_api(url, "/api/claims/D/C/approve", "secret", "approve", {}),
    "ingest": lambda url: _post_once(
        f"{url}/api/ingest/csv", "secret", iter([b"x"]), 1, "text/csv"
    ),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_redirect_does_not_take_the_token_along(servers, call):
    call(servers)
    assert Elsewhere.seen == [None]
