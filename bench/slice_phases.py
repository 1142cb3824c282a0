"""The phases bench/slice_throughput.py (and bench/throughput.py, bench/scale_out.py) time:
publishing generated sales, the raw consume + decode baseline, and a worker end to end
(its quality counts and batch metrics)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.common import (
    BenchError,
    WorkerProcess,
    progress,
    rate,
    run_async,
    wait_for_leaders,
)
from schemas.events import SaleReported
from schemas.topics import topic_name
from streams.config import Settings
from streams.generator import generate_sales, sales_catalog
from streams.kafka.io import ensure_topics, publish_events

POLL_SECONDS = 0.2
BATCH_METRIC = "channelflow_batch_processing_seconds"
#: each batch's wait for the reference replica (outside the batch body)
REFERENCE_METRIC = "channelflow_reference_wait_seconds"


# -- phase 1: publish ------------------------------------------------------------------


@dataclass
class Published:
    count: int
    quantity: int  # Σ quantity: the expected Σ sell_through
    generate_seconds: float
    publish_seconds: float


def publish(
    settings: Settings, count: int, seed: int, timeout: float, bundle: int, distributors: int = 8
) -> Published:
    """Publish the sales catalog (untimed), then `count` sales (timed), as distributors
    send them: each distributor's lines of a day together (a report), in bundles of up to
    `bundle` events (1: an event per message)."""
    progress(f"generating {count:,} SaleReported events, {distributors} distributors, seed {seed}")
    started = time.perf_counter()
    events: list[SaleReported] = sorted(
        generate_sales(count, seed=seed, distributors=distributors),
        key=lambda e: (e.sold_at.date(), e.distributor_id),
    )
    generate_seconds = time.perf_counter() - started
    quantity = sum(event.quantity for event in events)
    progress(f"generated in {generate_seconds:.1f} s; creating topics and publishing")

    async def run() -> tuple[int, float]:
        await ensure_topics(settings)
        topics = [topic_name(settings.topic_prefix, t) for t in ("products", "sales")]
        await wait_for_leaders(settings.kafka_bootstrap, topics, settings.partitions)
        # sales of unknown SKUs are rejected: the catalog goes first, outside the timing
        await publish_events(settings, sales_catalog())
        began = time.perf_counter()
        sent = await publish_events(settings, events, bundle)
        return sent, time.perf_counter() - began

    sent, seconds = run_async(run(), timeout, "publishing")
    if sent != count:
        raise BenchError(f"published {sent:,} events, expected {count:,}")
    progress(f"published {sent:,} events in {seconds:.1f} s ({rate(sent, seconds):,.0f}/s)")
    return Published(sent, quantity, generate_seconds, seconds)


# -- phase 2a: raw consume + decode ---------------------------------------------------


def raw_consume(settings: Settings, count: int, timeout: float) -> float:
    """Seconds to read `count` events of the sales topic (in as many messages as they were
    bundled in) and orjson-decode every message."""
    topic = topic_name(settings.topic_prefix, "sales")

    async def run() -> float:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=None,  # manual assignment, no group, nothing committed
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            # the topic is fresh and was created with settings.partitions partitions
            assigned = [TopicPartition(topic, p) for p in range(settings.partitions)]
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            read = 0
            decoded = 0
            began = time.perf_counter()
            while read < count:
                batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
                for messages in batches.values():
                    for message in messages:
                        value = orjson.loads(message.value)
                        events = len(value) if isinstance(value, list) else 1
                        decoded += events
                        read += events
            seconds = time.perf_counter() - began
            if decoded != read:
                raise BenchError(f"decoded {decoded:,} of {read:,} events")
            return seconds
        finally:
            await consumer.stop()

    progress(f"raw baseline: consuming {count:,} events of {topic} with aiokafka + orjson")
    seconds = run_async(run(), timeout, "the raw consume")
    progress(f"raw consume + decode: {seconds:.2f} s ({rate(count, seconds):,.0f}/s)")
    return seconds


# -- phase 2b: end to end through a worker subprocess ---------------------------------


@dataclass
class EndToEnd:
    total: int  # events expected (all published)
    ready_seconds: float  # process start -> /health answers
    from_ready_seconds: float  # /health answers -> all accepted
    first_seen: int  # accepted at the first poll that saw any
    from_first_seconds: float  # that poll -> all accepted
    sell_through: int
    batches: int | None  # from the worker's /metrics, when it exposes them
    batch_seconds: float | None  # Σ time inside the agent's batch body
    #: Σ time batches waited for the reference replica, when /metrics has it
    reference_wait_seconds: float | None
    cpu_seconds: float  # the worker process's CPU time (user + system) over from_first_seconds

    @property
    def events_per_second(self) -> float:
        """From the first applied batch on: excludes startup and rebalance."""
        return rate(self.total - self.first_seen, self.from_first_seconds)


def poll_until(
    worker: WorkerProcess, predicate: Callable[[], Any], deadline: float, what: str
) -> tuple[Any, float]:
    """Poll every POLL_SECONDS until `predicate()` is truthy; returns it and the time seen."""
    last_error: Exception | None = None
    while True:
        worker.check_alive()
        try:
            value = predicate()
            if value:
                return value, time.perf_counter()
        except OSError as exc:  # not listening yet, reset while starting, ...
            last_error = exc
        if time.perf_counter() >= deadline:
            raise BenchError(f"timed out waiting for {what} (last error: {last_error})")
        time.sleep(POLL_SECONDS)


@dataclass(frozen=True)
class Quality:
    accepted: int
    other: int  # duplicates + conflicts + rejected: should stay 0 for generated sales
    reasons: dict[str, int]


def quality(worker: WorkerProcess) -> Quality:
    rows = worker.get_json("/api/quality")["rows"]
    reasons: dict[str, int] = {}
    for row in rows:
        for reason, n in (row.get("rejected_by_reason") or {}).items():
            reasons[reason] = reasons.get(reason, 0) + int(n)
    other = sum(int(row.get(k) or 0) for row in rows for k in ("duplicates", "conflicts"))
    accepted = sum(int(row["accepted"]) for row in rows)
    return Quality(accepted, other + sum(reasons.values()), reasons)


def not_accepted(q: Quality) -> str:
    return f"{q.other:,} lines not accepted (rejections by reason: {q.reasons or 'none'})"


def histogram_totals(worker: WorkerProcess, metric: str) -> tuple[int | None, float | None]:
    """Count and Σ seconds of one of the worker's histograms, if /metrics has it."""
    try:
        text = worker.metrics()
    except OSError:
        return None, None
    values: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith(metric):
            values[name.removeprefix(metric)] = float(value)
    if "_count" not in values or "_sum" not in values:
        return None, None
    return int(values["_count"]), values["_sum"]


