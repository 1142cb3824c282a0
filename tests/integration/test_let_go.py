"""Records faust's consumer takes from aiokafka and lets go are read again at once
(streams/worker/let_go.py).

faust's `getmany` drops the rest of a fetch when its flow stops or the generation changes,
and the records of a partition it does not count active; aiokafka's position has moved past
them, so nothing fetches them again until a seek. Here a faust app on the worker's consumer
(`let_go_app`) has the topic's partition not active for its first fetch of the topic's
records: all ten are let go. Without the worker's seek back, no record ever reaches the
agent (nothing else seeks the partition); with it, all ten do, each once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from streams.kafka.io import delete_topics
from tests.integration.conftest import REPO, wait_until

pytestmark = pytest.mark.kafka

RECORDS = 10


async def produce(bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for n in range(RECORDS):
            await producer.send_and_wait(topic, f"record {n}".encode(), partition=0)
    finally:
        await producer.stop()


def offsets(out: Path) -> list[int]:
    return [int(line) for line in out.read_text().split()] if out.exists() else []


def test_records_faust_let_go_reach_the_agent_once(kafka_bootstrap: str, tmp_path: Path) -> None:
    tag = f"t{uuid.uuid4().hex[:10]}"
    topic, out, log = f"{tag}.input", tmp_path / "offsets", tmp_path / "app.log"
    asyncio.run(produce(kafka_bootstrap, topic))
    env = dict(os.environ) | {
        "LET_GO_APP": tag,
        "LET_GO_TOPIC": topic,
        "LET_GO_OUT": str(out),
        "LET_GO_KAFKA": kafka_bootstrap,
        "LET_GO_DATA": str(tmp_path / "data"),
        "PYTHONPATH": str(REPO),
    }
    with log.open("wb") as sink:
        app = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.let_go_app", "worker", "-l", "info"],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: len(offsets(out)) >= RECORDS, 90, "every record at the agent")
        assert offsets(out) == list(range(RECORDS))
        assert "fetched and let go by faust (not active): reading them again" in log.read_text()
    finally:
        app.terminate()
        app.wait(30)
        asyncio.run(delete_topics(kafka_bootstrap, tag))
