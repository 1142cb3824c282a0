"""The command line as a user runs it: demo, replay, generate, errors without tracebacks."""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest

from schemas.codec import encode_event
from streams.cli.main import build_parser
from streams.cli.support import FOUND_MEANS, SETTING_FLAGS, api_url, identifier
from streams.generator import generate_channel, malformed_lines
from streams.runners.embedded import EmbeddedChannel

REPO = Path(__file__).resolve().parents[3]


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args], cwd=REPO, capture_output=True, timeout=300
    )


def test_demo_once_prints_a_snapshot_of_a_realistic_channel():
    result = run("demo", "--once")
    assert result.returncode == 0, result.stderr.decode()
    snapshot = orjson.loads(result.stdout)
    assert {"inventory", "quality", "dead_letters"} <= set(snapshot)
    distributors = {row["distributor_id"] for row in snapshot["inventory"]}
    assert len(distributors) >= 3
    assert len(snapshot["inventory"]) >= 3 * 10
    assert sum(row["duplicates"] for row in snapshot["quality"]) > 0
    assert sum(row["conflicts"] for row in snapshot["quality"]) > 0
    assert {row["reason"] for row in snapshot["dead_letters"]} >= {
        "invalid_json",
        "schema_violation",
    }
    rows = snapshot["inventory"]
    assert rows == sorted(rows, key=lambda r: (r["distributor_id"], r["sku"]))


def test_replay_equals_the_embedded_runner_and_reports_bad_lines(tmp_path):
    events = generate_channel(seed=3, weeks=2)
    path = tmp_path / "events.jsonl"
    bad = malformed_lines()
    lines = [encode_event(e) for e in events]
    lines.insert(10, bad[0][0])
    path.write_bytes(b"\n".join(lines) + b"\n")

    result = run("replay", "--events", str(path))
    assert result.returncode == 0, result.stderr.decode()
    expected = EmbeddedChannel()
    expected.feed_events(events)
    replayed = orjson.loads(result.stdout)
    assert replayed["inventory"] == orjson.loads(orjson.dumps(expected.snapshot()))["inventory"]
    assert f"events.jsonl:11: {bad[0][1]}" in result.stderr.decode()
    assert {row["reason"]: row["count"] for row in replayed["dead_letters"]}[bad[0][1]] == 1


def test_replay_names_the_element_of_a_json_array_line_it_dead_letters(tmp_path):
    """Two bad events of one bundle line are told apart: `file:line#index`, from 0."""
    good = orjson.loads(encode_event(generate_channel(seed=3, weeks=1)[0]))
    bad = {**good, "quantity": "three"}
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n" + orjson.dumps([good, bad, {**bad, "unit_price": 1.5}]) + b"\n")
    result = run("replay", "--events", str(path))
    assert result.returncode == 0, result.stderr.decode()
    said = [line for line in result.stderr.decode().splitlines() if "schema_violation" in line]
    assert [line.split(": ")[0] for line in said] == [f"{path}:2#1", f"{path}:2#2"]


def test_replay_as_of_leaves_out_later_events(tmp_path):
    events = generate_channel(seed=3, weeks=3)
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(encode_event(e) + b"\n" for e in events))
    full = orjson.loads(run("replay", "--events", str(path)).stdout)
    early = orjson.loads(run("replay", "--events", str(path), "--as-of", "2026-07-12").stdout)
    total = sum(r["sell_through"] for r in full["inventory"])
    partial = sum(r["sell_through"] for r in early["inventory"])
    assert 0 < partial < total


