"""A running worker follows its token file: tokens created and revoked with the CLI count from
the next request, without a restart; a file that cannot be used refuses every token (503)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import orjson
import pytest

from tests.integration.conftest import REPO, http_json
from tests.unit.api.test_slow_clients import closed_by_server

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


def test_a_worker_refuses_an_open_token_file_cuts_slow_clients_and_marks_its_answers(
    worker_factory, tmp_path: Path
):
    """Over the real worker's HTTP port: a token file others may write refuses every
    token until a chmod closes it, a request that never ends loses its connection after
    CHANNELFLOW_KEEPALIVE_SECONDS, and a read is marked nosniff and no-store."""
    path = tmp_path / "tokens.json"
    secret = token("--role", "channel_manager", "--actor", "cm", "--file", str(path)).stdout
    secret = secret.strip()
    env = {"CHANNELFLOW_TOKENS_FILE": str(path), "CHANNELFLOW_KEEPALIVE_SECONDS": "1"}
    worker = worker_factory(env=env).start()
    inventory = f"{worker.url}/api/inventory"
    request = urllib.request.Request(inventory, headers={"Authorization": f"Bearer {secret}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
    path.chmod(0o666)
    code, error = answer(inventory, secret)
    assert (code, error["code"]) == (503, "unavailable")
    assert "writable by group or others (mode 0666)" in error["message"]
    path.chmod(0o600)
    assert status(inventory, secret) == 200
    assert asyncio.run(closed_by_server(worker.port, trickle=True))
