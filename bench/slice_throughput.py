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
from pathlib import Path

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
    verdict,
)
from bench.slice_phases import BATCH_METRIC, EndToEnd, Published, end_to_end, publish, raw_consume
from streams.config import Settings

TARGET_RATE = 20_000.0  # events/s end to end
TARGET_RATIO = 0.4  # end to end / raw consume + decode

# -- cleanup and report ----------------------------------------------------------------


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


def reference_line(e2e: EndToEnd) -> str:
    """How long the batches waited for the reference replica (docs/DESIGN.md, "Reference
    data in every worker"): the watermark's cost."""
    waited = e2e.reference_wait_seconds
    if waited is None or not e2e.batches:
        return "reference waits: n/a (no channelflow_reference_wait_seconds in /metrics)"
    return (
        f"reference waits: {waited:.3f} s in all, {waited / e2e.batches * 1e3:.1f} ms a batch "
        f"({waited / e2e.from_ready_seconds:.1%} of the run from /health)"
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
        reference_line(e2e),
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
