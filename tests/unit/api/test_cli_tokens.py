"""Commands that talk to a server take the bearer token from --token-file or CHANNELFLOW_TOKEN
too (--token shows in `ps`); a token file others can read is refused, as ssh refuses a key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from domain.roles import Role
from infra.eventstore import open_audit_log
from schemas.codec import encode_event
from streams.auth import TokenRegistry, create_token, token_hash
from streams.cli import ingest_http as cli_ingest
from streams.cli.main import main
from streams.cli.support import UserError, read_token_file
from tests.live_app import LiveApp
from tests.unit.api.ingest_api import catalog, sale
from tests.unit.parsers.conftest import SAMPLES

UPLOAD = ["ingest", str(SAMPLES / "sales_good.csv")]


def secret_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def empty_store(directory: Path) -> str:
    """The URL of an audit store with nothing recorded (verify reads a store that is there)."""
    url = f"sqlite:///{directory / 'audit.db'}"
    open_audit_log(url)
    return url


@pytest.fixture
def app() -> Iterator[LiveApp]:
    tokens = [
        {"sha256": token_hash("d1"), "role": "distributor", "actor": "d1",
         "distributor_id": "DIST-001"},
        {"sha256": token_hash("aud"), "role": "auditor", "actor": "aud"},
    ]  # fmt: skip
    live = LiveApp(TokenRegistry(tokens)).start()
    yield live
    live.stop()


def test_ingest_takes_the_token_from_a_file_or_the_environment(app, tmp_path, monkeypatch, capsys):
    app.feed(catalog())
    url = ["--url", app.url]
    token_file = secret_file(tmp_path / "token", "  d1  \nthe second line is not read\n")
    monkeypatch.setenv("CHANNELFLOW_TOKEN", "wrong")  # the flag wins
    assert main([*UPLOAD, *url, "--token-file", str(token_file)]) == 0, capsys.readouterr().err
    monkeypatch.setenv("CHANNELFLOW_TOKEN", "d1")
    assert main([*UPLOAD, *url, "--json"]) == 0  # sent again: duplicates
    assert '"duplicate": 5' in capsys.readouterr().out
    monkeypatch.delenv("CHANNELFLOW_TOKEN")
    assert main([*UPLOAD, *url]) == 2
    assert "HTTP 401 unauthorized: missing bearer token" in capsys.readouterr().err


def catalog_file(directory: Path) -> Path:
    """A history of the catalog alone."""
    events = directory / "events.jsonl"
    events.write_bytes(b"".join(encode_event(product) + b"\n" for product in catalog()))
    return events


def test_verify_takes_the_token_from_a_file(app, tmp_path, capsys):
    app.feed(catalog())
    events = catalog_file(tmp_path)  # what was fed to the app: the replay matches
    check = ["verify", "--url", app.url, "--events", str(events),
             "--eventstore", empty_store(tmp_path)]  # fmt: skip
    assert main([*check, "--token-file", str(secret_file(tmp_path / "t", "aud\n"))]) == 0
    assert "snapshot rows and 0 audit events verified" in capsys.readouterr().out
    assert main(check) == 2  # the API's own words, not only its status line
    assert "HTTP 401 unauthorized: missing bearer token" in capsys.readouterr().err


def test_verify_refuses_a_missing_store_or_an_api_it_cannot_read_before_the_replay(
    app, tmp_path, capsys
):
    """The events file does not exist: each refusal comes before the replay opens it (on a
    channel's topics the replay takes minutes; the refusal came after it)."""
    missing = ["--events", str(tmp_path / "missing.jsonl")]
    store = ["--eventstore", empty_store(tmp_path)]
    no_store = ["--eventstore", f"sqlite:///{tmp_path / 'typo.db'}"]
    assert main(["verify", "--url", app.url, "--token", "aud", *missing, *no_store]) == 2
    assert "no SQLite event store at" in capsys.readouterr().err
    assert main(["verify", "--url", app.url, *missing, *store]) == 2
    assert "HTTP 401 unauthorized: missing bearer token" in capsys.readouterr().err
    assert main(["verify", "--url", "http://127.0.0.1:9", "--token", "aud", *missing, *store]) == 3
    assert "the live API" in capsys.readouterr().err
    assert main(["verify", "--url", app.url, "--token", "aud", *missing, *store]) == 2
    assert "no such events file" in capsys.readouterr().err


def test_verify_says_where_the_differences_are_and_what_to_do(app, tmp_path, capsys):
    app.feed(catalog())  # live: a sale; the replay of the catalog alone: none
    app.feed_raw([orjson.dumps(sale("INV-1"))])
    events = catalog_file(tmp_path)
    check = ["verify", "--url", app.url, "--events", str(events), "--token", "aud",
             "--eventstore", empty_store(tmp_path)]  # fmt: skip
    assert main(check) == 1
    said = capsys.readouterr()
    differing = [line for line in said.out.splitlines() if ": replay " in line]
    assert differing, said.out
    assert f"{len(differing)} differences: {len(differing)} in the live snapshot, 0 in" in (
        said.err
    )
    assert "channelflow_consumer_lag_messages is 0" in said.err
    assert "audit store:" not in said.err  # nothing there differs: no advice about it


def test_verify_refuses_a_history_with_no_events(app, tmp_path, capsys):
    """An empty file, /dev/null, a directory: each said plainly, status 2, before the replay;
    an empty file was replayed and every live row reported as a difference, /dev/null was
    `no such events file`."""
    app.feed(catalog())
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    check = ["verify", "--url", app.url, "--token", "aud", "--eventstore", empty_store(tmp_path)]
    said = {
        str(empty): f"the events file {empty} is empty: there is no history to verify against",
        "/dev/null": "/dev/null is not a regular file: --events reads a JSON Lines file",
        str(tmp_path): f"{tmp_path} is not a regular file",
    }
    for events, words in said.items():
        assert main([*check, "--events", events]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, err


def test_replay_refuses_an_events_file_with_no_events(tmp_path, capsys):
    """It printed an empty snapshot, status 0, as if the channel had nothing in it."""
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert main(["replay", "--events", str(empty), "--jobs", "1"]) == 2
    said = capsys.readouterr()
    assert f"the events file {empty} is empty: there is no history to replay" in said.err
    assert said.out == ""


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644])
def test_a_token_file_group_or_others_may_access_is_refused(tmp_path, mode, capsys):
    token_file = secret_file(tmp_path / "token", "d1\n", mode)
    with pytest.raises(UserError, match=f"mode {mode:04o}.*chmod 600 {token_file}"):
        read_token_file(token_file)
    assert main([*UPLOAD, "--url", "http://127.0.0.1:9", "--token-file", str(token_file)]) == 2
    assert "accessible by group or others" in capsys.readouterr().err


