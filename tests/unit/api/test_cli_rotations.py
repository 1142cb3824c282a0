"""`channelflow rotations list|show`: the API's rotation rows over real HTTP, as a table or
JSON, scoped by the token; a missing request, bad ids or no server are clear errors."""

from __future__ import annotations

import orjson
import pytest

from streams.cli.main import main
from tests.live_app import LiveApp, served_fixture_channel

app = pytest.fixture(scope="module", name="app")(served_fixture_channel)


def cli(app: LiveApp, *args: str) -> list[str]:
    return ["rotations", *args, "--url", app.url]


def test_list_prints_every_request_and_show_one(app: LiveApp, capsys) -> None:
    assert main([*cli(app, "list", "--json"), "--token", "adm"]) == 0
    rows = orjson.loads(capsys.readouterr().out)
    assert [(r["distributor_id"], r["request_id"]) for r in rows] == [
        ("D01", "ROT-1"), ("D01", "ROT-2"), ("D02", "ROT-1"),
    ]  # fmt: skip
    assert main([*cli(app, "list"), "--token", "adm"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["distributor", "request", "requested"] and len(table) == 4
    assert main([*cli(app, "show", "D02", "ROT-1"), "--token", "adm"]) == 0
    shown = capsys.readouterr().out
    assert "return_shipment_id" in shown and rows[2]["status"] in shown
    assert main([*cli(app, "show", "D02", "ROT-1", "--json"), "--token", "adm"]) == 0
    assert orjson.loads(capsys.readouterr().out) == rows[2]


def test_a_distributor_token_sees_its_own(app: LiveApp, capsys) -> None:
    assert main([*cli(app, "list", "--json"), "--token", "d02"]) == 0
    assert {r["distributor_id"] for r in orjson.loads(capsys.readouterr().out)} == {"D02"}
    assert main([*cli(app, "show", "D01", "ROT-1"), "--token", "d02"]) == 2
    assert "HTTP 403" in capsys.readouterr().err


def test_errors_without_traceback(app: LiveApp, capsys) -> None:
    assert main([*cli(app, "show", "D01", "NOPE"), "--token", "adm"]) == 2
    assert "HTTP 404" in capsys.readouterr().err
    assert main([*cli(app, "show", "D01"), "--token", "adm"]) == 2
    assert "DISTRIBUTOR REQUEST_ID" in capsys.readouterr().err
    assert main(["rotations", "list", "--url", "http://127.0.0.1:9"]) == 3
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", ["/", "/api", "/api/"])
def test_the_api_base_pasted_as_url_is_the_server(app: LiveApp, capsys, suffix: str) -> None:
    """`--url http://host:port/api` (the API's base, from a browser) asked /api/api/..."""
    assert main([*cli(app, "list", "--json"), "--token", "adm"]) == 0
    expected = orjson.loads(capsys.readouterr().out)
    assert main(["rotations", "list", "--json", "--url", app.url + suffix, "--token", "adm"]) == 0
    assert orjson.loads(capsys.readouterr().out) == expected