def test_user_mistakes_get_one_line_errors_and_status_2(tmp_path):
    missing = run("replay", "--events", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2
    assert b"no such events file" in missing.stderr
    assert b"Traceback" not in missing.stderr
    (tmp_path / "e.jsonl").write_text("")
    bad_date = run("replay", "--events", str(tmp_path / "e.jsonl"), "--as-of", "yesterday")
    assert bad_date.returncode == 2
    assert b"as-of 'yesterday'" in bad_date.stderr
    one = run("replay", "--events", str(tmp_path / "e.jsonl"), "--distributor", "D01")
    assert one.returncode == 2, one.stdout  # was the whole file's snapshot, status 0
    assert b"--distributor works with --from-kafka only" in one.stderr
    assert run("--help").returncode == 0


def test_a_server_that_cannot_be_used_is_one_line_with_the_setting_to_check_and_status_3():
    refused = run(
        "verify", "--audit", "--chain-only", "--eventstore", "postgresql://u:p@127.0.0.1:1/db"
    )
    assert refused.returncode == 3, refused.stderr  # a server is unreachable
    assert b"PostgreSQL: connection failed" in refused.stderr
    assert b"CHANNELFLOW_EVENTSTORE_URL" in refused.stderr
    unsupported = run("verify", "--audit", "--chain-only", "--eventstore", "mysql://db")
    assert unsupported.returncode == 2 and b"unsupported event-store URL" in unsupported.stderr
    kafka = run("topics", "--kafka", "127.0.0.1:1")
    assert kafka.returncode == 3, kafka.stderr
    assert b"Kafka: Unable to bootstrap from [127.0.0.1:1]" in kafka.stderr
    read_models = run("readmodels", "init", "--url", "postgresql://u:p@127.0.0.1:1/db")
    assert read_models.returncode == 3 and b"PostgreSQL: connection failed" in read_models.stderr
    assert b"(check CHANNELFLOW_READMODEL_URL / --url," in read_models.stderr  # the flag given
    for done in (refused, unsupported, kafka, read_models):
        assert b"Traceback" not in done.stderr


def test_files_that_cannot_be_read_or_written_are_one_line_and_status_2(tmp_path):
    cases = {
        ("generate", "--out", "/nonexistent/x.jsonl"): b"/nonexistent/x.jsonl: No such file",
        ("generate", "--out", str(tmp_path)): b"Is a directory",
        ("token", "--role", "admin", "--actor", "a", "--file", "/nonexistent/t.json"): b"t.json",
    }
    (tmp_path / "notes.db").write_text("not a database, a text file " * 10)
    notes, nowhere = f"sqlite:///{tmp_path}/notes.db", f"sqlite:///{tmp_path}/no/audit.db"
    # each was a traceback
    cases[("demo", "--once", "--eventstore", nowhere)] = b"unable to open database file"
    cases[("demo", "--once", "--eventstore", notes)] = b"file is not a database"
    cases[("verify", "--audit", "--chain-only", "--eventstore", notes)] = b"not a database"
    typo = f"sqlite:///{tmp_path}/typo-audit.db"  # was created empty: 0 findings, status 0
    cases[("verify", "--audit", "--chain-only", "--eventstore", typo)] = b"no SQLite event store"
    cases[("audit", "history", "violation", "D01/T1", "--eventstore", typo)] = b"no SQLite"
    for args, said in cases.items():
        done = run(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert said in done.stderr and b"Traceback" not in done.stderr, (args, done.stderr)
        assert len(done.stderr.decode().strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "typo-audit.db").exists()


def test_version_and_the_exit_statuses_in_every_help():
    version = run("--version")
    assert version.returncode == 0
    assert version.stdout.decode().strip() == f"channelflow {metadata.version('channelflow')}"
    for command in ((), ("generate",), ("ingest",), ("audit", "seal"), ("token", "list")):
        shown = run(*command, "--help")
        assert shown.returncode == 0, (command, shown.stderr)
        assert b"3  a server is unreachable" in shown.stdout, command


def test_status_1_is_listed_only_by_the_commands_that_exit_with_it_saying_what_it_means():
    replay = run("replay", "--help").stdout.decode()
    assert "exit status:" in replay and "\n  1  " not in replay  # a replay never exits 1
    ingest = run("ingest", "--help").stdout.decode()
    assert "\n  1  some line rejected or in conflict, or a report rejected" in ingest
    lineage = run("audit", "lineage", "--help").stdout.decode()
    assert "\n  1  the lineage is incomplete" in lineage

    def progs(parser: argparse.ArgumentParser) -> Iterator[str]:
        yield parser.prog
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    yield from progs(child)

    assert set(FOUND_MEANS) <= set(progs(build_parser()))  # each names a real command


def test_every_flag_that_a_setting_gives_names_its_variable_in_its_help():
    """`--partitions` did not say CHANNELFLOW_PARTITIONS sets it too, nor the demo's
    --host / --port that CHANNELFLOW_WEB_HOST / _WEB_PORT do."""
    variables = {flag: f"CHANNELFLOW_{field.upper()}" for field, flag in SETTING_FLAGS.items()}
    own = {("channelflow demo", "--eventstore"), ("channelflow api", "--port")}  # see their help

    def unnamed(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str]]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    yield from unnamed(child)
            for flag in action.option_strings:
                if flag in variables and variables[flag] not in (action.help or ""):
                    yield parser.prog, flag

    assert set(unnamed(build_parser())) == own


def test_every_url_flag_with_a_default_shows_it():
    """`verify`, `claims`, `agreements`, ... asked http://127.0.0.1:6066 without a word."""

    def flags(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    yield from flags(child)
            if "--url" in action.option_strings and action.default is not None:
                yield action

    found = list(flags(build_parser()))
    assert len(found) >= 14  # verify, agreements, rotations, resellers, every claims action
    assert all(str(action.default) in (action.help or "") for action in found)


def test_a_url_is_the_api_base_with_or_without_api_or_a_slash():
    """What the commands add their `/api/...` paths to; a prefix before `/api` is kept (a
    reverse proxy's)."""
    for given in ("http://h:6066", "http://h:6066/", "http://h:6066/api", "http://h:6066/api/"):
        assert api_url(given) == "http://h:6066"
    assert api_url("https://h/channelflow/api/") == "https://h/channelflow"
    assert api_url("http://h/apis") == "http://h/apis"  # not its base's /api


def test_tokens_are_created_listed_and_revoked(tmp_path):
    path = str(tmp_path / "tokens.json")
    admin = run("token", "--role", "admin", "--actor", "alice", "--file", path)
    assert admin.returncode == 0 and len(admin.stdout.strip()) > 30
    created = run("token", "create", "--role", "distributor", "--actor", "d01-it",
                  "--distributor", "D01", "--file", path)  # fmt: skip
    assert created.returncode == 0
    listed = run("token", "list", "--file", path)
    assert listed.returncode == 0
    assert b"alice" in listed.stdout and b"d01-it" in listed.stdout and b"D01" in listed.stdout
    assert admin.stdout.strip() not in listed.stdout  # never the token itself
    assert run("token", "revoke", "--actor", "d01-it", "--file", path).returncode == 0
    assert b"d01-it" not in run("token", "list", "--file", path).stdout
    again = run("token", "revoke", "--actor", "d01-it", "--file", path)
    assert again.returncode == 2 and b"has no token" in again.stderr
    no_role = run("token", "--actor", "x", "--file", path)
    assert no_role.returncode == 2 and b"needs --role" in no_role.stderr
    typo = run("token", "list", "--file", f"{path}x")  # was "0 tokens in ...", status 0
    assert typo.returncode == 2 and b"no token file" in typo.stderr


def test_a_bad_count_date_port_or_kafka_address_is_one_line_naming_it_and_status_2(tmp_path):
    events = tmp_path / "e.jsonl"
    events.write_text("")
    cases = {
        ("generate", "--out", str(tmp_path / "g.jsonl"), "--weeks", "-1"): b"--weeks",
        ("generate", "--out", str(tmp_path / "g.jsonl"), "--sales", "0"): b"--sales",
        ("demo", "--once", "--weeks", "0"): b"--weeks",
        ("replay", "--events", str(events), "--known-at", "soon"): b"known-at 'soon'",
        ("demo", "--port", "99999"): b"--port 99999: input should be less than or equal to",
        ("topics", "--partitions", "0"): b"--partitions 0: input should be greater than",
        ("topics", "--kafka", "bad::host"): b"--kafka 'bad::host': 'bad::host' is not host:port",
        ("topics", "--kafka", "kafka1:"): b"'kafka1:' has no port",
        ("ingest", str(events), "--url", "notaurl"): b"--url: expected the http://host:port",
        ("verify", "--url", "http://h:abc"): b"--url: expected the http://host:port",
        ("claims", "list", "--url", "localhost:6066"): b"--url: expected the http://host:port",
        ("violation", "resolve", str(UUID(int=1)), "--reason", "x", "--amount", "abc"): (
            b"--amount: expected an amount such as 125.00, got 'abc'"
        ),
        ("claims", "resolve", "D01", "C1", "--outcome", "upheld", "--granted", "NaN"): (
            b"--granted: expected an amount such as 125.00, got 'NaN'"
        ),
        ("rebates", "close", "P1", "2026-q3"): b"period: not a period key: '2026-q3'",
        ("rebates", "close", "P1", "2026", "--actor", "a|b"): (
            b"error: closed_by: 'a|b': contains '|', which ids may not hold\n"  # one line
        ),
        ("ingest", str(tmp_path), "--check"): b"is a directory: give a file",
        ("claims", "submit", str(tmp_path)): b"is a directory: give a file",
    }
    for args, said in cases.items():
        done = run(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert said in done.stderr and b"Traceback" not in done.stderr, (args, done.stderr)
        assert not list(tmp_path.glob("g.jsonl")), args


def test_a_port_in_use_is_one_line_and_status_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        demo = run("demo", "--weeks", "1", "--port", port)
        worker = run("worker", "--port", port, "--kafka", "127.0.0.1:1")  # checked first
    for done in (demo, worker):
        assert done.returncode == 2, done.stderr
        said = done.stderr.decode().lower()
        assert "address already in use" in said and "(check --host / --port" in said, said
        assert len(said.strip().splitlines()) == 1, said
    assert b"open http" not in demo.stdout  # the address is given once it is listening


def test_kafka_unreachable_is_one_line_and_leaves_no_unclosed_consumer_behind():
    for args in (("deadletters",), ("replay", "--from-kafka", "--jobs", "1"), ("topics",)):
        done = run(*args, "--kafka", "127.0.0.1:1")
        assert done.returncode == 3, (args, done.stderr)
        assert b"Kafka: Unable to bootstrap from [127.0.0.1:1]" in done.stderr, args
        assert b"Unclosed" not in done.stderr, (args, done.stderr)
        # aiokafka's own 'Unable connect to "127.0.0.1:1"' ERROR line says it once more
        assert len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)


def test_every_id_flag_refuses_an_empty_id():
    """`--distributor "$D"` with D unset meant every distributor's (a list, an erasure);
    `resellers confirm --master "$M"` the best candidate."""

    def typed(parser: argparse.ArgumentParser) -> Iterator[tuple[str, Any]]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    yield from typed(child)
            flags = {"--distributor", "--master"} & set(action.option_strings)
            if flags and action.nargs != 0:  # erase's --master is a switch
                yield f"{parser.prog} {flags.pop()}", action.type

    found = dict(typed(build_parser()))
    assert len(found) >= 15 and set(found.values()) == {identifier}, found
    with pytest.raises(argparse.ArgumentTypeError, match="cannot be empty"):
        identifier(" ")
    refused = run("deadletters", "--distributor", "")
    assert refused.returncode == 2 and b"an id cannot be empty" in refused.stderr
    assert b"Traceback" not in refused.stderr
