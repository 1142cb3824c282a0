"""`channelflow claims submit|show|approve|pay|credit|dispute|resolve` over real HTTP: a
claim file submitted by content, a claim shown as a table, JSON or its 849, the steps with
the token's role; refusals and no server are clear errors, never tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import orjson
import pytest

from streams.cli.main import main
from tests.live_app import LiveApp, cli_tokens
from tests.unit.claim_events import claim, decided_claim, line
from tests.unit.parsers.conftest import SAMPLES


@pytest.fixture(name="app")
def app_fixture() -> Iterator[LiveApp]:
    live = LiveApp(cli_tokens())
    live.channel.audit.save(decided_claim("D02", "DB-1"))
    yield live.start()
    live.stop()


def cli(app: LiveApp, *args: str, token: str = "adm") -> list[str]:
    return ["claims", *args, "--url", app.url, "--token", token]


def test_submit_a_claim_file_by_its_content(app: LiveApp, tmp_path: Path, capsys) -> None:
    good = tmp_path / "claims.csv"
    good.write_bytes((SAMPLES / "claims_good.csv").read_bytes().replace(b"DIST-001", b"D02"))
    assert main(cli(app, "submit", str(good), "--json", token="d02")) == 0
    answer = orjson.loads(capsys.readouterr().out)
    assert (answer["format"], answer["summary"]["accepted"]) == ("claim-csv", 2)
    assert main(cli(app, "submit", str(SAMPLES / "844_line_errors.edi"))) == 1
    assert "(844)" in capsys.readouterr().out
    assert main(cli(app, "submit", str(SAMPLES / "867_weekly.edi"))) == 2
    assert "no claim file" in capsys.readouterr().err


def test_show_a_claim_as_a_table_json_or_849(app: LiveApp, capsys) -> None:
    assert main(cli(app, "show", "D02", "DB-1", token="d02")) == 0
    shown = capsys.readouterr().out
    assert "claim DB-1 of D02: validated" in shown and "cap_partial" in shown
    assert main(cli(app, "show", "D02", "DB-1", "--json")) == 0
    assert orjson.loads(capsys.readouterr().out)["total_accepted"] == "3000.00"
    assert main(cli(app, "show", "D02", "DB-1", "--x12")) == 0
    assert capsys.readouterr().out.startswith("ISA*")


def test_the_steps_with_their_roles(app: LiveApp, capsys) -> None:
    assert main(cli(app, "approve", "D02", "DB-1", "--reason", "ok", token="d02")) == 2
    assert "HTTP 403" in capsys.readouterr().err
    assert main(cli(app, "approve", "D02", "DB-1", "--reason", "checked")) == 0
    assert "approved" in capsys.readouterr().out
    assert main(cli(app, "dispute", "D02", "DB-1", "--reason", "T3", "--lines", "3",
                    token="d02")) == 0  # fmt: skip
    assert "dispute by d02" in capsys.readouterr().out
    assert main(cli(app, "resolve", "D02", "DB-1", "--reason", "POS fixed", "--outcome",
                    "upheld", "--granted", "300.00", "--json")) == 0  # fmt: skip
    assert orjson.loads(capsys.readouterr().out)["total_accepted"] == "3300.00"
    assert main(cli(app, "pay", "D02", "DB-1", "--reference", "ACH-1")) == 2
    assert "HTTP 409" in capsys.readouterr().err  # validated again: approve first


def test_errors_without_traceback(app: LiveApp, capsys) -> None:
    assert main(cli(app, "show", "D02", "NOPE")) == 2
    assert "HTTP 404" in capsys.readouterr().err
    assert main(cli(app, "dispute", "D02", "DB-1", "--reason", "x", "--lines", "a,b")) == 2
    assert "--lines" in capsys.readouterr().err
    assert main(["claims", "show", "D02", "DB-1", "--url", "http://127.0.0.1:9"]) == 3
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


def test_list_the_claims_as_a_table_or_json(capsys) -> None:
    live = LiveApp(cli_tokens())
    # under an authorization the channel does not know: each line rejected
    for distributor in ("D02", "D03"):
        event = claim("C9", line(1, "T1", 5), distributor_id=distributor)
        live.channel.feed_events([event.model_copy(update={"event_id": uuid4()})])
    app = live.start()
    try:
        assert main(cli(app, "list", "--json", token="d02")) == 0
        [row] = orjson.loads(capsys.readouterr().out)
        assert (row["distributor_id"], row["status"]) == ("D02", "decided")
        assert (row["total_claimed"], row["reasons"]) == ("150.00", {"unknown_authorization": 1})
        assert main(cli(app, "list", "--status", "decided")) == 0
        shown = capsys.readouterr().out
        assert "D03" in shown and "1 unknown_authorization" in shown and "1 rejected" in shown
        assert main(cli(app, "list", "--status", "pending")) == 0
        assert capsys.readouterr().out == "no claims\n"
        assert main(cli(app, "list", "--distributor", "D03", token="d02")) == 2
        assert "403" in capsys.readouterr().err
    finally:
        live.stop()
