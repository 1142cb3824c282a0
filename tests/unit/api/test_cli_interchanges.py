"""`channelflow interchanges prune` without a PostgreSQL to prune: its help, no register
configured (status 2), a server that cannot be reached (status 3): one line, no traceback.
Pruning itself: tests/integration/test_interchange_register.py."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.unit.api.test_cli import REPO


def prune(*flags: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "interchanges", "prune", *flags],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        timeout=120,
    )


def test_its_help_says_what_it_deletes() -> None:
    shown = prune("--help")
    assert shown.returncode == 0, shown.stderr
    assert b"--dry-run" in shown.stdout and b"CHANNELFLOW_INTERCHANGE_WINDOW_DAYS" in shown.stdout


def test_without_a_register_it_is_a_usage_error() -> None:
    done = prune(CHANNELFLOW_EVENTSTORE_URL="", CHANNELFLOW_INTERCHANGES_URL="off")
    assert done.returncode == 2, done.stderr
    assert done.stderr.decode().strip().splitlines() == [
        "channelflow: error: no register of interchanges: set CHANNELFLOW_INTERCHANGES_URL, or "
        "a PostgreSQL event store (CHANNELFLOW_EVENTSTORE_URL / --eventstore)"
    ]


def test_a_postgresql_that_cannot_be_reached_is_one_line_naming_the_setting() -> None:
    for flags in ((), ("--dry-run",)):
        done = prune(*flags, CHANNELFLOW_INTERCHANGES_URL="postgresql://u:p@127.0.0.1:1/db")
        assert done.returncode == 3, done.stderr
        [line] = done.stderr.decode().strip().splitlines()
        assert line.startswith("channelflow: error: PostgreSQL: connection failed")
        assert "CHANNELFLOW_INTERCHANGES_URL" in line and done.stdout == b""
