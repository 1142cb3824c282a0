"""/metrics of the running embedded app, checked by Prometheus's promtool; the Grafana
dashboard and the alerting rules query only metrics the app exposes, every metric is on a
panel or said why not, and the rules pass promtool's checks and their unit tests."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from streams import metrics
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.auth import TokenRegistry
from streams.generator import generate_channel, malformed_lines
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import Input
from tests.metrics_checks import (
    ALERTS,
    alert_metric_names,
    declared_names,
    grafana_metric_names,
    metric_series,
    needs_promtool,
    promtool,
    promtool_problems,
    sampled_names,
)

DASHBOARD_DOC = Path(__file__).resolve().parents[3] / "docs" / "dashboard.md"

#: what the issue asks for, by the name it has
REQUIRED = {
    "channelflow_events_consumed_total",
    "channelflow_events_produced_total",
    "channelflow_dead_letters_total",
    "channelflow_ingest_to_projection_seconds_bucket",
    "channelflow_consumer_lag_messages",
    "channelflow_pricing_violations_total",
    "channelflow_rebate_accrued",
}

#: the metrics of streams/metrics.py on no panel of the Grafana dashboard, and why: a
#: new metric goes on a panel, or here with its reason
UNCHARTED = {
    "channelflow_messages_redelivered_total": "a restart's or rebalance's work read again "
    "without effect; what needs a look is charted as input rewinds (docs/OPERATIONS.md)",
    "channelflow_rotation_requests_total": "business outcomes: the dashboard page's stock "
    "rotations panel (docs/dashboard.md)",
    "channelflow_claim_lines_total": "business outcomes: the dashboard page's ship-and-debit "
    "claims panel (docs/dashboard.md)",
    "channelflow_report_periods": "business figures: the dashboard page's report compliance "
    "panel (docs/dashboard.md)",
    "channelflow_commitments": "business figures: the dashboard page's agreement "
    "obligations panel (docs/dashboard.md)",
    "channelflow_rate_waits_refused_total": "alerted on (infra/prometheus/alerts.yml)",
    "channelflow_audit_round_failures_total": "alerted on (infra/prometheus/alerts.yml)",
    "channelflow_round_seconds": "diagnosis of slow recording and read-model rounds "
    "(docs/OPERATIONS.md, docs/AUDIT.md)",
    "channelflow_readmodel_rows_skipped_total": "each skipped row is logged by name; the "
    "count is for the log's reader",
    "channelflow_order_hold_seconds": "diagnosis of the broker-time order (docs/OPERATIONS.md); "
    "held events and paused partitions are charted",
    "channelflow_order_pauses_total": "diagnosis of the broker-time order (docs/OPERATIONS.md); "
    "paused partitions are charted",
    "channelflow_reference_wait_seconds": "nothing to act on: a wait for the reference "
    "replica ends by itself as it reads on, and one stuck is /health's degraded "
    "(docs/OPERATIONS.md, Lag); the batch time and latency panels show its effect",
    "channelflow_event_loop_lag_seconds": "diagnosis of the API's latency on a worker "
    "(docs/DESIGN.md, bench/README.md)",
    "channelflow_decisions_published_total": "the decisions relay's (docs/DECISIONS.md), a "
    "process of its own beside the workers this dashboard charts",
    "channelflow_decisions_lag_events": "the decisions relay's (docs/DECISIONS.md), a process "
    "of its own beside the workers this dashboard charts",
}


@pytest.fixture(scope="module")
def scraped() -> str:
    channel = EmbeddedChannel()
    channel.feed_events(generate_channel(seed=31, weeks=4))
    channel.feed(Input(raw, None, "test") for raw, _ in malformed_lines())

    async def scrape() -> str:
        context = ApiContext.of_channel(channel, TokenRegistry([]), "test")
        client = TestClient(TestServer(make_web_app(context)))
        await client.start_server()
        try:
            response = await client.get("/metrics")
            assert response.status == 200
            return await response.text()
        finally:
            await client.close()

    return asyncio.run(scrape())


@needs_promtool
def test_promtool_finds_no_problems(scraped):
    assert promtool_problems(scraped) == (0, "")


def test_the_process_and_platform_series_are_exposed(scraped):
    assert sampled_names(scraped) >= {
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
        "python_info",
    }


def test_the_metrics_of_the_issue_are_exposed(scraped):
    assert declared_names(scraped) >= REQUIRED
    # what the embedded run did shows as samples (lag and produced need Kafka: worker test)
    assert sampled_names(scraped) >= {
        "channelflow_events_consumed_total",
        "channelflow_dead_letters_total",
        "channelflow_ingest_to_projection_seconds_bucket",
        "channelflow_pricing_violations_total",
        "channelflow_rebate_accrued",
    }


def test_report_periods_and_commitments_are_gauges_by_status(scraped):
    """The generated channel has no agreement: every period is on the seed's weekly calendar."""
    assert declared_names(scraped) >= {"channelflow_report_periods", "channelflow_commitments"}
    assert 'channelflow_report_periods{frequency="weekly",status="on_time"}' in scraped
    assert 'frequency="monthly"' not in scraped


def test_every_severity_outcome_and_claim_status_is_a_series_from_the_start(scraped):
    for severity in ("minor", "major", "critical"):
        assert f'channelflow_pricing_violations_total{{severity="{severity}"}}' in scraped
    for outcome in ("accepted", "rejected"):
        assert f'channelflow_rotation_requests_total{{outcome="{outcome}"}}' in scraped
    for status in ("accepted", "adjusted", "rejected"):
        assert f'channelflow_claim_lines_total{{status="{status}"}}' in scraped


def test_the_grafana_dashboard_queries_only_exposed_metrics(scraped):
    queried = grafana_metric_names()
    assert queried >= REQUIRED
    assert queried - declared_names(scraped) == set()


def test_every_metric_is_on_a_panel_or_said_why_not():
    charted = grafana_metric_names()
    defined = metric_series(metrics.exposition().decode())
    uncharted = {
        name
        for name, series in defined.items()
        # *_created: prometheus_client's creation time of a counter's or histogram's series
        if name.startswith("channelflow_") and not name.endswith("_created")
        if not series & charted
    }
    assert uncharted == UNCHARTED.keys()
    assert all(UNCHARTED.values())


def test_every_metric_is_in_the_operators_list():
    """docs/dashboard.md says it lists every metric: an operator looks a name up there."""
    listed = set(re.findall(r"^\| `(channelflow_\w+)` \|", DASHBOARD_DOC.read_text(), re.M))
    defined = {
        name
        for name in metric_series(metrics.exposition().decode())
        if name.startswith("channelflow_") and not name.endswith("_created")
    }
    assert defined - listed == set()
    assert listed - defined == set()


def test_the_alerting_rules_query_only_exposed_metrics(scraped):
    queried = alert_metric_names()
    assert "channelflow_consumer_lag_messages" in queried  # the expressions were found
    assert queried - declared_names(scraped) == set()


@needs_promtool
def test_promtool_checks_and_unit_tests_the_alerting_rules():
    status, output = promtool("check", "rules", ALERTS.name, cwd=ALERTS.parent)
    assert status == 0 and "SUCCESS: 9 rules found" in output, output
    status, output = promtool("test", "rules", "alerts_test.yml", cwd=ALERTS.parent)
    assert status == 0, output
