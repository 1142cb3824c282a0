"""channelflow's throughput figures of issue 14 in one run and one table, each beside the
raw baseline of the same run, with the targets as PASS/MISS.

Phases (fresh topics `bench<random><set>.*` per set, deleted at the end):

1. single-event messages (set `s`): N sales, one per message. Raw baseline: aiokafka
   `getmany` + `orjson.loads`. Then a Faust agent that only counts (bench/faust_noop.py),
   the channelflow worker end to end, and, when quixstreams is installed (the `peers`
   extra), the quixstreams peer (bench/quix_peer.py).
2. bundled report lines (set `b`): N sales, a distributor's lines of a day together in
   bundles of up to 500. Raw baseline as above (events/s), then the worker end to end,
   then the auditor's replay of the same events from a file and from these topics
   (in-process, sequential; and `channelflow replay --jobs 2` when the CLI has --jobs).
3. the ingest gateway (set `g`): a CSV report through check, spool and publish to Kafka,
   as `channelflow ingest FILE` runs it (bundled).
4. latency (set `l`): a running worker; sales published at a steady rate (default 10,000
   lines/s, a tick every 50 ms), then the p99 of the worker's
   `channelflow_ingest_to_projection_seconds` histogram (broker append time to applied).
   Then (set `l2`, the worker's 12 partitions) the same lines at the same rate to two
   workers in one consumer group, settled before the first line: their histograms merged.

Targets are printed, never asserted; the exit status is 0 unless something broke (a
phase timed out, a worker died, figures disagree with what was published). Progress on
stderr, the table on stdout.

    .venv/bin/python -m bench.throughput            # a few minutes on 2 cores
    .venv/bin/python -m bench.throughput --quick    # a smoke run (about a minute)
    .venv/bin/python -m bench.throughput --phases latency --latency-workers 2
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import orjson
from aiokafka.errors import KafkaError

from bench.common import (
    DEFAULT_KAFKA,
    REPO,
    BenchError,
    clean_up,
    positive_int,
    progress,
    rate,
    remove_topics,
    run_async,
)
from bench.ingest_throughput import through_kafka, write_csv
from bench.slice_phases import Published, end_to_end, publish, raw_consume
from bench.throughput_latency import latency
from bench.throughput_replay import replays
from bench.throughput_run import Row, Run, ratio, table
from schemas.topics import topic_name
from streams.config import Settings
from streams.kafka.io import ensure_topics

TARGET_SINGLE_VS_FAUST = 0.8
TARGET_BUNDLED = 40_000.0
TARGET_BUNDLED_RATIO = 0.12
TARGET_GATEWAY = 50_000.0


# -- 1. single-event messages ----------------------------------------------------------------


def single_messages(run: Run) -> None:
    args = run.args
    settings = run.settings("s")
    published = publish(settings, args.single, args.seed, args.timeout, 1)
    raw = rate(args.single, raw_consume(settings, args.single, args.timeout))
    run.add(Row("raw getmany + orjson.loads, an event per message", raw, "msgs/s", "1.000"))
    topic = topic_name(settings.topic_prefix, "sales")
    partitions = ["--partitions", str(args.partitions)]
    noop = peer(run, "faust_noop", topic, args.single, f"{run.tag}n", partitions)
    run.add(Row("Faust no-op agent, an event per message", noop, "msgs/s", ratio(noop, raw)))
    e2e = worker_end_to_end(run, settings, published)
    run.add(
        Row(
            "channelflow end to end, an event per message",
            e2e,
            "msgs/s",
            ratio(e2e, raw),
            f">= {TARGET_SINGLE_VS_FAUST} x Faust no-op ({TARGET_SINGLE_VS_FAUST * noop:,.0f})",
            e2e >= TARGET_SINGLE_VS_FAUST * noop,
        )
    )
    if importlib.util.find_spec("quixstreams") is None:
        run.add(
            Row(
                "quixstreams peer (per-key sum + dedup, RocksDB)",
                None,
                "msgs/s",
                note="skipped: quixstreams is not installed (pip install -e '.[peers]')",
            )
        )
        return
    try:
        quix = peer(run, "quix_peer", topic, args.single, f"{run.tag}q")
    finally:  # quixstreams names its changelog topics after the consumer group
        remove_topics(args.kafka, f"changelog__{run.tag}q")
    run.add(
        Row("quixstreams peer (per-key sum + dedup, RocksDB)", quix, "msgs/s", ratio(quix, raw))
    )


def peer(
    run: Run, module: str, topic: str, count: int, group: str, extra: Sequence[str] = ()
) -> float:
    """Messages/s of a peer consumer subprocess (bench/<module>.py) over `count` messages
    of `topic`, from its first message to its last; it writes the figure to a file."""
    result = run.workdir / f"{module}.json"
    log = run.workdir / f"{module}.log"
    command = [sys.executable, "-m", f"bench.{module}", "--topic", topic, "--count", str(count)]
    command += ["--result", str(result), "--kafka", run.args.kafka, "--group", group]
    command += extra
    progress(f"{module}: reading {count:,} messages of {topic}")
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.perf_counter() + run.args.timeout
        while not result.exists():
            if proc.poll() is not None:
                raise BenchError(f"{module} exited with status {proc.returncode}:\n{tail(log)}")
            if time.perf_counter() > deadline:
                raise BenchError(f"{module} did not read {count:,} messages in time:\n{tail(log)}")
            time.sleep(0.2)
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)
    found = orjson.loads(result.read_bytes())
    return rate(found["messages"], found["seconds"])


def tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def worker_end_to_end(run: Run, settings: Settings, published: Published) -> float:
    """Sales/s through a channelflow worker from its first applied batch; checks that
    every line was accepted and Σ sell_through is Σ quantity."""
    worker = run.worker(settings)
    try:
        found = end_to_end(worker, published.count, run.args.timeout)
    finally:
        worker.stop()
    if found.sell_through != published.quantity:
        raise BenchError(
            f"Σ sell_through is {found.sell_through:,}, the published quantities sum to "
            f"{published.quantity:,}"
        )
    return found.events_per_second


# -- 2. bundled report lines, and the replay of them ------------------------------------------


def bundled_lines(run: Run) -> None:
    args = run.args
    settings = run.settings("b")
    published = publish(settings, args.bundled, args.seed, args.timeout, args.bundle)
    raw = rate(args.bundled, raw_consume(settings, args.bundled, args.timeout))
    run.add(Row(f"raw getmany + orjson.loads, bundles of {args.bundle}", raw, "events/s", "1.000"))
    e2e = worker_end_to_end(run, settings, published)
    good = e2e >= TARGET_BUNDLED and e2e / raw >= TARGET_BUNDLED_RATIO
    run.add(
        Row(
            "channelflow end to end, bundled report lines",
            e2e,
            "lines/s",
            ratio(e2e, raw),
            f">= {TARGET_BUNDLED:,.0f}/s per worker, >= {TARGET_BUNDLED_RATIO} x raw",
            good,
        )
    )
    replays(run, settings)


# -- 3. the ingest gateway -------------------------------------------------------------------


def gateway(run: Run) -> None:
    settings = run.settings("g")
    path = run.workdir / "sales.csv"
    progress(f"gateway: writing {run.args.csv_lines:,} CSV lines")
    write_csv(path, run.args.csv_lines, run.args.seed)
    run_async(ensure_topics(settings), 120, "creating the gateway's topics")
    progress("gateway: the CSV through check, spool and publish")
    found = run_async(through_kafka(settings, "csv", path), run.args.timeout, "the gateway")
    run.add(
        Row(
            "ingest gateway, CSV into Kafka (bundled)",
            found["total"],
            "lines/s",
            "",
            f">= {TARGET_GATEWAY:,.0f}/s",
            found["total"] >= TARGET_GATEWAY,
            f"wall: check {found['check']:,.0f}/s, publish {found['publish']:,.0f}/s; "
            f"CPU of the gateway (its check processes included) {found['cpu']:,.0f} lines/s",
        )
    )


PHASES = {
    "single": single_messages,
    "bundled": bundled_lines,
    "gateway": gateway,
    "latency": latency,
}


def counts(text: str) -> tuple[int, ...]:
    """An argparse type: comma-separated positive integers ("1,2")."""
    return tuple(positive_int(part) for part in text.split(","))


def phase_names(text: str) -> tuple[str, ...]:
    """An argparse type: comma-separated names of PHASES, run in PHASES' order."""
    names = set(text.split(","))
    if unknown := names - set(PHASES):
        raise argparse.ArgumentTypeError(f"no phase {', '.join(sorted(unknown))}")
    return tuple(name for name in PHASES if name in names)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="throughput",
        description="Issue 14's throughput figures in one run and one table, beside the raw "
        "baseline of the same run; targets printed as PASS/MISS, never asserted.",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run with small counts")
    parser.add_argument("--single", type=positive_int, help="sales sent one per message (20000)")
    parser.add_argument("--bundled", type=positive_int, help="sales sent in bundles (100000)")
    parser.add_argument("--bundle", type=positive_int, default=500, help="bundle size (500)")
    parser.add_argument("--csv-lines", type=positive_int, help="CSV lines (200000)")
    parser.add_argument("--rate", type=positive_int, default=10_000, help="lines/s (10000)")
    parser.add_argument("--seconds", type=float, help="seconds at that rate (15)")
    parser.add_argument("--partitions", type=positive_int, default=4, help="default 4")
    parser.add_argument(
        "--latency-workers",
        type=counts,
        default=(1, 2),
        help="the latency phase's rows: its workers (one consumer group) for each (1,2)",
    )
    parser.add_argument(
        "--latency-partitions",
        type=positive_int,
        default=Settings().partitions,
        help="partitions of the latency topics of more than one worker "
        f"(default {Settings().partitions}, the worker's)",
    )
    parser.add_argument(
        "--latency-distributors",
        type=positive_int,
        default=8,
        help="distributors the latency phase's lines come from (8)",
    )
    parser.add_argument(
        "--phases",
        type=phase_names,
        default=tuple(PHASES),
        help=f"the phases to run, comma-separated ({','.join(PHASES)})",
    )
    parser.add_argument("--seed", type=int, default=7, help="generator seed (7)")
    parser.add_argument("--kafka", default=DEFAULT_KAFKA, help="default %(default)s")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a phase may take")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and the topics")
    return parser


