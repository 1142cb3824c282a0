"""Throughput of the vertical slice on the real broker, against the raw consume rate.

One run, on fresh topics and a fresh consumer group (nothing collides with other runs):

1. publish N generated `SaleReported` events to the sales topic (publish rate);
2. (a) raw baseline: aiokafka consume + `orjson.loads` of every value until N are read;
   (b) end to end: a `channelflow worker` subprocess on the already-filled topic, timed
   from its first applied event until the sum of `accepted` in /api/quality is N
   (agent -> decode -> dedup -> reducers -> table + changelog);
3. print a table with the rates, the ratio end-to-end / raw and the targets (PASS/MISS).

Targets are printed, never asserted. The exit status is 0 unless something broke (a
phase timed out, the worker died, or its numbers disagree with the published events).
Progress goes to stderr, the result table to stdout.

    .venv/bin/python -m bench.slice_throughput --events 50000
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.common import (
    DEFAULT_KAFKA,
    BenchError,
    WorkerProcess,
    clean_up,
    free_port,
    positive_int,
    progress,
    rate,
    revision,
    run_async,
    verdict,
    wait_for_leaders,
)
from schemas.events import SaleReported
from schemas.topics import topic_name
from streams.config import Settings
from streams.generator import generate_sales, sales_catalog
from streams.kafka.io import ensure_topics, publish_events

TARGET_RATE = 20_000.0  # events/s end to end
TARGET_RATIO = 0.4  # end to end / raw consume + decode
POLL_SECONDS = 0.2
BATCH_METRIC = "channelflow_batch_processing_seconds"


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


def batch_metrics(worker: WorkerProcess) -> tuple[int | None, float | None]:
    """Count and Σ seconds of the worker's batch histogram, if /metrics has it."""
    try:
        text = worker.metrics()
    except OSError:
        return None, None
    values: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith(BATCH_METRIC):
            values[name.removeprefix(BATCH_METRIC)] = float(value)
    if "_count" not in values or "_sum" not in values:
        return None, None
    return int(values["_count"]), values["_sum"]


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
            break
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
    cpu_seconds = worker_cpu(worker) - first_cpu
    if done != count or q.other:
        raise BenchError(
            f"the worker accepted {done:,} events, {count:,} were published; {not_accepted(q)}"
        )
    rows = worker.get_json("/api/inventory")["rows"]
    sell_through = sum(int(row["sell_through"]) for row in rows)
    batches, batch_seconds = batch_metrics(worker)
    result = EndToEnd(
        total=count,
        ready_seconds=ready_at - started,
        from_ready_seconds=now - ready_at,
        first_seen=first,
        from_first_seconds=now - first_at,
        sell_through=sell_through,
        batches=batches,
        batch_seconds=batch_seconds,
        cpu_seconds=cpu_seconds,
    )
    progress(
        f"all {count:,} accepted {result.from_first_seconds:.2f} s after the first batch "
        f"({result.events_per_second:,.0f}/s)"
    )
    return result


# -- cleanup and report ----------------------------------------------------------------


