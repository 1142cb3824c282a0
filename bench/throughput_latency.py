"""Phase 4 of bench/throughput.py, latency at a steady rate: a running worker, sales
published in ticks, then the p99 of its ingest-to-projection histogram."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, cast

from bench.common import (
    BenchError,
    WorkerProcess,
    progress,
    rate,
    run_async,
    samples,
    wait_for_leaders,
)
from bench.slice_phases import quality, worker_cpu
from bench.throughput_run import Row, Run
from schemas.events import SaleReported
from schemas.topics import topic_name
from streams.config import Settings
from streams.generator import generate_sales, sales_catalog
from streams.kafka.io import ensure_topics, publish_events, send_messages, start_producer
from streams.kafka.messages import Message, message_of

TARGET_P99_SECONDS = 0.250
LATENCY_METRIC = "channelflow_ingest_to_projection_seconds"
TICK_SECONDS = 0.05


def latency(run: Run) -> None:
    args = run.args
    settings = run.settings("l")
    catalog = sales_catalog()
    run_async(ensure_topics(settings), 120, "creating the latency topics")
    names = [topic_name(settings.topic_prefix, t) for t in ("products", "sales")]
    run_async(wait_for_leaders(args.kafka, names, args.partitions), 120, "topic leaders")
    run_async(publish_events(settings, catalog), 120, "publishing the catalog")
    worker = run.worker(settings)
    worker.start()
    deadline = time.perf_counter() + args.timeout
    products = len(catalog)
    if not poll(worker, lambda: worker.get_json("/api/products")["total"] >= products, deadline):
        raise BenchError(f"the worker did not load the catalog in time:\n{worker.log_tail()}")
    count = int(args.rate * args.seconds)
    lines = sorted(
        generate_sales(count, seed=args.seed + 1), key=lambda e: (e.sold_at, e.distributor_id)
    )
    progress(f"latency: {count:,} sales at {args.rate:,.0f} lines/s for {args.seconds:.0f} s")
    began, cpu = time.perf_counter(), worker_cpu(worker)
    sent_seconds = run_async(steady(settings, lines, args.rate), args.timeout, "steady publishing")
    drain = max(60.0, 4 * args.seconds)
    progress(f"latency: waiting up to {drain:.0f} s for the worker to apply them all")
    # far behind, the lines not applied by then waited longer than `drain`: that is the figure
    poll(worker, lambda: quality(worker).accepted >= count, time.perf_counter() + drain)
    cpu, took = worker_cpu(worker) - cpu, time.perf_counter() - began
    p99, within = applied_p99(worker.metrics(), topic_name(settings.topic_prefix, "sales"), count)
    worker.stop()
    # the worker's CPU a line decides: above a core's worth at the rate, the lines queue
    note = (
        f"sent at {rate(count, sent_seconds):,.0f} lines/s; {within:.1%} of them applied within "
        f"{TARGET_P99_SECONDS * 1000:.0f} ms; worker CPU {cpu / count * 1e6:,.0f} µs a line "
        f"({cpu / took:.0%} of a core)"
    )
    if p99 is None:
        note += f"; more than 1 % not applied {drain:.0f} s after the last was sent: p99 > that"
    run.add(
        Row(
            f"p99 ingest to projection at {args.rate:,.0f} lines/s",
            drain * 1000 if p99 is None else p99 * 1000,
            "ms",
            "",
            f"<= {TARGET_P99_SECONDS * 1000:.0f} ms",
            within >= 0.99,
            note,
            at_least=p99 is None,
        )
    )


def poll(worker: WorkerProcess, done: Callable[[], bool], deadline: float) -> bool:
    """Whether `done()` came true before the deadline (the worker must stay alive)."""
    while True:
        worker.check_alive()
        try:
            if done():
                return True
        except OSError:  # not listening yet, or a slow answer under load
            pass
        if time.perf_counter() > deadline:
            return False
        time.sleep(0.2)


async def steady(settings: Settings, lines: list[SaleReported], per_second: float) -> float:
    """Publish `lines` in ticks of TICK_SECONDS at `per_second`, each tick's lines bundled
    per distributor; returns the seconds it took (more than planned: it fell behind)."""
    producer = start_producer(settings)
    await producer.start()

    async def send(topic: str, key: bytes, value: bytes) -> Awaitable[Any]:
        return cast(Awaitable[Any], await producer.send(topic, value, key=key))

    try:
        per_tick = max(1, round(per_second * TICK_SECONDS))
        started = time.perf_counter()
        for number, tick in enumerate(ticks(lines, per_tick)):
            await asyncio.sleep(max(0.0, started + number * TICK_SECONDS - time.perf_counter()))
            await send_messages(send, settings.topic_prefix, tick)
        return time.perf_counter() - started
    finally:
        await producer.stop()


def ticks(lines: list[SaleReported], size: int) -> Iterator[list[Message]]:
    for start in range(0, len(lines), size):
        chunk = sorted(lines[start : start + size], key=lambda e: e.distributor_id)
        yield [message_of(line) for line in chunk]


def applied_p99(text: str, topic: str, sent: int) -> tuple[float | None, float]:
    """(p99 seconds, share applied within the target) of the `sent` lines, from the worker's
    latency histogram for `topic`: the p99 interpolated linearly inside its bucket; None
    when more than 1 % of the lines are not in the histogram (not applied yet)."""
    buckets: list[tuple[float, float]] = []
    for name, labels, value in samples(text):
        if name == f"{LATENCY_METRIC}_bucket" and labels.get("topic") == topic:
            buckets.append((float(labels["le"]), value))
    buckets.sort()
    within = next((n for le, n in buckets if le >= TARGET_P99_SECONDS), 0.0) / sent
    wanted = 0.99 * sent
    lower_le, lower_n = 0.0, 0.0
    for le, n in buckets:
        if n >= wanted:
            if math.isinf(le):
                return lower_le, within
            return lower_le + (le - lower_le) * (wanted - lower_n) / (n - lower_n), within
        lower_le, lower_n = le, n
    return None, within
