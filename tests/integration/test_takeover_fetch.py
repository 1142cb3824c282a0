"""A partition taken over with nothing committed resumes where its input resumes, though
records of it were handed over and let go during the rebalance
(streams/worker/committed.py, `placed`).

aiokafka sets a new assignment's positions (committed offset, else the partition's
beginning) before faust's assignment handler runs; a fetch waiting since before the
rebalance is handed those records, and faust, its flow stopped for the rebalance, lets them
go and seeks to the committed offsets, as it does again at the end of the recovery. aiokafka
seeks only where an offset past 0 is committed: a partition with none kept its position past
the records let go, and nothing read them again but the gate or the tail watch. Here two apps
(`takeover_app`) share a topic of two partitions; the second leaves, and records sent to its
partition then reach the first only if it is placed again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.kafka.io import delete_topics
from tests.integration.conftest import REPO, stop_process, wait_until

pytestmark = pytest.mark.kafka

RECORDS = 10


async def create(bootstrap: str, tag: str) -> None:
    """The input topic, two partitions, and a record in the table's changelog (a recovery to
    run at each rebalance)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(f"{tag}.input", 2, 1)])
    finally:
        await admin.close()
    await produce(bootstrap, f"{tag}-table-changelog", 0, [b"1"])


async def produce(bootstrap: str, topic: str, partition: int, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b'"k"', partition=partition)
    finally:
        await producer.stop()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def ready(path: Path) -> list[int] | None:
    found = lines(path)
    return [int(p) for p in found[0].split()] if found else None


def start(bootstrap: str, tag: str, where: Path, hooks: bool) -> subprocess.Popen[bytes]:
    where.mkdir()
    env = dict(os.environ) | {
        "TAKEOVER_APP": tag,
        "TAKEOVER_TOPIC": f"{tag}.input",
        "TAKEOVER_OUT": str(where / "offsets"),
        "TAKEOVER_KAFKA": bootstrap,
        "TAKEOVER_DATA": str(where / "data"),
        "TAKEOVER_HOOKS": "1" if hooks else "0",
        "PYTHONPATH": str(REPO),
    }
    with (where / "app.log").open("wb") as sink:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.takeover_app",
                "worker",
                "-l",
                "info",
                "--without-web",
            ],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def test_a_partition_taken_over_with_nothing_committed_loses_no_record(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    tag = f"t{uuid.uuid4().hex[:10]}"
    first, second = tmp_path / "first", tmp_path / "second"
    asyncio.run(create(kafka_bootstrap, tag))
    apps = [start(kafka_bootstrap, tag, first, hooks=True)]
    try:
        wait_until(lambda: ready(first / "offsets.ready") == [0, 1], 90, "the first app ready")
        apps.append(start(kafka_bootstrap, tag, second, hooks=False))
        (theirs,) = wait_until(lambda: ready(second / "offsets.ready"), 90, "the second ready")
        wait_until(lambda: ready(first / "offsets.ready") == [1 - theirs], 90, "shared")
        stop_process(apps.pop())  # leaves the group: its partition, nothing committed, taken over
        records = [f"record {n}".encode() for n in range(RECORDS)]
        asyncio.run(produce(kafka_bootstrap, f"{tag}.input", theirs, records))
        wait_until(lambda: len(lines(first / "offsets")) >= RECORDS, 60, "the records taken")
        assert lines(first / "offsets") == [f"{theirs} {n}" for n in range(RECORDS)]
        assert ready(first / "offsets.handed") == [theirs]  # handed over, let go by faust
    except AssertionError:  # the apps' logs in the failure's report (tmp_path goes)
        for where in (first, second):
            print(f"--- {where.name}")
            print("\n".join(lines(where / "app.log")[-60:]))
        raise
    finally:
        for app in apps:
            stop_process(app)
        asyncio.run(delete_topics(kafka_bootstrap, tag))
