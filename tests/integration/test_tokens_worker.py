"""A running worker follows its token file: tokens created and revoked with the CLI count from
the next request, without a restart; a file that cannot be used refuses every token (503)."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
from pathlib import Path

import orjson
import pytest

from tests.integration.conftest import REPO, http_json

pytestmark = pytest.mark.kafka


def token(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "token", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def answer(url: str, secret: str | None) -> tuple[int, dict[str, str]]:
    """The status, and the error of a refusal."""
    try:
        http_json(url, secret)
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())["error"]
    return 200, {}


def status(url: str, secret: str | None) -> int:
    return answer(url, secret)[0]


def test_tokens_created_and_revoked_while_the_worker_runs(worker_factory, tmp_path: Path):
    path = str(tmp_path / "tokens.json")
    first = token("--role", "channel_manager", "--actor", "cm", "--file", path).stdout.strip()
    worker = worker_factory(env={"CHANNELFLOW_TOKENS_FILE": path}).start()
    inventory = f"{worker.url}/api/inventory"
    assert status(inventory, first) == 200
    assert status(inventory, None) == 401

    second = token("--role", "auditor", "--actor", "audit", "--file", path).stdout.strip()
    assert status(inventory, second) == 200
    good = Path(path).read_text()
    Path(path).write_text(good.replace("[", "{", 1))  # broken by hand: every token refused
    code, error = answer(inventory, second)
    assert (code, error["code"]) == (503, "unavailable")
    assert "token file (tokens.json) cannot be used: not JSON" in error["message"]
    assert status(inventory, first) == 503
    Path(path).write_text(good)
    assert status(inventory, second) == 200
    assert token("revoke", "--actor", "cm", "--file", path).returncode == 0
    assert status(inventory, first) == 401
    assert status(inventory, second) == 200
    assert token("revoke", "--actor", "audit", "--file", path).returncode == 0
    assert status(inventory, second) == 401
    assert status(inventory, None) == 401  # no token left, and still closed
