"""A running worker follows its token file: tokens created and revoked with the CLI count from
the next request, without a restart."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
from pathlib import Path

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


def status(url: str, secret: str | None) -> int:
    try:
        http_json(url, secret)
    except urllib.error.HTTPError as error:
        return error.code
    return 200


def test_tokens_created_and_revoked_while_the_worker_runs(worker_factory, tmp_path: Path):
    path = str(tmp_path / "tokens.json")
    first = token("--role", "channel_manager", "--actor", "cm", "--file", path).stdout.strip()
    worker = worker_factory(env={"CHANNELFLOW_TOKENS_FILE": path}).start()
    inventory = f"{worker.url}/api/inventory"
    assert status(inventory, first) == 200
    assert status(inventory, None) == 401

    second = token("--role", "auditor", "--actor", "audit", "--file", path).stdout.strip()
    assert status(inventory, second) == 200
    assert token("revoke", "--actor", "cm", "--file", path).returncode == 0
    assert status(inventory, first) == 401
    assert status(inventory, second) == 200
    assert token("revoke", "--actor", "audit", "--file", path).returncode == 0
    assert status(inventory, second) == 401
    assert status(inventory, None) == 401  # no token left, and still closed
