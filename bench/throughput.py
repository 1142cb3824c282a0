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

Targets are printed, never asserted; the exit status is 0 unless something broke (a
phase timed out, a worker died, figures disagree with what was published). Progress on
stderr, the table on stdout.

    .venv/bin/python -m bench.throughput            # a few minutes on 2 cores
    .venv/bin/python -m bench.throughput --quick    # a smoke run (about a minute)
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import math
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import orjson
from aiokafka.errors import KafkaError

from bench.common import (
    DEFAULT_KAFKA,
    REPO,
    BenchError,
    WorkerProcess,
    clean_up,
    free_port,
    machine,
    positive_int,
    progress,
    rate,
    remove_topics,
    run_async,
    samples,
    verdict,
    wait_for_leaders,
)
from bench.ingest_throughput import through_kafka, write_csv
from bench.slice_throughput import Published, end_to_end, publish, quality, raw_consume
from schemas.codec import encode_event
from schemas.events import SaleReported
from schemas.topics import topic_name
from streams.config import Settings
from streams.generator import generate_sales, sales_catalog
from streams.kafka.io import ensure_topics, publish_events, send_messages, start_producer
from streams.kafka.messages import Message, message_of
from streams.runners.embedded import EmbeddedChannel, file_inputs
from streams.runners.kafka_replay import raw_history

TARGET_SINGLE_VS_FAUST = 0.8
TARGET_BUNDLED = 40_000.0
TARGET_BUNDLED_RATIO = 0.12
TARGET_GATEWAY = 50_000.0
TARGET_REPLAY = 100_000.0
TARGET_P99_SECONDS = 0.250
LATENCY_METRIC = "channelflow_ingest_to_projection_seconds"
TICK_SECONDS = 0.05


@dataclass(frozen=True)
class Row:
    figure: str
    value: float | None  # None: not measured (see note)
    unit: str
    raw: str = ""  # the ratio to the raw baseline of the same run, where it means something
    target: str = ""
    ok: bool | None = None  # None: no target
    note: str = ""
    at_least: bool = False  # the value is a lower bound


@dataclass
class Run:
    args: argparse.Namespace
    tag: str
    workdir: Path
    rows: list[Row] = field(default_factory=list)
    workers: list[WorkerProcess] = field(default_factory=list)

    def settings(self, name: str) -> Settings:
        """A topic set of its own (prefix, app id, data dir, port) for one phase."""
        prefix = f"{self.tag}{name}"
        data = self.workdir / name
        data.mkdir(exist_ok=True)
        return Settings(
            kafka_bootstrap=self.args.kafka,
            topic_prefix=prefix,
            app_id=prefix,
            partitions=self.args.partitions,
            web_port=free_port(),
            data_dir=str(data / "data"),
            eventstore_url=f"sqlite:///{data / 'audit.db'}",
        )

    def worker(self, settings: Settings) -> WorkerProcess:
        worker = WorkerProcess(settings, Path(settings.data_dir).parent)
        self.workers.append(worker)
        return worker

    def add(self, row: Row) -> None:
        self.rows.append(row)
        shown = "skipped" if row.value is None else f"{row.value:,.0f} {row.unit}"
        progress(f"== {row.figure}: {shown}")


def ratio(value: float, base: float) -> str:
    return f"{value / base:.3f}" if base else ""


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


