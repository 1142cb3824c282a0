"""The latency row of bench/throughput.py over several workers: their ingest-to-projection
histograms merged bucket by bucket give what one worker applying every line would show."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from bench.throughput_latency import LATENCY_METRIC, applied_p99

TOPIC = "bench.sales"
BOUNDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)  # the worker's first buckets


def exposition(latencies: list[float], other_topic: tuple[float, ...] = ()) -> str:
    """A worker's /metrics with these latencies observed for TOPIC (and another topic)."""
    registry = CollectorRegistry()
    histogram = Histogram(LATENCY_METRIC, "", ["topic"], buckets=BOUNDS, registry=registry)
    for seconds in latencies:
        histogram.labels(topic=TOPIC).observe(seconds)
    for seconds in other_topic:
        histogram.labels(topic="bench.products").observe(seconds)
    return generate_latest(registry).decode()


LINES = [0.01] * 500 + [0.2] * 300 + [0.4] * 150 + [3.0] * 50


def test_two_workers_histograms_merge_as_one() -> None:
    alone = applied_p99([exposition(LINES)], TOPIC, len(LINES))
    split = applied_p99(
        [exposition(LINES[::2], (9.0,) * 40), exposition(LINES[1::2])], TOPIC, len(LINES)
    )
    assert split == alone
    p99, within = split
    assert within == pytest.approx(0.8)
    assert p99 is not None and 2.5 < p99 <= 5.0


def test_lines_missing_from_every_histogram_leave_no_p99() -> None:
    p99, within = applied_p99([exposition(LINES[:400]), exposition([])], TOPIC, len(LINES))
    assert p99 is None
    assert within == pytest.approx(0.4)
