"""The operator's and auditor's commands over Kafka name a prefix with nothing under it (a
typo, the wrong cluster) instead of answering as if nothing had happened: `deadletters`
said `0 dead letters`, `replay` printed an empty snapshot, `audit export` wrote a pack
with every source line missing, `rebates close` published a close of a program the
workers have never heard of."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from infra.eventstore import open_audit_log
from streams.config import Settings
from streams.generator import generate_channel
from streams.kafka.io import ensure_topics, publish_events
from tests.integration.conftest import REPO


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    kafka = ["--kafka", settings.kafka_bootstrap, "--prefix", settings.topic_prefix]
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args, *kafka],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_dead_letters_of_a_prefix_with_no_topic_are_refused(settings):
    topic = f"{settings.topic_prefix}.deadletters"
    for args in (("deadletters",), ("deadletters", "show", "--partition", "0", "--offset", "0")):
        done = cli(settings, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert f"no topic {topic} at {settings.kafka_bootstrap}: check --prefix" in done.stderr
        assert "Traceback" not in done.stderr and "Unclosed" not in done.stderr


def test_a_replay_of_raw_topics_with_no_events_is_refused(settings):
    done = cli(settings, "replay", "--from-kafka", "--jobs", "1")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "hold no events: there is no history to replay; check --kafka and --prefix" in (
        done.stderr
    )
    assert done.stdout == ""


def test_an_audit_pack_of_raw_topics_with_no_events_is_refused(settings, tmp_path):
    open_audit_log(settings.eventstore_url)
    pack = tmp_path / "pack"
    done = cli(settings, "audit", "export", "--period", "2026-Q3", "--out", str(pack),
               "--eventstore", settings.eventstore_url)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"the raw topics {settings.topic_prefix}.* at {settings.kafka_bootstrap} hold no " in (
        done.stderr
    )
    assert not pack.exists()


def test_a_close_the_workers_would_dead_letter_is_not_published(settings):
    refused = cli(settings, "rebates", "close", "VPA-2026-SI", "2026-Q3")
    assert refused.returncode == 2, refused.stderr
    assert "program_id: 'VPA-2026-SI' is not defined on " in refused.stderr
    assert "nothing published" in refused.stderr
    programs = [
        e for e in generate_channel(seed=1, weeks=1) if e.event_type == "RebateProgramDefined"
    ]

    async def define() -> None:
        await ensure_topics(settings)
        await publish_events(settings, programs)

    asyncio.run(define())
    year = cli(settings, "rebates", "close", "VPA-2026-SI", "2026")
    assert year.returncode == 2 and "period: '2026' is not a quarter of VPA-2026-SI" in year.stderr
    closed = cli(settings, "rebates", "close", "VPA-2026-SI", "2026-Q3")
    assert closed.returncode == 0, closed.stderr