def worker_cpu(worker: WorkerProcess) -> float:
    """CPU seconds (user + system) the worker process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{worker.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def end_to_end(worker: WorkerProcess, count: int, timeout: float) -> EndToEnd:
    progress(f"end to end: starting the worker on {worker.settings.partitions} partitions")
    started = time.perf_counter()
    deadline = started + timeout
    worker.start()
    _, ready_at = poll_until(worker, lambda: worker.get_json("/health"), deadline, "/health")
    progress(f"worker ready after {ready_at - started:.1f} s; waiting for its first batch")
    try:
        first_q, first_at = poll_until(
            worker, lambda: (q := quality(worker)).accepted and q, deadline, "a first batch"
        )
    except BenchError as exc:
        raise BenchError(f"{exc}; {not_accepted(quality(worker))}") from None
    first = first_q.accepted
    first_cpu = worker_cpu(worker)
    progress(f"first applied: {first:,} accepted {first_at - ready_at:.1f} s after ready")
    q, now = wait_all_accepted(worker, count, deadline, timeout, first, first_at)
    done = q.accepted
    cpu_seconds = worker_cpu(worker) - first_cpu
    if done != count or q.other:
        raise BenchError(
            f"the worker accepted {done:,} events, {count:,} were published; {not_accepted(q)}"
        )
    rows = worker.get_json("/api/inventory")["rows"]
    sell_through = sum(int(row["sell_through"]) for row in rows)
    batches, batch_seconds = histogram_totals(worker, BATCH_METRIC)
    _, reference_wait_seconds = histogram_totals(worker, REFERENCE_METRIC)
    result = EndToEnd(
        total=count,
        ready_seconds=ready_at - started,
        from_ready_seconds=now - ready_at,
        first_seen=first,
        from_first_seconds=now - first_at,
        sell_through=sell_through,
        batches=batches,
        batch_seconds=batch_seconds,
        reference_wait_seconds=reference_wait_seconds,
        cpu_seconds=cpu_seconds,
    )
    progress(
        f"all {count:,} accepted {result.from_first_seconds:.2f} s after the first batch "
        f"({result.events_per_second:,.0f}/s)"
    )
    return result


def wait_all_accepted(
    worker: WorkerProcess, count: int, deadline: float, timeout: float, first: int, first_at: float
) -> tuple[Quality, float]:
    """Poll /api/quality until `count` events are accepted; the last answer and when it came.
    Fails at the deadline or once rejected events leave `count` out of reach; `first` and
    `first_at` (the first batch) give the progress rate."""
    last_report = first_at
    while True:
        try:
            q = quality(worker)
        except OSError as exc:  # a slow answer under load: try again until the deadline
            progress(f"  /api/quality failed ({exc}); retrying")
            q = Quality(0, 0, {})
        now = time.perf_counter()
        done = q.accepted
        if done >= count:
            return q, now
        if q.other and done + q.other >= count:
            raise BenchError(f"the worker accepted {done:,} of {count:,}: {not_accepted(q)}")
        worker.check_alive()
        if now >= deadline:
            raise BenchError(
                f"the worker accepted {done:,} of {count:,} events within {timeout:.0f} s"
            )
        if now - last_report >= 2.0:
            last_report = now
            progress(f"  {done:,} accepted ({rate(done - first, now - first_at):,.0f}/s)")
        time.sleep(POLL_SECONDS)
