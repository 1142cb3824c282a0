"""Prometheus metrics, with conventional names (checked by `promtool check metrics`).

Counters and the latency histogram count what this process did; the gauges read the
projections this process holds (in a multi-worker deployment: the partitions it owns),
so dashboards sum them over workers. infra/grafana/channelflow.json charts them.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from projections.commitment_reads import commitment_rows
from projections.price_rules import Severity
from projections.rebate_accruals import OPEN_ACCRUALS
from projections.snapshot import compliance_by_distributor, now_of, rebate_accruals
from projections.stores import ChannelStores

REGISTRY = CollectorRegistry(auto_describe=True)
#: the conventional process_* series (CPU, memory, open files, start time) and python_info,
#: which a registry of its own does not get from prometheus_client's default one
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

EVENTS_CONSUMED = Counter(
    "channelflow_events_consumed_total",
    "Events taken from a source and applied for the first time, by topic, event type and "
    "verdict (a message read again after its effects were stored is counted in "
    "channelflow_messages_redelivered_total instead).",
    ["topic", "event_type", "verdict"],
    registry=REGISTRY,
)
MESSAGES_REDELIVERED = Counter(
    "channelflow_messages_redelivered_total",
    "Messages a worker read again whose effects were all stored already (after a restart, a "
    "rewind or a rebalance): applied again without effect, their events not counted again.",
    ["topic"],
    registry=REGISTRY,
)
EVENTS_PRODUCED = Counter(
    "channelflow_events_produced_total",
    "Messages this process published to Kafka and the broker acknowledged, by topic and type.",
    ["topic", "event_type"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "channelflow_dead_letters_total",
    "Inputs sent to the dead-letter topic, by reason.",
    ["reason"],
    registry=REGISTRY,
)
INGEST_TO_PROJECTION = Histogram(
    "channelflow_ingest_to_projection_seconds",
    "Time from an event's recorded_at (set at ingest) until the projection applied it.",
    ["topic"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0, 86400.0),
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "channelflow_consumer_lag_messages",
    "Messages in a raw topic partition this worker owns that it has not yet applied "
    "(high watermark minus stored position).",
    ["topic", "partition"],
    registry=REGISTRY,
)
AUDIT_RECORDS = Counter(
    "channelflow_audit_records_total",
    "Audit facts that changed the event store (recorded, or revising a recorded one), by kind.",
    ["kind"],
    registry=REGISTRY,
)
ROTATION_REQUESTS = Counter(
    "channelflow_rotation_requests_total",
    "Stock rotation requests decided and first recorded in the event store, by outcome "
    "(accepted, rejected).",
    ["outcome"],
    registry=REGISTRY,
)
CLAIM_LINES = Counter(
    "channelflow_claim_lines_total",
    "Debit claim lines decided and first recorded in the event store, by status (accepted, "
    "adjusted, rejected; a line waiting for its POS line is counted once decided).",
    ["status"],
    registry=REGISTRY,
)
VIOLATIONS = Counter(
    "channelflow_pricing_violations_total",
    "Pricing violations newly detected and recorded, by severity (a revision is not counted).",
    ["severity"],
    registry=REGISTRY,
)
ACCRUED_REBATES = Gauge(
    "channelflow_rebate_accrued",
    "Rebate accrued in open periods, by program (program currency).",
    ["program_id"],
    registry=REGISTRY,
)
RATE_WAITS_REFUSED = Counter(
    "channelflow_rate_waits_refused_total",
    "Sales left unpriced without waiting for their floor's exchange rate: their distributor "
    "had as many sales (too_many_waiting) or currency-pair days (too_many_days) waiting as "
    "it may (projections/rate_waits.py).",
    ["reason"],
    registry=REGISTRY,
)
UNPRICED_SALES = Gauge(
    "channelflow_unpriced_sales",
    "Sale lines with no price in effect, waiting for pricing.",
    registry=REGISTRY,
)
REPORT_PERIODS = Gauge(
    "channelflow_report_periods",
    "Reporting periods expected of the distributors at now, on each one's calendar, by "
    "frequency and status (on_time, late, missing).",
    ["frequency", "status"],
    registry=REGISTRY,
)
COMMITMENTS = Gauge(
    "channelflow_commitments",
    "Agreement volume commitments of the periods judged at now (the current and previous "
    "month, quarter, year), by status (met, open, short, unconverted).",
    ["status"],
    registry=REGISTRY,
)
AUDIT_ROUND_FAILURES = Counter(
    "channelflow_audit_round_failures_total",
    "Rounds of recording derived audit facts (claims, statements) that failed and will retry.",
    registry=REGISTRY,
)

BATCH_RETRIES = Counter(
    "channelflow_batch_retries_total",
    "Batches that could not be stored (event store or Kafka away) and were tried again.",
    registry=REGISTRY,
)
ROUND_SECONDS = Histogram(
    "channelflow_round_seconds",
    "Time of one background round (recording derived audit facts, writing read models).",
    ["round"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
    registry=REGISTRY,
)
READMODEL_ROWS_SKIPPED = Counter(
    "channelflow_readmodel_rows_skipped_total",
    "Read-model rows left out of a write because a value did not fit its column, by table.",
    ["table"],
    registry=REGISTRY,
)
ORDER_WAITS_EXPIRED = Counter(
    "channelflow_order_waits_expired_total",
    "Times a partition's inputs held for their broker-time order were applied without "
    "waiting longer for a caught-up topic's next fetch (CHANNELFLOW_ORDER_WAIT_SECONDS).",
    registry=REGISTRY,
)
ORDER_STALLS = Counter(
    "channelflow_order_stalls_total",
    "Times a partition's inputs held for their broker-time order were applied past a topic "
    "partition behind that had no leader for CHANNELFLOW_ORDER_STALL_SECONDS.",
    registry=REGISTRY,
)
ORDER_HOLD_SECONDS = Gauge(
    "channelflow_order_hold_seconds",
    "Seconds the oldest hold of inputs for their broker-time order has released nothing "
    "(0: nothing held).",
    registry=REGISTRY,
)
ORDER_HELD_EVENTS = Gauge(
    "channelflow_order_held_events",
    "Events held in memory for their broker-time order (waiting for another topic of their "
    "partition), as of the last batch.",
    registry=REGISTRY,
)
ORDER_PAUSES = Counter(
    "channelflow_order_pauses_total",
    "Times fetching a topic partition was paused because it had more than "
    "CHANNELFLOW_ORDER_HELD_MAX_EVENTS events held for their broker-time order.",
    registry=REGISTRY,
)
ORDER_PAUSED = Gauge(
    "channelflow_order_paused_partitions",
    "Topic partitions whose fetching is paused because of the events they have held for "
    "their broker-time order, as of the last batch.",
    registry=REGISTRY,
)
REWINDS = Counter(
    "channelflow_input_rewinds_total",
    "Times a source partition was rewound because input was skipped before it.",
    ["topic"],
    registry=REGISTRY,
)
BATCH_SECONDS = Histogram(
    "channelflow_batch_processing_seconds",
    "Time to apply one batch of inputs to the projections.",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
REFERENCE_WAIT_SECONDS = Histogram(
    "channelflow_reference_wait_seconds",
    "Time a batch (before it was applied) or a recording round (before it read the stores) "
    "waited for the worker's reference replica to read every reference record appended "
    "before the batch was received or the round began.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0),
    registry=REGISTRY,
)
EVENT_LOOP_LAG = Histogram(
    "channelflow_event_loop_lag_seconds",
    "How much later than asked the event loop woke a task that sleeps a few milliseconds "
    "at a time: how long a request waits for the loop (a batch step, the GIL).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
INGEST_LINES = Counter(
    "channelflow_ingest_lines_total",
    "Lines the ingest gateway answered, by format and answer (as known at receipt).",
    ["format", "answer"],
    registry=REGISTRY,
)
INGEST_TEST_INTERCHANGES = Counter(
    "channelflow_ingest_test_interchanges_total",
    "X12 test interchanges (ISA15 T) the ingest gateway checked and answered without "
    "publishing or registering anything, by format.",
    ["format"],
    registry=REGISTRY,
)
INGEST_REQUEST_SECONDS = Histogram(
    "channelflow_ingest_request_seconds",
    "Time to check, publish and answer one ingest request, by format.",
    ["format"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
    registry=REGISTRY,
)
DECISIONS_PUBLISHED = Counter(
    "channelflow_decisions_published_total",
    "Decision documents the relay published to the decisions topic (acknowledged by the "
    "broker), by decision type; a republished one after a crash is counted again.",
    ["decision_type"],
    registry=REGISTRY,
)
DECISIONS_LAG = Gauge(
    "channelflow_decisions_lag_events",
    "Events in the audit store after the decisions relay's stored position (0: caught up).",
    registry=REGISTRY,
)

# Every severity, rotation outcome and claim line status is a series from the start: a panel
# shows 0, not "no data".
for _severity in Severity:
    VIOLATIONS.labels(_severity.value)
for _outcome in ("accepted", "rejected"):
    ROTATION_REQUESTS.labels(_outcome)
for _status in ("accepted", "adjusted", "rejected"):
    CLAIM_LINES.labels(_status)


def exposition() -> bytes:
    return generate_latest(REGISTRY)


def observe_applied(topic: str, recorded_at: datetime | None) -> None:
    """Record how long ago (wall clock) an event just applied was recorded at ingest.

    Events without recorded_at, or recorded "in the future" (a clock ahead of ours),
    say nothing about our latency and are left out.
    """
    if recorded_at is not None:
        AppliedLatency().observe(topic, recorded_at)


class AppliedLatency:
    """`observe_applied` for one batch: each topic's histogram child looked up once."""

    def __init__(self) -> None:
        self._children: dict[str, Histogram] = {}

    def observe(self, topic: str, recorded_at: datetime, events: int = 1) -> None:
        """`events` applied now that were recorded at `recorded_at` (a bundle's events
        share it: one observation of their latency, counted `events` times)."""
        seconds = time.time() - recorded_at.timestamp()
        if seconds >= 0:
            child = self._children.get(topic)
            if child is None:
                child = self._children[topic] = INGEST_TO_PROJECTION.labels(topic)
            observe_many(child, seconds, events)