def replays(run: Run, settings: Settings) -> None:
    """The replay of the bundled set's events: from a file and from its topics."""
    events = [*sales_catalog(), *generate_sales(run.args.bundled, seed=run.args.seed)]
    path = run.workdir / "events.jsonl"
    path.write_bytes(b"".join(encode_event(e) + b"\n" for e in events))
    target = f">= {TARGET_REPLAY:,.0f}/s with --jobs 2"
    progress(f"replay: {len(events):,} events from a file, in process")
    started = time.perf_counter()
    EmbeddedChannel().feed(file_inputs(path))
    file_rate = rate(len(events), time.perf_counter() - started)
    run.add(Row("replay from a file, sequential (in process)", file_rate, "events/s"))

    async def from_kafka() -> None:
        EmbeddedChannel().feed([item async for item in raw_history(settings)])

    progress("replay: the same events from Kafka (in bundles), in process")
    started = time.perf_counter()
    run_async(from_kafka(), run.args.timeout, "the replay from Kafka")
    kafka_rate = rate(len(events), time.perf_counter() - started)
    run.add(Row("replay from Kafka, sequential (in process)", kafka_rate, "events/s"))
    if "--jobs" not in cli_help("replay"):
        note = "not measured: `channelflow replay` has no --jobs yet"
        for source in ("a file", "Kafka"):
            run.add(
                Row(f"replay from {source}, --jobs 2", None, "events/s", "", target, None, note)
            )
        return
    for source, option in (("a file", ["--events", str(path)]), ("Kafka", ["--from-kafka"])):
        command = ["replay", *option, "--kafka", settings.kafka_bootstrap]
        command += ["--prefix", settings.topic_prefix, "--jobs", "2"]
        seconds = cli_seconds(command, run.args.timeout)
        figure = rate(len(events), seconds)
        run.add(
            Row(
                f"replay from {source}, --jobs 2 (CLI, start-up included)",
                figure,
                "events/s",
                "",
                target,
                figure >= TARGET_REPLAY,
            )
        )


def cli_help(command: str) -> str:
    found = subprocess.run(
        [sys.executable, "-m", "streams.cli", command, "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    return found.stdout


def cli_seconds(command: list[str], timeout: float) -> float:
    """Wall seconds of `channelflow COMMAND` (its output discarded); it must succeed."""
    progress(f"channelflow {' '.join(command)}")
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "streams.cli", *command],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"channelflow {command[0]} did not finish in {timeout:.0f} s") from None
    if done.returncode != 0:
        raise BenchError(f"channelflow {' '.join(command)} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started


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
            f"CPU of the gateway process alone {found['cpu']:,.0f} lines/s",
        )
    )


# -- 4. latency at a steady rate -------------------------------------------------------------


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
    sent_seconds = run_async(steady(settings, lines, args.rate), args.timeout, "steady publishing")
    drain = max(60.0, 4 * args.seconds)
    progress(f"latency: waiting up to {drain:.0f} s for the worker to apply them all")
    # far behind, the lines not applied by then waited longer than `drain`: that is the figure
    poll(worker, lambda: quality(worker).accepted >= count, time.perf_counter() + drain)
    p99, within = applied_p99(worker.metrics(), topic_name(settings.topic_prefix, "sales"), count)
    worker.stop()
    note = (
        f"sent at {rate(count, sent_seconds):,.0f} lines/s; {within:.1%} of them applied within "
        f"{TARGET_P99_SECONDS * 1000:.0f} ms"
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


# -- the table ---------------------------------------------------------------------------------


def table(run: Run, seconds: float) -> str:
    a = run.args
    lines = [
        "",
        f"channelflow throughput (issue 14), {machine()}; the run took {seconds:.0f} s",
        f"single {a.single:,} sales, bundled {a.bundled:,} sales (bundles of {a.bundle}), CSV "
        f"{a.csv_lines:,} lines, latency {a.rate:,.0f} lines/s for {a.seconds:.0f} s, "
        f"{a.partitions} partitions",
        "",
        f"| {'figure':<56} | {'value':>18} | {'vs raw':>6} | {'target':<44} | verdict |",
        f"|{'-' * 58}|{'-' * 19}:|{'-' * 7}:|{'-' * 46}|---------|",
    ]
    for row in run.rows:
        value = "—" if row.value is None else f"{row.value:,.0f} {row.unit}"
        if row.at_least:
            value = f"> {value}"
        ok = "" if row.ok is None else verdict(row.ok)
        lines.append(
            f"| {row.figure:<56} | {value:>18} | {row.raw:>6} | {row.target:<44} | {ok:<7} |"
        )
    notes = [f"- {row.figure}: {row.note}" for row in run.rows if row.note]
    return "\n".join([*lines, "", *notes])


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
        for phase in (single_messages, bundled_lines, gateway, latency):
            phase(run)
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
