"""How a worker scales with the length of its history (issue 12).

A generated channel (bench/channel_history.py: 50 distributors, 200 SKUs, 60+ weeks of
weekly reports, prices, two rebate programs, counts, late lines after a close) is published
in steps to one `channelflow worker` on fresh topics, its own PostgreSQL database and a
temp data dir. For each step:

1. the worker is stopped (SIGTERM) and the step is generated and published (its events
   recorded by the broker before the worker reads them; see "why stopped" below);
2. the worker is started on the same data dir; from its first applied event until every
   event of the step is applied, every GET endpoint of the API is requested in turn
   (latencies), /metrics is scraped for progress and /proc for the worker's RSS;
3. at rest: the past quarters closed, the figures checked against what was generated, the
   snapshot export timed, /api/inventory noted; then `kill -9`, a restart with the same
   settings and data dir, and the time until /health answers 200 and until /api/inventory
   answers exactly what it answered before the kill.

Then the late-lines figure: 1,000 and then 10,000 sale lines dated in a closed quarter are
published to the running worker, timed until the statement shows that many more
adjustments, with /health polled meanwhile.

Why stopped while a step is published: with the default grace (15 days) a running worker
closes a past quarter within one recording round (10 s) of applying its first line, and
every line of that quarter recorded after the close is one adjustment. Publishing a quarter
takes longer than that, so a running worker would turn most of each step's first quarter
into adjustments. Stopped, the whole step is recorded before the closes, as when a history
is loaded before its periods close; the steps' own late lines (20 a step) are the
adjustments.

Progress goes to stderr, the Markdown result to stdout; targets are printed (PASS/MISS),
never asserted. Exit status 0 unless something broke: a timeout, the worker died, an
endpoint answered 5xx or not at all, or a figure disagrees with the generated events (1).

    .venv/bin/python -m bench.history_scaling --quick
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.channel_history import ChannelHistory
from bench.common import (
    BenchError,
    drop_database,
    free_port,
    progress,
    remove_topics,
    run_async,
    run_database,
    wait_for_leaders,
)
from bench.history_client import Worker, wait_for
from bench.history_late import late_lines
from bench.history_report import report
from bench.history_run import STALL_SECONDS, Run
from bench.history_steps import apply_step, at_rest, publish_step, restart
from schemas.topics import DEAD_LETTER_TOPIC, RAW_TOPICS, topic_name
from streams.config import Settings
from streams.kafka.io import ensure_topics

DEFAULT_STEPS = "1000000,5000000"
QUICK_STEPS = "100000,300000"
DEFAULT_DSN = "postgresql://channelflow:channelflow@127.0.0.1:5433/channelflow_test"


# -- main ----------------------------------------------------------------------------------


def step_targets(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give event counts like 1000000,5000000"
        ) from None
    if not values or any(b <= a for a, b in zip([0, *values], values, strict=False)):
        raise argparse.ArgumentTypeError(f"{text!r}: the counts must be positive and increasing")
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="history_scaling",
        description=(
            "Publish a generated channel history in steps (cumulative event counts) to a "
            "channelflow worker and measure, per step: the apply rate, every GET endpoint's "
            "latency while it applies, its RSS, and the time from a kill -9 + restart to a "
            "correct /health and /api/inventory; then how long 1,000 and 10,000 late lines "
            "after a close take to become adjustments (issue 12)."
        ),
        epilog=(
            "Targets (printed, never asserted): last step's apply rate >= 0.8 x the first's; "
            "every endpoint's p99 <= 100 ms and RSS <= 1 GiB at 5,000,000 events; restart to "
            "serving <= 10 s. Needs Kafka and PostgreSQL (make kafka-up pg-up)."
        ),
    )
    add_history_arguments(parser)
    add_run_arguments(parser)
    return parser


def add_history_arguments(parser: argparse.ArgumentParser) -> None:
    """What history is published: its steps and seed."""
    parser.add_argument(
        "--steps",
        type=step_targets,
        default=None,
        help=f"cumulative events after each step (default {DEFAULT_STEPS})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a small run: --steps {QUICK_STEPS} (a few minutes)",
    )
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Where and how it runs: the servers, pacing, timeouts, the worker's log, cleanup."""
    parser.add_argument(
        "--pg-dsn",
        default=DEFAULT_DSN,
        help="PostgreSQL server (its database is used to create and drop one for the run); "
        f"default {DEFAULT_DSN}",
    )
    parser.add_argument(
        "--kafka",
        default=os.environ.get("CHANNELFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        help="bootstrap servers (default $CHANNELFLOW_KAFKA_BOOTSTRAP or 127.0.0.1:9092)",
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=0.05,
        help="seconds between two endpoint requests while a step is applied (default 0.05)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=14400.0,
        help="seconds allowed per phase (default 14400: applying 4,000,000 events at ~1,100/s "
        "takes about an hour here)",
    )
    parser.add_argument(
        "--late-timeout",
        type=float,
        default=600.0,
        help="seconds allowed for each batch of late lines to become adjustments (default 600; "
        f"it stops earlier when no recording round ends for {STALL_SECONDS:.0f} s)",
    )
    parser.add_argument(
        "--worker-loglevel", default="warning", help="the worker's --loglevel (default warning)"
    )
    parser.add_argument(
        "--api-process",
        action="store_true",
        help="also run `channelflow api` beside the worker and sample the endpoints there",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temp dir (worker.log, data dir), the topics and the run's database",
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.steps is None:
        args.steps = step_targets(QUICK_STEPS if args.quick else DEFAULT_STEPS)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    tag = f"hist{uuid.uuid4().hex[:10]}"
    workdir = Path(tempfile.mkdtemp(prefix=f"channelflow-{tag}-"))
    token = secrets.token_urlsafe(24)
    began = time.perf_counter()
    run_dsn: str | None = None
    worker: Worker | None = None
    run: Run | None = None
    try:
        history = ChannelHistory(args.seed, args.steps, datetime.now(UTC).date())
        progress(
            f"run {tag}: topics {tag}.*, temp dir {workdir}; history {history.start} .. "
            f"{history.end - timedelta(days=1)}; steps "
            + "; ".join(
                f"{s.number}: {s.events:,} events, {', '.join(s.quarters)}" for s in history.steps
            )
        )
        run_dsn = run_database(args.pg_dsn, tag)
        settings = run_settings(args, tag, workdir, run_dsn)
        worker = Worker(settings, workdir, token, args.worker_loglevel)
        run = Run(args, settings, history, worker, token)
        if args.api_process:
            run.api = Worker(settings, workdir, token, args.worker_loglevel, command="api")
        measure(run)
        report(run, time.perf_counter() - began)
        return 1 if run.problems else 0
    except BenchError as exc:
        print(f"history_scaling: error: {exc}", file=sys.stderr)
        if run is not None and run.steps and run.steps[0].apply_seconds:
            report(run, time.perf_counter() - began)
        return 1
    except KeyboardInterrupt:
        progress("interrupted")
        return 130
    finally:
        for process in (run.api if run else None, worker):
            if process is not None:
                process.stop()
        if args.keep:
            progress(f"kept {workdir}, topics {tag}* and database {run_dsn}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            if run_dsn is not None:
                drop_database(args.pg_dsn, run_dsn)
            remove_topics(args.kafka, tag)


def run_settings(args: argparse.Namespace, tag: str, workdir: Path, run_dsn: str) -> Settings:
    """The worker's settings: the run's own topics, app id, port, data dir and database."""
    return Settings(
        kafka_bootstrap=args.kafka,
        topic_prefix=tag,
        app_id=tag,
        web_port=free_port(),
        data_dir=str(workdir / "data"),
        eventstore_url=run_dsn,
    )


def measure(run: Run) -> None:
    """Every step, then the late lines; the failed requests and an ignored SIGTERM noted as
    problems."""
    args, settings, worker = run.args, run.settings, run.worker
    tag = settings.topic_prefix
    asyncio.run(ensure_topics(settings))
    names = [topic_name(tag, t) for t in (*RAW_TOPICS, DEAD_LETTER_TOPIC)]
    run_async(wait_for_leaders(args.kafka, names, settings.partitions), 120, "topic leaders")
    if run.api is not None:
        api = run.api
        api.start()
        wait_for(api, lambda: api.get("/health", 5).status == 200, args.timeout, "the API process")
        progress(f"API process {api.pid} answers on {api.url}: the endpoints are sampled there")
    for step in run.history.steps:
        worker.stop()
        result = publish_step(run, step.number)
        run.steps.append(result)
        apply_step(run, result)
        at_rest(run, result)
        restart(run, result)
    late_lines(run)
    for s in run.steps:
        for path, errors in s.latencies.errors.items():
            run.problem(f"step {s.number}: {path} failed {len(errors)} times: {errors[0]}")
    worker.stop()
    if worker.ignored_sigterm:
        run.problem(
            f"the worker did not stop within 90 s of SIGTERM ({worker.ignored_sigterm} "
            "time(s)); it was killed"
        )


if __name__ == "__main__":
    sys.exit(main())
