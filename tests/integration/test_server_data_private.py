"""The local servers' data is readable only by the user that runs them (infra/*.sh)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.conftest import REPO


def data_dir(script: str) -> Path:
    """The data dir the script manages (`datadir`), with this process's environment."""
    done = subprocess.run(
        ["bash", f"infra/{script}", "datadir"],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return Path(done.stdout.strip())


def owner_of(pid: int) -> int:
    return Path(f"/proc/{pid}").stat().st_uid


@pytest.mark.postgres
def test_the_running_postgresql_cluster_keeps_its_data_to_its_user(pg_dsn):
    data = data_dir("postgres.sh")
    pid_file = data / "postmaster.pid"
    assert pid_file.exists(), f"the server on {pg_dsn} does not run from {data}"
    postmaster, _, _, port = pid_file.read_text().splitlines()[:4]
    assert int(port) == urlsplit(pg_dsn).port
    info = data.stat()
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == owner_of(int(postmaster))
    if os.geteuid() == 0:  # the server runs as postgres, away from root's home
        assert info.st_uid != 0
        assert not data.is_relative_to(Path.home())


@pytest.mark.kafka
def test_the_kafka_data_dir_is_its_owners_only(kafka_bootstrap):
    data = data_dir("kafka.sh")
    if not (data / "kafka.pid").exists():
        pytest.skip(f"the broker on {kafka_bootstrap} was not started by infra/kafka.sh")
    info = data.stat()
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == owner_of(int((data / "kafka.pid").read_text()))
