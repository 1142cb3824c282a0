"""The worker's memory while one topic partition is held for another: with and without a cap.

One run, on fresh topics and a fresh event store (SQLite, in the run's directory): a
distributor's `--sales` sales are published one a message, then its `--shipments`
shipments in bundles, all before the worker starts. Every shipment is stamped after every
sale, so the broker-time order holds the shipments until the sales are all admitted.
faust's delivery loop is shared by both partitions: a fetch (`--fetch-bytes` a partition,
faust's `CONSUMER_MAX_FETCH_SIZE`) brings about as many bytes of each, so the hold grows to
about as many shipments as there are sales (in bytes). Without a cap the hold takes them
all in; with one (`--cap`, events per topic partition, `CHANNELFLOW_ORDER_HELD_MAX_EVENTS`)
the shipments' partition is paused past it.

Printed per run: the worker's peak RSS (VmHWM) and the largest sampled while it held
inputs (VmRSS), its CPU seconds (user + system, from /proc), the seconds until every event
was applied, the largest `channelflow_order_held_events` seen (sampled every 0.2 s) and
`channelflow_order_pauses_total`. `--code DIR` runs the worker from another checkout (an
extracted base revision, for an A/B).

    .venv/bin/python -m bench.held_cap --cap 10000 --cap 1000000000 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as clock
from pathlib import Path

from bench.common import (
    DEFAULT_KAFKA,
    REPO,
    WorkerProcess,
    free_port,
    positive_int,
    progress,
    remove_topics,
    samples,
)
from streams.config import Settings
from tests.integration.helpers import (
    catalog,
    numbered_sales,
    numbered_shipments,
    publish,
    weeks_ago,
)


@dataclass
class Outcome:
    peak_rss: int
    #: the largest RSS sampled while inputs were held
    holding_rss: int
    cpu: float
    seconds: float
    held: float
    pauses: float


def metrics(worker: WorkerProcess) -> dict[str, float]:
    """The worker's samples summed by name."""
    found: dict[str, float] = {}
    for name, _, value in samples(worker.metrics()):
        found[name] = found.get(name, 0.0) + value
    return found


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(args: argparse.Namespace, cap: int) -> Outcome:
    tag = f"hc{uuid.uuid4().hex[:8]}"
    workdir = Path(tempfile.mkdtemp(prefix=f"{tag}-"))
    settings = Settings(
        kafka_bootstrap=args.kafka, topic_prefix=tag, app_id=tag, partitions=1,
        eventstore_url=f"sqlite:///{workdir / 'audit.db'}", decisions_relay=False,
        web_port=free_port(), api_port=free_port(), data_dir=str(workdir / "data"),
    )  # fmt: skip
    at = datetime.combine(weeks_ago(3), clock(9), UTC)
    worker = WorkerProcess(
        settings,
        workdir,
        extra_env={
            "CHANNELFLOW_ORDER_HELD_MAX_EVENTS": str(cap),
            "CONSUMER_MAX_FETCH_SIZE": str(args.fetch_bytes),
        },
        root=args.code,
    )
    try:
        publish(settings, catalog("SKU-H"))
        publish(settings, numbered_sales(0, args.sales, sku="SKU-H", distributors=1, at=at), 1)
        publish(settings, numbered_shipments(args.shipments, sku="SKU-H", at=at))
        total = args.sales + args.shipments
        worker.start()
        began, held, holding_rss = time.monotonic(), 0.0, 0
        seen: dict[str, float] = {}
        while seen.get("channelflow_events_consumed_total", 0.0) < total:
            worker.check_alive()
            if time.monotonic() - began > args.timeout:
                raise SystemExit(f"not applied in {args.timeout:.0f} s: {worker.log_tail()}")
            try:
                seen = metrics(worker)
            except OSError:
                seen = {}
            now_held = seen.get("channelflow_order_held_events", 0.0)
            held = max(held, now_held)
            if now_held:
                holding_rss = max(holding_rss, worker.rss()[0])
            time.sleep(0.2)
        seconds = time.monotonic() - began
        return Outcome(
            worker.rss()[1],
            holding_rss,
            cpu_seconds(worker.pid),
            seconds,
            held,
            seen.get("channelflow_order_pauses_total", float("nan")),
        )
    finally:
        worker.stop(30)
        shutil.rmtree(workdir, ignore_errors=True)
        remove_topics(args.kafka, tag)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench.held_cap", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cap", type=positive_int, action="append", help="events held per topic partition"
    )
    parser.add_argument("--rounds", type=positive_int, default=1, help="runs of each cap")
    parser.add_argument("--sales", type=positive_int, default=60_000)
    parser.add_argument("--shipments", type=positive_int, default=150_000)
    parser.add_argument("--fetch-bytes", type=positive_int, default=1_048_576)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--code", type=Path, default=REPO, help="checkout the worker runs")
    parser.add_argument("--kafka", default=DEFAULT_KAFKA)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for n in range(args.rounds):
        for cap in args.cap or [10_000]:  # alternating: each round runs every cap
            progress(f"round {n}: cap {cap} ({args.code})")
            o = one_run(args, cap)
            print(
                f"cap {cap} ({args.code.name}): peak RSS {o.peak_rss / 2**20:.0f} MiB "
                f"({o.holding_rss / 2**20:.0f} MiB while holding), "
                f"CPU {o.cpu:.1f} s, applied in {o.seconds:.1f} s, held up to {o.held:.0f} "
                f"events, pauses {o.pauses:.0f}; load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
