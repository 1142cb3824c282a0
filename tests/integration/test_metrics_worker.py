"""A worker's /metrics after events over Kafka and the HTTP ingest gateway: every series the
Grafana dashboard charts has samples, consumer lag drains to zero, and promtool finds no
problems (a test of its own, skipped only where promtool is missing: the other checks
always run)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from schemas.codec import encode_event
from schemas.events import SaleReported
from schemas.topics import INTERNAL_TOPICS
from streams.auth import token_hash
from streams.generator import generate_channel
from streams.kafka.io import delete_topics
from streams.worker.app import CONSUMED_TOPICS
from tests.integration.conftest import (
    NO_AUTOMATIC_CLOSE,
    WorkerProcess,
    isolated_settings,
    wait_until,
)
from tests.integration.helpers import expected_snapshot, publish_reference_first, weeks_ago
from tests.metrics_checks import (
    grafana_metric_names,
    needs_promtool,
    promtool_problems,
    sampled_names,
)
from tests.unit.api.ingest_api import WEEKLY
from tests.unit.api.web_ingest.test_test_interchanges import as_test

# one worker for the whole module: its tests stay in one of the two pytest processes
pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("metrics-worker")]

#: counted only when it happens (a partition rewound): no sample in a healthy run
ONLY_ON_TROUBLE = {"channelflow_input_rewinds_total"}

#: every topic the worker consumes: the raw topics and the claim caps' round trip
TOPICS = (*CONSUMED_TOPICS, *INTERNAL_TOPICS)


def lag_samples(text: str) -> dict[tuple[str, str], float]:
    return {
        (sample.labels["topic"], sample.labels["partition"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "channelflow_consumer_lag_messages"
        for sample in family.samples
    }


@dataclass(frozen=True)
class Scraped:
    """A worker's /metrics once its lag drained, and the dead letters it counted."""

    text: str
    dead_letters: list[dict[str, Any]]


@pytest.fixture(scope="module")
def scraped(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scraped]:
    """One worker, fed over Kafka and the HTTP ingest gateway, for every test here."""
    directory: Path = tmp_path_factory.mktemp("metrics-worker")
    settings = isolated_settings(kafka_bootstrap, directory)
    # two recent weeks: the broker records them now; their rebate period stays open (no
    # automatic close, whatever the date: in a quarter's first weeks the last one's grace ends)
    events = generate_channel(seed=32, weeks=2, start=weeks_ago(3))
    dead_letters = expected_snapshot(events)["dead_letters"]
    assert dead_letters  # the generator's conflicting resends
    sales = [e for e in events if isinstance(e, SaleReported)]
    over_http = sales[-20:]  # the HTTP ingest gateway publishes these
    over_kafka = [e for e in events if e not in over_http]
    tokens = [{"sha256": token_hash("admin-token"), "role": "admin", "actor": "ops"}]
    worker = WorkerProcess(
        settings,
        directory / "worker.log",
        {
            "CHANNELFLOW_TOKENS": json.dumps(tokens),
            "CHANNELFLOW_REBATE_GRACE_DAYS": str(NO_AUTOMATIC_CLOSE),
        },
    )
    try:
        worker.start()
        worker.token = "admin-token"
        publish_reference_first(settings, worker, over_kafka)
        status, answer = worker.post(
            "/api/ingest/events", [orjson.loads(encode_event(e)) for e in over_http], "admin-token"
        )
        assert status == 200, answer
        # an X12 test interchange: counted, nothing of it published
        status, answer = worker.post("/api/ingest/edi", as_test(WEEKLY), "admin-token")
        assert status == 200 and answer["test"], answer
        wait_until(
            lambda: worker.get("/api/dead-letters")["rows"] == dead_letters, 90, "the dead letters"
        )

        def scrape() -> str:
            return worker.metrics_text()

        partitions = len(TOPICS) * settings.partitions
        text = wait_until(
            lambda: (
                (t := scrape())
                and len(lag := lag_samples(t)) == partitions
                and not any(lag.values())
                and t
            ),
            60,
            "every owned partition's lag at 0",
        )
        # the gauges that read the projections (rebate accrued, unpriced lines) are set in a
        # thread about a second after the batch that changed them is stored, so a scrape as
        # the lag drains may come before them: scrape again until every charted metric is
        # there, or for 30 s (the test below then names what is missing)
        charted = grafana_metric_names() - ONLY_ON_TROUBLE
        deadline = time.monotonic() + 30
        while charted - sampled_names(text) and time.monotonic() < deadline:
            time.sleep(0.5)
            text = scrape()
        yield Scraped(text, dead_letters)
    finally:
        worker.kill()
        asyncio.run(delete_topics(kafka_bootstrap, settings.topic_prefix))


def test_consumer_lag_drains_to_zero_on_every_partition(scraped):
    lag = lag_samples(scraped.text)
    assert len(lag) == len(TOPICS) * 4 and set(lag.values()) == {0}


def test_worker_metrics_feed_the_grafana_dashboard(scraped):
    assert grafana_metric_names() - ONLY_ON_TROUBLE - sampled_names(scraped.text) == set()


def test_worker_metrics_include_the_process_series(scraped):
    assert sampled_names(scraped.text) >= {
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "python_info",
    }


def test_worker_metrics_count_the_dead_letters_it_produced(scraped):
    produced = [
        line
        for line in scraped.text.splitlines()
        if line.startswith("channelflow_events_produced_total{")
        and 'event_type="DeadLetter"' in line
    ]
    assert produced and float(produced[0].rsplit(" ", 1)[1]) == sum(
        row["count"] for row in scraped.dead_letters
    )


@needs_promtool
def test_worker_metrics_pass_promtool(scraped):
    assert promtool_problems(scraped.text) == (0, "")
