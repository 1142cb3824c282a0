"""`replay --from-kafka --jobs N` on the real broker: the same snapshot byte for byte and the
same audit facts as one process, with dead letters on a movement and a reference topic; a
message on another partition than its key's makes it replay in one process."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from schemas.topics import topic_name
from streams.audit.verify import audit_differences
from streams.cli.main import build_parser
from streams.cli.support import Replay, as_of, replay_of
from streams.config import Settings
from streams.generator import generate_channel
from streams.kafka.io import kafka_partition_of
from tests.integration.helpers import publish
from tests.parallel_channel import agreements_and_rates, with_lookalike_distributors


def replay(settings: Settings, jobs: int, *flags: str) -> Replay:
    args = build_parser().parse_args(
        ["replay", "--from-kafka", "--kafka", settings.kafka_bootstrap,
         "--prefix", settings.topic_prefix, "--jobs", str(jobs), *flags]
    )  # fmt: skip
    return replay_of(args, as_of(args.as_of))


def produce(settings: Settings, topic: str, key: bytes, value: bytes, partition: int) -> None:
    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            name = topic_name(settings.topic_prefix, topic)
            await producer.send_and_wait(name, value, key=key, partition=partition)
        finally:
            await producer.stop()

    asyncio.run(send())


def assert_alike(many: Replay, one: Replay) -> None:
    assert orjson.dumps(many.snapshot) == orjson.dumps(one.snapshot)
    verified, differences = audit_differences(many.audit(), one.audit())
    assert differences == []
    assert audit_differences(one.audit(), many.audit()) == (verified, [])


pytestmark = pytest.mark.kafka


def test_jobs_replay_the_topics_as_one_process_does(settings, capsys):
    channel = [*generate_channel(seed=9, weeks=5), *agreements_and_rates(("D01", "D02"))]
    publish(settings, with_lookalike_distributors(channel))  # stock rotation requests too
    d01 = kafka_partition_of("D01", settings.partitions)
    produce(settings, "sales", b"D01", b'{"event_type": "SaleReported"', d01)
    produce(settings, "products", b"SKU-X", b"not json", 0)

    one = replay(settings, 1)
    reasons = {row["reason"]: row["count"] for row in one.snapshot["dead_letters"]}
    assert reasons["invalid_json"] == 2
    assert len(one.audit().aggregate_ids()) > 50
    assert {row["distributor_id"] for row in one.snapshot["rotations"]} >= {"D01", "D02"}
    for jobs in (2, 3):
        assert_alike(replay(settings, jobs), one)
    flags = ("--as-of", "2026-07-25")
    assert_alike(replay(settings, 2, *flags), replay(settings, 1, *flags))
    assert "replaying in one process" not in capsys.readouterr().err

    elsewhere = (d01 + 1) % settings.partitions  # D01's state would be in two jobs
    produce(settings, "resellers", b"D01", b'{"event_type": "ResellerOnboarded"}', elsewhere)
    fallen_back = replay(settings, 2)
    assert "replaying in one process" in capsys.readouterr().err
    assert_alike(fallen_back, replay(settings, 1))
