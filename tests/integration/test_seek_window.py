"""Records handed over while a recovery's last seek runs reach the agent
(streams/worker/committed.py, `perform_seek`).

faust's recovery makes the partitions active and resumes its flow, seeks them, and then
resumes its flow control, which clears the stream buffers; what the consumer handed over
while the seek ran was cleared with them, and the seek had put faust's read offset back:
nothing fetched that partition's tail again. Here a faust app on the worker's consumer
(`seek_window_app`, with a changelog to recover) seeks for two seconds while ten records wait
on the topic, and its agent is slow with the first: without the flow control suspended for
the seek, the other nine were never delivered (cleared from the buffer); with it, all ten
are, each once. Again with the seek cancelled by a new rebalance (the app rejoins its group
as the seek begins)."""

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


async def produce(bootstrap: str, topic: str, changelog: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(changelog, b"1", key=b'"k"', partition=0)
        for n in range(RECORDS):
            await producer.send_and_wait(topic, f"record {n}".encode(), partition=0)
    finally:
        await producer.stop()


def offsets(out: Path) -> list[int]:
    return [int(line) for line in out.read_text().split()] if out.exists() else []


def test_records_handed_over_during_the_recovery_seek_reach_the_agent_once(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    run(kafka_bootstrap, tmp_path, rejoin=False)


def test_a_recovery_seek_cancelled_by_a_new_rebalance_loses_no_record(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The seek's error path resumes the flow control it found active, though the new
    rebalance has just suspended it: faust's next recovery resumes it before any record is
    delivered (the consumer's own flow stays stopped meanwhile), and without that resume
    the records arrived the same (bench/README.md, "a rebalance starting")."""
    run(kafka_bootstrap, tmp_path, rejoin=True)


def run(kafka_bootstrap: str, tmp_path: Path, rejoin: bool) -> None:
    tag = f"t{uuid.uuid4().hex[:10]}"
    topic, out, log = f"{tag}.input", tmp_path / "offsets", tmp_path / "app.log"
    asyncio.run(produce(kafka_bootstrap, topic, f"{tag}-table-changelog"))
    env = dict(os.environ) | {
        "SEEK_WINDOW_APP": tag,
        "SEEK_WINDOW_TOPIC": topic,
        "SEEK_WINDOW_OUT": str(out),
        "SEEK_WINDOW_KAFKA": kafka_bootstrap,
        "SEEK_WINDOW_DATA": str(tmp_path / "data"),
        "SEEK_WINDOW_REJOIN": "1" if rejoin else "0",
        "PYTHONPATH": str(REPO),
    }
    with log.open("wb") as sink:
        app = subprocess.Popen(
            [
                *(sys.executable, "-m", "tests.integration.seek_window_app", "worker"),
                *("-l", "info", "--without-web"),  # faust's port may be another worker's
            ],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: len(offsets(out)) >= RECORDS, 90, "every record at the agent")
        assert offsets(out) == list(range(RECORDS))
        seeks = log.read_text(errors="replace").count("Seek stream partitions")
        assert seeks == (2 if rejoin else 1)  # with the rejoin: one cancelled, one whole
    except AssertionError:  # the app's log in the failure's report (its tmp_path goes)
        print("\n".join(log.read_text(errors="replace").splitlines()[-80:]))
        raise
    finally:
        app.terminate()
        app.wait(30)
        asyncio.run(delete_topics(kafka_bootstrap, tag))