def test_a_missing_or_empty_token_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match=r"cannot read the token file .*No such file"):
        read_token_file(tmp_path / "nope")
    with pytest.raises(UserError, match="no token on its first line"):
        read_token_file(secret_file(tmp_path / "empty", "\nd1\n"))


def test_token_and_token_file_exclude_each_other(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([*UPLOAD, "--url", "http://127.0.0.1:9", "--token", "a", "--token-file", "f"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_server_token_file_that_cannot_be_used_is_a_503_naming_it(tmp_path, monkeypatch,
                                                                    capsys):  # fmt: skip
    monkeypatch.setattr(cli_ingest, "RETRY_WAITS", (0.0,))
    path = tmp_path / "tokens.json"
    token = create_token(path, Role.DISTRIBUTOR, "d1", "DIST-001")
    live = LiveApp(TokenRegistry([], path))
    live.channel.feed_events(catalog())
    live.start()
    try:
        path.write_text(path.read_text()[:-5])  # half edited by hand
        monkeypatch.setenv("CHANNELFLOW_TOKEN", token)
        assert main([*UPLOAD, "--url", live.url]) == 3  # 503: unavailable
    finally:
        live.stop()
    err = capsys.readouterr().err
    assert "HTTP 503 unavailable: the server's token file (tokens.json) cannot be used: " \
        "not JSON" in err  # fmt: skip
