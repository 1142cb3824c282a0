"""Phase 4 of bench/throughput.py, latency at a steady rate: running workers (one, then two
in one consumer group: --latency-workers), sales published in ticks, then the p99 of their
ingest-to-projection histograms, merged."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
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
from bench.scale_out import (
    accepted_here,
    applied,
    cpu_of,
    cpu_since,
    owners,
    process_ids,
    spread,
    start_owning,
)
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
    """A row for each worker count of --latency-workers: the same lines at the same rate."""
    for workers in run.args.latency_workers:
        steady_phase(run, workers)


def steady_phase(run: Run, count: int) -> None:
    """`count` workers of one consumer group, settled and with the catalog loaded, then the
    phase's lines at --rate; the p99 of their histograms merged."""
    args = run.args
    partitions = args.partitions if count == 1 else args.latency_partitions
    settings = run.settings("l" if count == 1 else f"l{count}", partitions)
    catalog = sales_catalog()
    run_async(ensure_topics(settings), 120, "creating the latency topics")
    names = [topic_name(settings.topic_prefix, t) for t in ("products", "sales")]
    run_async(wait_for_leaders(args.kafka, names, partitions), 120, "topic leaders")
    run_async(publish_events(settings, catalog), 120, "publishing the catalog")
    workers = run.group(settings, count)
    deadline = time.perf_counter() + args.timeout
    start_owning(workers, partitions, deadline)
    products = len(catalog)

    def loaded() -> bool:
        return all(w.get_json("/api/products")["total"] >= products for w in workers)

    if not poll(workers, loaded, deadline):
        tails = "\n".join(w.log_tail() for w in workers)
        raise BenchError(f"the workers did not all load the catalog in time:\n{tails}")
    lines = sorted(
        generate_sales(
            int(args.rate * args.seconds),
            seed=args.seed + 1,
            distributors=args.latency_distributors,
        ),
        key=lambda e: (e.sold_at, e.distributor_id),
    )
    sent = len(lines)
    progress(
        f"latency: {sent:,} sales of {args.latency_distributors} distributors at "
        f"{args.rate:,.0f} lines/s for {args.seconds:.0f} s, {count} worker(s)"
    )
    pids = process_ids(workers)
    began, before, producer = time.perf_counter(), cpu_of(pids), time.process_time()
    sent_seconds = run_async(steady(settings, lines, args.rate), args.timeout, "steady publishing")
    producer = time.process_time() - producer
    drain = max(60.0, 4 * args.seconds)
    progress(f"latency: waiting up to {drain:.0f} s for the workers to apply them all")
    # far behind, the lines not applied by then waited longer than `drain`: that is the figure
    poll(workers, lambda: applied(workers, partitions) >= sent, time.perf_counter() + drain)
    cpu, took = cpu_since(pids, before), time.perf_counter() - began
    topic = topic_name(settings.topic_prefix, "sales")
    p99, within = applied_p99([w.metrics() for w in workers], topic, sent)
    shares = [accepted_here(w, partitions) for w in workers]
    actives = [owners(w) for w in workers]
    for worker in workers:
        worker.stop()
    # a worker's CPU a line decides: above a core's worth at its share of the rate, lines queue
    note = (
        f"sent at {rate(sent, sent_seconds):,.0f} lines/s; {within:.1%} of them applied within "
        f"{TARGET_P99_SECONDS * 1000:.0f} ms; "
    )
    if count == 1:
        note += f"worker CPU {cpu_note(cpu['worker 1'], shares[0], took)}"
    else:
        note += (
            f"{partitions} partitions, distributors per worker "
            f"{spread(actives, partitions, args.latency_distributors)} (partitions "
            f"{' / '.join(','.join(map(str, active)) for active in actives)}); "
            + ", ".join(
                f"worker {n} {cpu_note(cpu[f'worker {n}'], share, took)}"
                for n, share in enumerate(shares, start=1)
            )
        )
    if "broker" in cpu:
        note += f"; broker {cpu['broker'] / took:.0%} of a core"
    note += f"; the producer (this process) {producer / sent_seconds:.0%} of a core while sending"
    if p99 is None:
        note += f"; more than 1 % not applied {drain:.0f} s after the last was sent: p99 > that"
    workers_named = "" if count == 1 else f", {count} workers"
    run.add(
        Row(
            f"p99 ingest to projection at {args.rate:,.0f} lines/s{workers_named}",
            drain * 1000 if p99 is None else p99 * 1000,
            "ms",
            "",
            f"<= {TARGET_P99_SECONDS * 1000:.0f} ms",
            within >= 0.99,
            note,
            at_least=p99 is None,
        )
    )


def cpu_note(cpu: float, lines: int, seconds: float) -> str:
    """A worker's CPU a line of its own partitions and its share of a core."""
    return f"{cpu / max(lines, 1) * 1e6:,.0f} µs a line ({cpu / seconds:.0%} of a core)"


def poll(workers: list[WorkerProcess], done: Callable[[], bool], deadline: float) -> bool:
    """Whether `done()` came true before the deadline (the workers must stay alive)."""
    while True:
        for worker in workers:
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


def latency_buckets(text: str, topic: str) -> Counter[float]:
    """Cumulative counts by upper bound (`le`) of a worker's latency histogram for `topic`."""
    return Counter(
        {
            float(labels["le"]): value
            for name, labels, value in samples(text)
            if name == f"{LATENCY_METRIC}_bucket" and labels.get("topic") == topic
        }
    )


def applied_p99(texts: Iterable[str], topic: str, sent: int) -> tuple[float | None, float]:
    """(p99 seconds, share applied within the target) of the `sent` lines, from the workers'
    latency histograms for `topic`, bucket by bucket summed (each worker applies the lines
    of its own partitions): the p99 interpolated linearly inside its bucket; None when
    more than 1 % of the lines are not in the histograms (not applied yet)."""
    summed: Counter[float] = Counter()
    for text in texts:
        summed.update(latency_buckets(text, topic))
    buckets = sorted(summed.items())
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