def observe_many(child: Histogram, amount: float, times: int) -> None:
    """`child.observe(amount)` `times` times, at the cost of one: prometheus_client has no
    weighted observe, so this adds to the sum and the bucket that `Histogram.observe`
    updates (the first bound at or above the amount) as it does, by `times` at once."""
    child._sum.inc(amount * times)
    child._buckets[bisect_left(child._upper_bounds, amount)].inc(times)


async def watch_the_loop(period: float = 0.02) -> None:
    """Observe the event loop's lag, for as long as the process runs."""
    while True:
        started = time.monotonic()
        await asyncio.sleep(period)
        EVENT_LOOP_LAG.observe(max(0.0, time.monotonic() - started - period))


def set_consumer_lag(lag: Mapping[tuple[str, int], int]) -> None:
    """Replace the lag series with these (topic, partition) -> messages: partitions the
    worker no longer owns disappear instead of freezing at their last value."""
    CONSUMER_LAG.clear()
    for (topic, partition), messages in lag.items():
        CONSUMER_LAG.labels(topic, str(partition)).set(max(messages, 0))


def observe_projections(stores: ChannelStores, obligations: bool = True) -> None:
    """Set the gauges that read the projections (at scrape time); `obligations`: the report
    periods and commitments too (they read every distributor's reports and periods)."""
    accrued: dict[str, Decimal] = {}
    for accrual in rebate_accruals(stores, OPEN_ACCRUALS):
        accrued[accrual.program_id] = accrued.get(accrual.program_id, Decimal(0)) + (
            accrual.result.rebate
        )
    ACCRUED_REBATES.clear()  # a program whose periods all closed accrues nothing any more
    for program_id, amount in accrued.items():
        ACCRUED_REBATES.labels(program_id).set(float(amount))  # Prometheus values are floats
    UNPRICED_SALES.set(
        sum(counts.counts.get("unpriced", 0) for counts in stores.flag_counts.values())
    )
    if obligations:
        observe_obligations(stores)


def observe_obligations(stores: ChannelStores) -> None:
    """Reporting periods and commitments by status, at the clock's "now"."""
    periods: dict[tuple[str, str], int] = {}
    for found in compliance_by_distributor(stores).values():
        for period in found:
            key = (period.period.frequency, period.status)
            periods[key] = periods.get(key, 0) + 1
    REPORT_PERIODS.clear()  # a status no period has any more is not left at its old count
    for (frequency, status), count in periods.items():
        REPORT_PERIODS.labels(frequency, status).set(count)
    commitments: dict[str, int] = {}
    for row in commitment_rows(stores, now_of(stores), None):
        commitments[row["status"]] = commitments.get(row["status"], 0) + 1
    COMMITMENTS.clear()
    for status, count in commitments.items():
        COMMITMENTS.labels(status).set(count)
