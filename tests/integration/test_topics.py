"""Topic creation on the real broker: the replication factor reaches Kafka, and a refusal
is said, not swallowed."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from schemas.topics import DEAD_LETTER_TOPIC, INTERNAL_TOPICS, RAW_TOPICS, topic_name
from streams.config import Settings
from streams.kafka.io import TopicsRefused, ensure_topics
from streams.kafka.worker_topics import state_changelog, worker_topics
from tests.integration.conftest import REPO, wait_until

pytestmark = pytest.mark.kafka


async def replication_of(settings: Settings) -> dict[str, set[int]]:
    """Each of the settings' topics' replication factors (per partition), as described."""
    names = [topic_name(settings.topic_prefix, t) for t in (*RAW_TOPICS, DEAD_LETTER_TOPIC)]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return {
        topic["topic"]: {len(p["replicas"]) for p in topic["partitions"]}
        for topic in described
        if topic["partitions"]
    }


def test_topics_get_the_configured_replication_factor(settings):
    asyncio.run(ensure_topics(settings))
    described = wait_until(
        lambda: (
            (found := asyncio.run(replication_of(settings)))
            and len(found) == len(RAW_TOPICS) + 1  # and the dead-letter topic
            and found
        ),
        60,
        "the new topics' metadata",
    )
    assert set(map(frozenset, described.values())) == {frozenset({1})}


def test_a_worker_s_own_topics_are_in_the_metadata_before_it_starts(settings):
    """The worker creates the topics faust would, and returns from it only once the broker's
    metadata lists them: a group joined before that is assigned without them."""
    asyncio.run(ensure_topics(settings, check_partitions=True, also=worker_topics(settings)))

    async def described() -> tuple[list[dict], list]:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        await admin.start()
        try:
            names = [topic.name for topic in worker_topics(settings)]
            resource = ConfigResource(ConfigResourceType.TOPIC, state_changelog(settings.app_id))
            return await admin.describe_topics(names), await admin.describe_configs([resource])
        finally:
            await admin.close()

    topics, configs = asyncio.run(described())
    assert {t["topic"]: len(t["partitions"]) for t in topics} == {
        state_changelog(settings.app_id): settings.partitions,
        f"{settings.app_id}-__assignor-__leader": 1,
    }
    assert all(p["leader"] >= 0 for t in topics for p in t["partitions"])
    entries = {e[0]: e[1] for e in configs[0].resources[0][4]}
    assert entries["cleanup.policy"] == "compact"


def topics_command(settings: Settings, *options: str) -> subprocess.CompletedProcess[bytes]:
    """`channelflow topics` for the test's prefix, with `options`."""
    flags = ["--kafka", settings.kafka_bootstrap, "--prefix", settings.topic_prefix]
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "topics", *flags, *options],
        cwd=REPO,
        capture_output=True,
        timeout=120,
    )


def test_a_replication_factor_the_cluster_cannot_give_is_refused(settings):
    too_many = settings.model_copy(update={"replication_factor": 2})  # one broker here
    with pytest.raises(TopicsRefused, match="replication factor of 2"):
        asyncio.run(ensure_topics(too_many))
    done = topics_command(settings, "--replication-factor", "2")
    assert done.returncode == 2, done.stderr
    assert b"Kafka refused to create topics" in done.stderr
    assert b"Traceback" not in done.stderr


def test_the_topics_command_says_what_is_ready(settings):
    done = topics_command(settings, "--partitions", "2")
    assert done.returncode == 0, done.stderr
    said = done.stdout.decode().strip()
    count = len(RAW_TOPICS) + len(INTERNAL_TOPICS) + 2  # and the dead letters, the decisions
    assert said == (
        f"{count} topics of prefix {settings.topic_prefix!r} ready on "
        f"{settings.kafka_bootstrap}: 2 partitions each"
    )
