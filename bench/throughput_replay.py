"""Phase 2 of bench/throughput.py, the replays: the bundled set's events replayed from a file
and from its topics, in process and with `channelflow replay --jobs 2`."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.common import (
    REPO,
    BenchError,
    batch_gc,
    progress,
    rate,
    run_async,
)
from bench.throughput_run import Row, Run
from schemas.codec import encode_event
from streams.config import Settings
from streams.generator import generate_sales, sales_catalog
from streams.runners.embedded import EmbeddedChannel, file_inputs
from streams.runners.kafka_replay import raw_history

TARGET_REPLAY = 100_000.0


def replays(run: Run, settings: Settings) -> None:
    """The replay of the bundled set's events: from a file and from its topics."""
    events = [*sales_catalog(), *generate_sales(run.args.bundled, seed=run.args.seed)]
    path = run.workdir / "events.jsonl"
    path.write_bytes(b"".join(encode_event(e) + b"\n" for e in events))
    target = f">= {TARGET_REPLAY:,.0f}/s with --jobs 2"
    progress(f"replay: {len(events):,} events from a file, in process")
    started = time.perf_counter()
    with batch_gc():  # as `channelflow replay` runs
        EmbeddedChannel().feed(file_inputs(path))
    file_rate = rate(len(events), time.perf_counter() - started)
    run.add(Row("replay from a file, sequential (in process)", file_rate, "events/s"))

    async def from_kafka() -> None:
        history = [item async for item in raw_history(settings)]
        with batch_gc():
            EmbeddedChannel().feed(history)

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
