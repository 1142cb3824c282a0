"""Replay speed (the auditor's `replay` / `verify` path) against the raw read rate.

One run measures, on the same generated events:

1. file, raw: read the JSON Lines file and split it into lines (`file_inputs`), and the
   same plus `orjson.loads` of every line;
2. file, reducers: `process_batch` on fresh in-memory stores (decode, dedup, reducers;
   no audit store) — the "pure reducers" figure the target is about;
3. file, replay: `EmbeddedChannel.feed(file_inputs(...))`, i.e. `channelflow replay
   --events` (reducers, then audit facts and statements into an in-memory SQLite store);
   and (sale lines only) the same lines as a worker gets them, in bundles of up to 500
   of a distributor and day, through `process_batch` in batches of about 2,000 lines: the
   per-line cost of the reducers on the worker's path, without Kafka or RocksDB;
4. Kafka (unless --no-kafka): the events published to fresh topics, then a raw aiokafka
   consume (getmany, no decoding) and the replay through `raw_history` + `EmbeddedChannel`
   as `channelflow replay --from-kafka` does; the topics are deleted afterwards;
5. the command's own path, `replay_of` as `channelflow replay --jobs 1` and `--jobs N`
   run it (snapshot built; with N jobs the audit facts are recorded only for `verify`: a
   row of its own), from the file and from Kafka, side by side with the raw read of the
   same source in the same run, against the target for --jobs 2.

With --profile FILE the file replay (3) runs under cProfile, the stats are written to
FILE and the top functions printed. Figures go to stdout, progress to stderr. The
target is printed as PASS/MISS, never asserted.

    .venv/bin/python -m bench.replay_throughput --events 100000
    .venv/bin/python -m bench.replay_throughput --events 50000 --jobs 2
    .venv/bin/python -m bench.replay_throughput --stream channel --weeks 52 --no-kafka
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.common import progress, remove_topics, verdict
from projections.stores import ChannelStores
from schemas.codec import encode_event
from schemas.events import Envelope
from schemas.topics import topic_name
from streams.cli.main import build_parser
from streams.cli.support import Replay, replay_of
from streams.config import Settings
from streams.generator import generate_channel, generate_sales, sales_catalog
from streams.kafka.io import ensure_topics, publish_events
from streams.kafka.messages import BUNDLE_EVENTS, bundled, message_of
from streams.runners.embedded import EmbeddedChannel, file_inputs
from streams.runners.kafka_replay import MOVEMENT_PHASE, REFERENCE_PHASE, raw_history
from streams.runners.processing import Input, grouped, process_batch

TARGET = 250_000.0  # events/s through the pure reducers, from a file
JOBS_TARGET = 100_000.0  # events/s of `channelflow replay --jobs 2`, from a file and from Kafka


def timed(what: str, run: Callable[[], int]) -> tuple[str, int, float]:
    progress(f"{what} ...")
    started = time.perf_counter()
    count = run()
    return what, count, time.perf_counter() - started


def events_of(args: argparse.Namespace) -> list[Envelope]:
    if args.stream == "sales":
        return [*sales_catalog(), *generate_sales(args.events, seed=args.seed)]
    return list(generate_channel(seed=args.seed, weeks=args.weeks))


def read_lines(path: Path) -> int:
    return sum(1 for _ in file_inputs(path))


def read_and_parse(path: Path) -> int:
    return sum(1 for item in file_inputs(path) if orjson.loads(item.raw) is not None)


def reducers(path: Path) -> int:
    return process_batch(ChannelStores(), file_inputs(path)).applied


def bundled_inputs(events: list[Envelope]) -> list[Input]:
    """The events as a worker gets a distributor's reports: its movement lines of a day
    together in bundles of up to BUNDLE_EVENTS (reference data first, as it is
    published), each message at a Kafka position of its own."""

    def day_and_key(event: Envelope) -> tuple[bool, date, str]:
        distributor = getattr(event, "distributor_id", None)
        return distributor is not None, event.business_time.date(), distributor or ""

    ordered = sorted(events, key=day_and_key)
    return [
        Input(bundle.value, bundle.key.decode(), bundle.topic, 0, offset)
        for offset, bundle in enumerate(bundled(message_of(e) for e in ordered))
    ]


def bundled_reducers(inputs: list[Input]) -> int:
    """`process_batch` over the bundles in batches of about 2,000 lines, as the worker
    takes them, on fresh in-memory stores; returns the events applied."""
    stores = ChannelStores()
    events = 0
    for group in grouped(inputs, 2000):
        result = process_batch(stores, group)
        events += sum(result.consumed.values())
    return events


def replay(path: Path) -> int:
    return EmbeddedChannel().feed(file_inputs(path)).applied


def replay_command(*flags: str) -> Replay:
    """`channelflow replay` with these flags, as the command runs it (snapshot built)."""
    args = build_parser().parse_args(["replay", *flags])
    return replay_of(args, None)


Measured = tuple[str, int, float, float]  # what, events, wall seconds, CPU seconds


def cpu_seconds() -> float:
    """CPU time of this process and of its children that ended (a parallel replay's jobs)."""
    mine = resource.getrusage(resource.RUSAGE_SELF)
    jobs = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + jobs.ru_utime + jobs.ru_stime


def command_rows(source: str, flags: tuple[str, ...], jobs: int, events: int) -> list[Measured]:
    """The command's path with one process and with `jobs`; then the audit facts of the
    parallel replay recorded (what `verify` adds)."""
    rows = []
    for n in (1, jobs):
        progress(f"{source}: replay --jobs {n} ...")
        started, cpu = time.perf_counter(), cpu_seconds()
        replayed = replay_command(*flags, "--jobs", str(n))
        rows.append((f"{source}: replay --jobs {n}", events, time.perf_counter() - started,
                     cpu_seconds() - cpu))  # fmt: skip
    replayed.audit()
    rows.append((f"{source}: replay --jobs {jobs} + audit facts", events,
                 time.perf_counter() - started, cpu_seconds() - cpu))  # fmt: skip
    return rows


def profiled(path: Path, out: Path, top: int) -> int:
    profile = cProfile.Profile()
    count = profile.runcall(replay, path)
    profile.dump_stats(out)
    stats = pstats.Stats(str(out), stream=sys.stderr).sort_stats("tottime")
    stats.print_stats(top)
    return count


async def kafka_figures(settings: Settings, events: list[Envelope]) -> list[tuple[str, int, float]]:
    await ensure_topics(settings)
    started = time.perf_counter()
    sent = await publish_events(settings, events)
    rows = [("kafka publish", sent, time.perf_counter() - started)]
    progress("kafka raw consume ...")
    started = time.perf_counter()
    consumed = await raw_consume(settings)
    rows.append(("kafka raw consume", consumed, time.perf_counter() - started))
    progress("kafka replay ...")
    started = time.perf_counter()
    inputs = [item async for item in raw_history(settings)]
    read = time.perf_counter() - started
    channel = EmbeddedChannel()
    applied = channel.feed(inputs).applied
    rows.append(("kafka replay: read in order", len(inputs), read))
    rows.append(("kafka replay: read + reducers + audit", applied, time.perf_counter() - started))
    return rows


async def raw_consume(settings: Settings) -> int:
    """Every message of the raw topics from the beginning: no decoding, no ordering."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        auto_offset_reset="earliest",  # as streams/runners/kafka_replay.py: a reset may land last
    )
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()
        partitions = [
            TopicPartition(name, p)
            for logical in (*REFERENCE_PHASE, *MOVEMENT_PHASE)
            for name in [topic_name(settings.topic_prefix, logical)]
            for p in cluster.partitions_for_topic(name) or ()
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        total, count = sum(end.values()), 0
        while count < total:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            count += sum(len(found) for found in batches.values())
        return count
    finally:
        await consumer.stop()


def table(rows: Iterable[tuple[str, int, float]], raw: dict[str, float]) -> None:
    print(f"{'measure':<40} {'events':>9} {'seconds':>8} {'events/s':>10} {'vs raw':>7}")
    for what, count, seconds in rows:
        rate = count / seconds if seconds else 0.0
        base = raw["kafka" if what.startswith("kafka") else "file"]
        print(f"{what:<40} {count:>9,} {seconds:>8.2f} {rate:>10,.0f} {rate / base:>7.3f}")


def side_by_side(raw: dict[str, float], commands: dict[str, list[Measured]]) -> None:
    """Per source: the raw read, the command with one process and with N jobs (events per
    wall second, and CPU seconds of the process and its jobs), the speed-up, and PASS/MISS
    against the --jobs 2 target."""
    print()
    print(f"{'replay':<6} {'raw read/s':>11} {'--jobs 1/s':>11} {'cpu s':>6} {'--jobs N/s':>11} "
          f"{'cpu s':>6} {'N':>2} {'speed-up':>8} {'N + audit/s':>12}")  # fmt: skip
    for source, rows in commands.items():
        (_, n1, s1, c1), (what, nn, sn, cn), (_, na, sa, _) = rows
        jobs = what.rsplit(" ", 1)[-1]
        print(f"{source:<6} {raw[source]:>11,.0f} {n1 / s1:>11,.0f} {c1:>6.1f} {nn / sn:>11,.0f} "
              f"{cn:>6.1f} {jobs:>2} {s1 / sn:>7.2f}x {na / sa:>12,.0f}")  # fmt: skip
    print("(cpu s: the process and its jobs; with N idle cores, --jobs N takes about cpu / N)")
    for source, rows in commands.items():
        what, count, seconds, _ = rows[1]
        verdict = "PASS" if count / seconds >= JOBS_TARGET else "MISS"
        print(f"target >= {JOBS_TARGET:,.0f} events/s with `replay --jobs 2` from {source} "
              f"(measured: {what.split(': ', 1)[1]}): {verdict}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="sale lines (stream sales)")
    parser.add_argument("--stream", choices=["sales", "channel"], default="sales")
    parser.add_argument("--weeks", type=int, default=52, help="weeks (stream channel)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2, help="jobs of the parallel replay rows")
    parser.add_argument("--kafka", default=Settings.from_env().kafka_bootstrap)
    parser.add_argument("--no-kafka", action="store_true", help="file figures only")
    parser.add_argument("--profile", type=Path, help="cProfile the file replay into FILE")
    parser.add_argument("--top", type=int, default=25, help="functions printed with --profile")
    args = parser.parse_args(argv)

    events = events_of(args)
    #: the sale lines as the worker gets them (in bundles): the figure of issue 14's item 2
    bundles = bundled_inputs(events) if args.stream == "sales" else []
    commands: dict[str, list[Measured]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        path.write_bytes(b"".join(encode_event(e) + b"\n" for e in events))
        rows = [
            timed("file raw: read + split lines", lambda: read_lines(path)),
            timed("file raw: read + split + orjson.loads", lambda: read_and_parse(path)),
            timed("file: reducers (process_batch)", lambda: reducers(path)),
            timed("file: replay (reducers + audit store)", lambda: replay(path)),
        ]
        if bundles:
            rows.append(timed(f"bundles of {BUNDLE_EVENTS}: reducers (process_batch)",
                              lambda: bundled_reducers(bundles)))  # fmt: skip
        if args.profile:
            rows.append(timed("file: replay under cProfile",
                              lambda: profiled(path, args.profile, args.top)))  # fmt: skip
        commands["file"] = command_rows("file", ("--events", str(path)), args.jobs, len(events))
    raw = {"file": rows[0][1] / rows[0][2], "kafka": 1.0}
    if not args.no_kafka:
        tag = f"bench{uuid.uuid4().hex[:8]}"
        settings = Settings(kafka_bootstrap=args.kafka, topic_prefix=tag, partitions=4)
        flags = ("--from-kafka", "--kafka", args.kafka, "--prefix", tag)
        try:
            kafka = asyncio.run(kafka_figures(settings, events))
            commands["kafka"] = command_rows("kafka", flags, args.jobs, len(events))
        finally:
            remove_topics(settings.kafka_bootstrap, settings.topic_prefix)
        raw["kafka"] = kafka[1][1] / kafka[1][2]
        rows += kafka
    print(f"{len(events):,} events ({args.stream}); raw = the first line of the same source")
    table([*rows, *(row[:3] for source in commands.values() for row in source)], raw)
    reducer_rate = rows[2][1] / rows[2][2]
    print(
        f"target >= {TARGET:,.0f} events/s through the reducers from a file: "
        f"{verdict(reducer_rate >= TARGET)}"
    )
    side_by_side(raw, commands)
    return 0


if __name__ == "__main__":
    sys.exit(main())
