"""Topics keep the partition count they were created with: a distributor's partition is
computed from that count, so a worker (or `channelflow topics`) configured with another one
refuses to start rather than split a distributor's lines between two partitions."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.integration.conftest import REPO

pytestmark = pytest.mark.kafka


def topics(settings, partitions: int) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CHANNELFLOW_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "CHANNELFLOW_TOPIC_PREFIX": settings.topic_prefix,
        "CHANNELFLOW_PARTITIONS": str(partitions),
    }
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "topics"],
        cwd=REPO, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip


def test_topics_with_another_partition_count_are_refused_by_name(settings):
    assert topics(settings, 4).returncode == 0
    assert topics(settings, 4).returncode == 0  # the same count: idempotent
    refused = topics(settings, 12)
    assert refused.returncode == 2  # a usage error: the settings disagree with the topics
    assert f"topic {settings.topic_prefix}." in refused.stderr
    assert "has 4 partitions, CHANNELFLOW_PARTITIONS is 12" in refused.stderr
    assert "CHANNELFLOW_PARTITIONS=4" in refused.stderr and "Traceback" not in refused.stderr
