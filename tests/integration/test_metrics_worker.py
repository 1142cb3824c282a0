"""A worker's /metrics after events over Kafka and the HTTP ingest gateway: promtool finds
no problems, every series the Grafana dashboard charts has samples, and consumer lag
drains to zero."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from schemas.codec import encode_event
from schemas.events import SaleReported
from streams.auth import token_hash
from streams.generator import generate_channel
from streams.worker import CONSUMED_TOPICS
from tests.integration.conftest import wait_until
from tests.integration.helpers import expected_snapshot, publish_reference_first
from tests.metrics_checks import grafana_metric_names, promtool_problems, sampled_names

pytestmark = pytest.mark.kafka

#: counted only when it happens (a partition rewound): no sample in a healthy run
ONLY_ON_TROUBLE = {"channelflow_input_rewinds_total"}


def lag_samples(text: str) -> dict[tuple[str, str], float]:
    return {
        (sample.labels["topic"], sample.labels["partition"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "channelflow_consumer_lag_messages"
        for sample in family.samples
    }


def test_worker_metrics_pass_promtool_and_feed_the_grafana_dashboard(settings, worker_factory):
    # the last two weeks: the broker records them now, and their rebate period is still open
    today = datetime.now(UTC).date()
    events = generate_channel(seed=32, weeks=2, start=today - timedelta(days=today.weekday() + 14))
    dead_letters = expected_snapshot(events)["dead_letters"]
    assert dead_letters  # the generator's conflicting resends
    sales = [e for e in events if isinstance(e, SaleReported)]
    over_http = sales[-20:]  # the HTTP ingest gateway publishes these
    over_kafka = [e for e in events if e not in over_http]
    tokens = [{"sha256": token_hash("admin-token"), "role": "admin", "actor": "ops"}]
    worker = worker_factory({"CHANNELFLOW_TOKENS": json.dumps(tokens)}).start()
    worker.token = "admin-token"
    publish_reference_first(settings, worker, over_kafka)
    status, answer = worker.post(
        "/api/ingest/events", [orjson.loads(encode_event(e)) for e in over_http], "admin-token"
    )
    assert status == 200, answer
    wait_until(
        lambda: worker.get("/api/dead-letters")["rows"] == dead_letters, 90, "the dead letters"
    )

    def scrape() -> str:
        with urllib.request.urlopen(f"{worker.url}/metrics", timeout=30) as response:
            return response.read().decode()

    partitions = len(CONSUMED_TOPICS) * settings.partitions
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
    assert promtool_problems(text) == (0, "")
    assert grafana_metric_names() - ONLY_ON_TROUBLE - sampled_names(text) == set()
    produced = [
        line
        for line in text.splitlines()
        if line.startswith("channelflow_events_produced_total{")
        and 'event_type="DeadLetter"' in line
    ]
    assert produced and float(produced[0].rsplit(" ", 1)[1]) == sum(
        row["count"] for row in dead_letters
    )
