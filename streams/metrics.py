"""Prometheus metrics, with conventional names."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from projections.snapshot import rebate_accruals
from projections.stores import ChannelStores

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_CONSUMED = Counter(
    "channelflow_events_consumed_total",
    "Inputs taken from a source, by topic, event type and verdict.",
    ["topic", "event_type", "verdict"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "channelflow_dead_letters_total",
    "Inputs sent to the dead-letter topic, by reason.",
    ["reason"],
    registry=REGISTRY,
)
AUDIT_RECORDS = Counter(
    "channelflow_audit_records_total",
    "Audit facts newly recorded in the event store, by kind.",
    ["kind"],
    registry=REGISTRY,
)
VIOLATIONS = Counter(
    "channelflow_pricing_violations_total",
    "Pricing violations newly detected and recorded, by severity.",
    ["severity"],
    registry=REGISTRY,
)
ACCRUED_REBATES = Gauge(
    "channelflow_rebate_accrued",
    "Rebate accrued in open periods, by program (program currency).",
    ["program_id"],
    registry=REGISTRY,
)
UNPRICED_SALES = Gauge(
    "channelflow_unpriced_sales",
    "Sale lines with no price in effect, waiting for pricing.",
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


def exposition() -> bytes:
    return generate_latest(REGISTRY)


def observe_projections(stores: ChannelStores) -> None:
    """Set the gauges that read the projections (at scrape time)."""
    accrued: dict[str, Decimal] = {}
    for accrual in rebate_accruals(stores):
        if accrual.result.status == "open":
            accrued[accrual.program_id] = accrued.get(accrual.program_id, Decimal(0)) + (
                accrual.result.rebate
            )
    for program_id, amount in accrued.items():
        ACCRUED_REBATES.labels(program_id).set(float(amount))
    UNPRICED_SALES.set(sum(1 for flagged in stores.flagged.values() if flagged.kind == "unpriced"))
