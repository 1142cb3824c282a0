"""`channelflow agreements`: the API's agreement rows over real HTTP, every page, as a
table or JSON, scoped by the token; a server away or a refused token is a clear error."""

from __future__ import annotations

import orjson
import pytest

from streams.cli.main import main
from tests.live_app import LiveApp, served_fixture_channel

app = pytest.fixture(scope="module", name="app")(served_fixture_channel)


def cli(app: LiveApp, *args: str) -> list[str]:
    return ["agreements", *args, "--url", app.url]


def test_every_view_prints_the_api_rows(app: LiveApp, capsys) -> None:
    assert main([*cli(app, "obligations", "--json"), "--token", "adm"]) == 0
    rows = orjson.loads(capsys.readouterr().out)
    assert {(r["distributor_id"], r["kind"]) for r in rows} >= {
        ("D01", "over_age"),
        ("D02", "over_stock"),
    }
    assert main([*cli(app, "obligations"), "--token", "adm"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["distributor", "finding", "sku"]
    assert len(table) == len(rows) + 1
    group = next(line for line in table if "G-FAST" in line)
    assert "3.3 weeks > 2" in group and group.split()[-2:] == ["58", "–"]
    assert main([*cli(app, "versions"), "--token", "adm"]) == 0
    versions = capsys.readouterr().out
    assert "AG-D01" in versions and "M1" in versions
    assert main([*cli(app, "rates"), "--token", "adm"]) == 0
    assert "EUR" in capsys.readouterr().out


def test_commitments_print_progress_and_status(app: LiveApp, capsys) -> None:
    """D02 commits to 1,000,000 units of sell-in a month: August (closed) is short."""
    assert main([*cli(app, "commitments", "--json"), "--token", "d02"]) == 0
    rows = orjson.loads(capsys.readouterr().out)
    assert {r["distributor_id"] for r in rows} == {"D02"}
    august = next(r for r in rows if r["period"] == "2026-08")
    assert (august["status"], august["closed"]) == ("short", True)
    assert main([*cli(app, "commitments"), "--token", "d02"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["distributor", "period", "commitment"]
    line = next(line for line in table if "2026-08" in line)
    assert f"short by {august['shortfall']}" in line and "sell_in units" in line


def test_a_distributor_token_sees_its_own(app: LiveApp, capsys) -> None:
    assert main([*cli(app, "versions", "--json"), "--token", "d02"]) == 0
    assert {r["distributor_id"] for r in orjson.loads(capsys.readouterr().out)} == {"D02"}
    assert main([*cli(app, "obligations", "--distributor", "D01"), "--token", "adm"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert lines and all(line.startswith("D01") for line in lines)


def test_a_refused_token_or_no_server_is_an_error_without_traceback(app: LiveApp, capsys):
    assert main([*cli(app, "versions"), "--token", "wrong"]) == 2
    assert "HTTP 401 unauthorized: unknown token" in capsys.readouterr().err
    # the API's reason, not only "HTTP 400 Bad Request"
    assert main([*cli(app, "commitments", "--as-of", "2026-13-01"), "--token", "adm"]) == 2
    said = capsys.readouterr().err
    assert "HTTP 400 bad_request: " in said and "2026-13-01" in said, said
    assert main(["agreements", "rates", "--url", "http://127.0.0.1:9"]) == 3
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err