def worker_cpu(worker: WorkerProcess) -> float:
    """CPU seconds (user + system) the worker process has used so far (Linux /proc)."""
    assert worker.proc is not None
    fields = Path(f"/proc/{worker.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_line(e2e: EndToEnd) -> str:
    lines = e2e.total - e2e.first_seen
    per_line = e2e.cpu_seconds / lines * 1e6 if lines else 0.0
    return (
        f"worker CPU from the first batch on: {e2e.cpu_seconds:.2f} s, {per_line:,.0f} µs a line "
        f"({e2e.cpu_seconds / e2e.from_first_seconds:.0%} of a core)"
    )


def batch_line(e2e: EndToEnd, count: int) -> str:
    if e2e.batches is None or e2e.batch_seconds is None or not e2e.batches:
        return f"worker batches: n/a ({BATCH_METRIC} not in /metrics)"
    share = e2e.batch_seconds / e2e.from_ready_seconds
    return (
        f"worker batches: {e2e.batches:,} (avg {count / e2e.batches:,.0f} events), "
        f"{e2e.batch_seconds:.2f} s inside the batch body = {share:.0%} of the run "
        f"from /health; the rest is Faust (fetch, stream, changelog sends, commits) and idle"
    )


def report(args: argparse.Namespace, published: Published, raw_s: float, e2e: EndToEnd) -> None:
    n = published.count
    publish_rate = rate(n, published.publish_seconds)
    raw_rate = rate(n, raw_s)
    e2e_rate = e2e.events_per_second
    ratio = e2e_rate / raw_rate
    from_ready = rate(n, e2e.from_ready_seconds)
    lines = [
        "",
        f"channelflow slice throughput: {n:,} SaleReported in bundles of up to {args.bundle}, "
        f"{args.partitions} partitions, "
        f"batch size {args.batch_size}, worker --loglevel {args.worker_loglevel}, "
        f"{os.cpu_count()} CPUs",
        f"measured {time.strftime('%Y-%m-%d %H:%M %Z')} on commit {revision()}"
        + (" (worker under cProfile)" if args.profile else ""),
        "",
        f"{'measure':<44}{'seconds':>9}{'events/s':>12}",
        f"{'generate (pydantic, not timed below)':<44}{published.generate_seconds:>9.2f}"
        f"{rate(n, published.generate_seconds):>12,.0f}",
        f"{'publish (encode + produce, acks=all)':<44}{published.publish_seconds:>9.2f}"
        f"{publish_rate:>12,.0f}",
        f"{'raw consume + orjson decode (a)':<44}{raw_s:>9.2f}{raw_rate:>12,.0f}",
        f"{'end to end, from first batch (b)':<44}{e2e.from_first_seconds:>9.2f}{e2e_rate:>12,.0f}",
        f"{'end to end, from /health (incl. rebalance)':<44}{e2e.from_ready_seconds:>9.2f}"
        f"{from_ready:>12,.0f}",
        f"{'worker start -> /health':<44}{e2e.ready_seconds:>9.2f}",
        "",
        f"ratio end to end / raw: {ratio:.3f}",
        batch_line(e2e, n),
        cpu_line(e2e),
        f"correctness: accepted {n:,} = published; Σ sell_through {e2e.sell_through:,} "
        f"= Σ quantity {published.quantity:,}",
        "",
        f"target end to end >= {TARGET_RATE:,.0f} events/s: {verdict(e2e_rate >= TARGET_RATE)}"
        f" ({e2e_rate:,.0f})",
        f"target ratio >= {TARGET_RATIO}: {verdict(ratio >= TARGET_RATIO)} ({ratio:.3f})",
    ]
    print("\n".join(lines), flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slice_throughput",
        description=(
            "Publish N SaleReported events to fresh topics, then compare the raw aiokafka "
            "consume + JSON decode rate with the end-to-end rate of a channelflow worker "
            "(agent -> reducers -> table, read back through /api/quality)."
        ),
        epilog="Targets (printed, never asserted): >= 20,000 events/s end to end and "
        ">= 0.4 of the raw rate.",
    )
    parser.add_argument("--events", type=positive_int, default=200_000, help="default 200000")
    parser.add_argument("--partitions", type=positive_int, default=4, help="default 4")
    parser.add_argument(
        "--bundle",
        type=positive_int,
        default=500,
        help="events per message at most, a distributor's lines of a day together "
        "(default 500; 1: an event per message)",
    )
    parser.add_argument(
        "--kafka",
        default=DEFAULT_KAFKA,
        help="bootstrap servers (default $CHANNELFLOW_KAFKA_BOOTSTRAP or 127.0.0.1:9092)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=Settings().batch_size,
        help=f"the worker's take_events batch size (default {Settings().batch_size})",
    )
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds allowed per phase (default 600)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="run the worker under cProfile and write its stats to FILE (slows it down)",
    )
    parser.add_argument(
        "--worker-loglevel",
        default="warning",
        help="the worker's --loglevel (default warning, the CLI default)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (worker log) and the topics"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # produce retries on brand-new topics (NotLeaderForPartition) are expected and harmless
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    tag = f"bench{uuid.uuid4().hex[:10]}"
    workdir = Path(tempfile.mkdtemp(prefix=f"channelflow-{tag}-"))
    settings = Settings(
        kafka_bootstrap=args.kafka,
        topic_prefix=tag,
        app_id=tag,
        partitions=args.partitions,
        web_port=free_port(),
        data_dir=str(workdir / "data"),
        eventstore_url=f"sqlite:///{workdir / 'audit.db'}",
        batch_size=args.batch_size,
    )
    profile = args.profile.resolve() if args.profile else None
    worker = WorkerProcess(settings, workdir, args.worker_loglevel, profile=profile)
    progress(f"run {tag}: topics {tag}.*, temp dir {workdir}")
    try:
        published = publish(settings, args.events, args.seed, args.timeout, args.bundle)
        raw_seconds = raw_consume(settings, args.events, args.timeout)
        e2e = end_to_end(worker, args.events, args.timeout)
        worker.stop()
        if e2e.sell_through != published.quantity:
            raise BenchError(
                f"Σ sell_through is {e2e.sell_through:,}, the published quantities sum "
                f"to {published.quantity:,}"
            )
        report(args, published, raw_seconds, e2e)
        if profile is not None:
            progress(f"worker profile written to {profile}")
        return 0
    except BenchError as exc:
        print(f"slice_throughput: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        worker.stop()
        clean_up(args.keep, workdir, settings.kafka_bootstrap, tag)


if __name__ == "__main__":
    sys.exit(main())