def sized(args: argparse.Namespace) -> argparse.Namespace:
    """The counts not given: the default run's, or --quick's."""
    defaults = {"single": 20_000, "bundled": 100_000, "csv_lines": 200_000, "seconds": 15.0}
    quick = {"single": 5_000, "bundled": 20_000, "csv_lines": 20_000, "seconds": 3.0}
    for name, value in (quick if args.quick else defaults).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv: list[str] | None = None) -> int:
    args = sized(build_parser().parse_args(argv))
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    tag = f"bench{uuid.uuid4().hex[:8]}"
    workdir = Path(tempfile.mkdtemp(prefix=f"channelflow-{tag}-"))
    run = Run(args, tag, workdir)
    progress(f"run {tag}: topics {tag}*, temp dir {workdir}")
    began = time.perf_counter()
    try:
        for name in args.phases:
            PHASES[name](run)
        print(table(run, time.perf_counter() - began), flush=True)
        return 0
    except KafkaError as exc:
        print(f"throughput: error: Kafka at {args.kafka}: {exc} (make kafka-up)", file=sys.stderr)
        return 1
    except BenchError as exc:
        print(f"throughput: error: {exc}", file=sys.stderr)
        if run.rows:
            print(table(run, time.perf_counter() - began), flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        for worker in run.workers:
            worker.stop()
        clean_up(args.keep, workdir, args.kafka, tag)


if __name__ == "__main__":
    sys.exit(main())
