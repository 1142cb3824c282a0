"""Scale-out on the real broker: what a second worker on the same topics adds (issue 14).

One run, on fresh topics:

1. publish N generated `SaleReported` events of D distributors, bundled as reports are;
2. one worker (its own consumer group) applies them all: events/s from its first applied
   batch to the last, and the CPU seconds it and the broker spent meanwhile;
3. W workers (another consumer group, each with its own data dir and port) apply them all
   again: lines/s from the moment every worker owns partitions to the last, counted as the
   lines accepted in each worker's own partitions (its /api/quality; a line applied again
   after a rebalance counts once); then every worker's /api/quality must show all N lines
   (each holds the others' partitions as standbys: the whole channel).

Prints the two rates, their ratio (target >= 1.6 for two workers on this 2-core machine,
printed, never asserted), the distributors per worker and the CPU of each process,
broker included. Exit status 0 unless something broke.

    .venv/bin/python -m bench.scale_out --events 200000
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    BenchError,
    WorkerProcess,
    clean_up,
    positive_int,
    progress,
    rate,
    revision,
    verdict,
    worker_group,
)
from bench.slice_phases import publish
from streams.config import Settings
from streams.kafka.io import kafka_partition_of

TARGET_RATIO = 1.6
POLL_SECONDS = 0.25
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def broker_pid() -> int | None:
    """The broker's pid when it runs here: the oldest process whose command line names
    kafka.Kafka (a younger one may be a passing `pgrep`, or a shell, of someone else's)."""
    found = subprocess.run(["pgrep", "-o", "-f", "kafka.Kafka"], capture_output=True, text=True)
    pids = [int(p) for p in found.stdout.split()]
    return pids[0] if pids else None


def accepted_here(worker: WorkerProcess, partitions: int) -> int:
    """Lines accepted in the partitions the worker owns (its own /api/quality, which also
    shows its standby copies of the others')."""
    active = set(owners(worker))
    rows = worker.get_json("/api/quality", timeout=30)["rows"]
    return sum(
        int(row["accepted"])
        for row in rows
        if kafka_partition_of(row["distributor_id"], partitions) in active
    )


def applied(workers: list[WorkerProcess], partitions: int) -> int:
    return sum(accepted_here(worker, partitions) for worker in workers)


@dataclass
class Run:
    workers: int
    seconds: float
    events: int  # applied within the timed window
    cpu: dict[str, float]  # process -> CPU seconds within the window
    actives: list[list[int]]  # each worker's active partitions at the end

    @property
    def events_per_second(self) -> float:
        return rate(self.events, self.seconds)


def owners(worker: WorkerProcess) -> list[int]:
    return list(worker.get_json("/health").get("partitions", {}).get("active", []))


def start_owning(workers: list[WorkerProcess], partitions: int, deadline: float) -> None:
    """Start the workers (one consumer group) and wait until the group has settled: each
    owns partitions, and between them they own every one of the `partitions` once."""
    for worker in workers:
        worker.start()
    progress(f"{len(workers)} worker(s) started; waiting until each owns partitions")
    while True:
        for worker in workers:
            worker.check_alive()
        try:
            actives = [owners(worker) for worker in workers]
            mine = sorted(p for active in actives for p in active)
            if all(actives) and mine == list(range(partitions)):
                return
        except OSError:
            pass
        if time.perf_counter() > deadline:
            raise BenchError("the workers never owned every partition between them")
        time.sleep(POLL_SECONDS)


def process_ids(workers: list[WorkerProcess]) -> dict[str, int]:
    """The pid of each worker ("worker 1", ...) and of the broker when it runs here."""
    pids = {f"worker {n + 1}": w.proc.pid for n, w in enumerate(workers) if w.proc is not None}
    broker = broker_pid()
    if broker is not None:
        pids["broker"] = broker
    return pids


def cpu_of(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_since(pids: dict[str, int], before: dict[str, float]) -> dict[str, float]:
    """CPU seconds each process used since `before` (`cpu_of`)."""
    return {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}


def apply_all(workers: list[WorkerProcess], count: int, partitions: int, timeout: float) -> Run:
    """Start the workers, wait until each owns partitions, then time until they have
    accepted `count` lines between them (a line applied twice after a rebalance, its first
    batch given up, counts once: the accepted lines are what the channel holds)."""
    deadline = time.perf_counter() + timeout
    start_owning(workers, partitions, deadline)
    pids = process_ids(workers)
    first = applied(workers, partitions)
    cpu_before = cpu_of(pids)
    began = time.perf_counter()
    last_report = began
    while (done := applied(workers, partitions)) < count:
        for worker in workers:
            worker.check_alive()
        now = time.perf_counter()
        if now > deadline:
            raise BenchError(f"{done:,} of {count:,} applied within {timeout:.0f} s")
        if now - last_report >= 2:
            last_report = now
            progress(f"  {done:,} applied ({rate(done - first, now - began):,.0f}/s)")
        time.sleep(POLL_SECONDS)
    seconds = time.perf_counter() - began
    cpu = cpu_since(pids, cpu_before)
    if done != count:
        raise BenchError(f"the workers accepted {done:,} lines, {count:,} were published")
    result = Run(len(workers), seconds, count - first, cpu, [owners(w) for w in workers])
    progress(f"all applied: {result.events_per_second:,.0f} events/s over {seconds:.1f} s")
    return result


def whole_channel(workers: list[WorkerProcess], count: int, timeout: float) -> None:
    """Every worker answers for all the lines (standby replicas), within `timeout`."""
    deadline = time.perf_counter() + timeout
    for n, worker in enumerate(workers, start=1):
        while True:
            accepted = sum(int(r["accepted"]) for r in worker.get_json("/api/quality")["rows"])
            if accepted == count:
                break
            if time.perf_counter() > deadline:
                raise BenchError(f"worker {n} answers for {accepted:,} of {count:,} lines")
            time.sleep(POLL_SECONDS)
    progress(f"each of the {len(workers)} workers answers for all {count:,} lines")


def spread(actives: list[list[int]], partitions: int, distributors: int) -> str:
    names = [f"D{n:02d}" for n in range(1, distributors + 1)]
    per_worker = [
        sum(1 for d in names if kafka_partition_of(d, partitions) in set(active))
        for active in actives
    ]
    return " / ".join(str(n) for n in per_worker)


def report(args: argparse.Namespace, one: Run, many: Run) -> None:
    ratio = many.events_per_second / one.events_per_second
    lines = [
        "",
        f"channelflow scale-out: {args.events:,} SaleReported of {args.distributors} distributors "
        f"in bundles of up to {args.bundle}, {args.partitions} partitions, "
        f"{args.standby_replicas} standby replicas, {os.cpu_count()} CPUs (broker on the same "
        "machine)",
        f"measured {time.strftime('%Y-%m-%d %H:%M %Z')} on commit {revision()}",
        "",
        f"{'workers':<10}{'events/s':>10}{'seconds':>9}  distributors per worker  CPU seconds",
    ]
    for run in (one, many):
        cpu = ", ".join(f"{name} {seconds:.1f}" for name, seconds in run.cpu.items())
        lines.append(
            f"{run.workers:<10}{run.events_per_second:>10,.0f}{run.seconds:>9.1f}  "
            f"{spread(run.actives, args.partitions, args.distributors):<24} {cpu}"
        )
    lines += [
        "",
        f"target {args.workers} workers >= {TARGET_RATIO} x one: {verdict(ratio >= TARGET_RATIO)}"
        f" ({ratio:.2f} x)",
    ]
    print("\n".join(lines), flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scale_out",
        description="Apply the same published events with one worker, then with several "
        "in one consumer group, and compare their rates.",
        epilog=f"Target (printed, never asserted): 2 workers >= {TARGET_RATIO} x one.",
    )
    defaults = Settings()
    parser.add_argument("--events", type=positive_int, default=200_000, help="default 200000")
    parser.add_argument("--distributors", type=positive_int, default=50, help="default 50")
    parser.add_argument(
        "--partitions",
        type=positive_int,
        default=defaults.partitions,
        help=f"default {defaults.partitions} (the worker's default)",
    )
    parser.add_argument("--workers", type=positive_int, default=2, help="default 2")
    parser.add_argument(
        "--standby-replicas",
        type=int,
        default=defaults.standby_replicas,
        help=f"the workers' CHANNELFLOW_STANDBY_REPLICAS (default {defaults.standby_replicas}: "
        "each of two workers holds the whole channel)",
    )
    parser.add_argument(
        "--bundle", type=positive_int, default=500, help="events per message at most (500)"
    )
    parser.add_argument(
        "--kafka",
        default=os.environ.get("CHANNELFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        help="bootstrap servers (default $CHANNELFLOW_KAFKA_BOOTSTRAP or 127.0.0.1:9092)",
    )
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds allowed per phase (default 600)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and the topics")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    tag = f"scale{uuid.uuid4().hex[:10]}"
    workdir = Path(tempfile.mkdtemp(prefix=f"channelflow-{tag}-"))
    base = Settings(
        kafka_bootstrap=args.kafka,
        topic_prefix=tag,
        partitions=args.partitions,
        eventstore_url=f"sqlite:///{workdir / 'audit.db'}",
    )

    def workers(group: str, count: int) -> list[WorkerProcess]:
        standbys = {"CHANNELFLOW_STANDBY_REPLICAS": str(args.standby_replicas)}
        settings = base.model_copy(update={"app_id": f"{tag}-{group}"})
        return worker_group(settings, workdir / group, count, standbys)

    started: list[WorkerProcess] = []
    progress(f"run {tag}: topics {tag}.*, temp dir {workdir}")
    try:
        publish(base, args.events, args.seed, args.timeout, args.bundle, args.distributors)
        alone = workers("one", 1)
        started += alone
        one = apply_all(alone, args.events, args.partitions, args.timeout)
        for worker in alone:
            worker.stop()
        group = workers("many", args.workers)
        started += group
        many = apply_all(group, args.events, args.partitions, args.timeout)
        if args.standby_replicas >= args.workers - 1:
            whole_channel(group, args.events, 60)
        report(args, one, many)
        return 0
    except BenchError as exc:
        print(f"scale_out: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        for worker in started:
            worker.stop()
        clean_up(args.keep, workdir, base.kafka_bootstrap, tag)


if __name__ == "__main__":
    sys.exit(main())
