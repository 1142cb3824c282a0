"""The broker-time order under a rebalance, by hand: does the survivor agree with the replay?

One run, on fresh topics and a fresh event store (SQLite, in the run's directory):

1. a generated history (`--weeks`, 8 by default) is made; its reference data is published
   first, then its movements day by day, each day's counts first (so that the day's
   earlier sales and shipments are late by the broker's order alone);
2. worker A starts after the first `--head` days are published and catches up while the
   rest is published; halfway through the rest worker B joins (a rebalance during the
   catch-up), and `--kill-after` seconds later B is killed (SIGKILL: a second rebalance,
   A takes B's partitions back, some of them not fetched yet);
3. once everything is published, A's snapshot is compared with the auditor's replay of the
   topics (`--settle` seconds at most) and `channelflow verify` is run against A.

Printed per run: equal to the replay or not, verified or not, the holds A released by the
bound (`channelflow_order_waits_expired_total`), past a partition without a leader
(`channelflow_order_stalls_total`) and the longest hold seen (`channelflow_order_hold_seconds`,
sampled each second; the last two are absent on revisions before them). `--code DIR` runs
the workers from another checkout (an extracted base revision, for an A/B); the replay and
`verify` are this checkout's. `--burn` runs a CPU burner (niced) beside, killed afterwards.

    .venv/bin/python -m bench.order_probe --runs 3 --burn
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    DEFAULT_KAFKA,
    REPO,
    BenchError,
    WorkerProcess,
    free_port,
    positive_int,
    progress,
    remove_topics,
    samples,
)
from streams.config import Settings
from streams.generator import generate_channel
from tests.integration.helpers import (
    counts_first_by_day,
    is_reference,
    publish,
    replayed_snapshot,
    unmatched,
)

#: recording rounds waited for before verify runs again, when it failed the first time
LATE_ROUNDS = 10


@dataclass
class Outcome:
    equal: bool
    verified: bool
    expired: float
    stalls: float | None
    longest_hold: float | None
    #: messages of its partitions the survivor had not applied at the end (stuck, not late)
    lag: float
    differences: str
    #: verified only when verify ran again, `LATE_ROUNDS` recording rounds after it failed
    late: bool = False


def metric(worker: WorkerProcess, name: str, **labels: str) -> float | None:
    """The sum of a metric's samples (with `labels`) on the worker, None when it has none."""
    values = [
        value
        for sample, have, value in samples(worker.metrics())
        if sample == name and labels.items() <= have.items()
    ]
    return sum(values) if values else None


def differences(live: dict[str, Any], replay: dict[str, Any]) -> str:
    found = []
    for section in sorted(set(live) | set(replay)):
        mine, theirs = live.get(section, []), replay.get(section, [])
        extra, missing = len(unmatched(mine, theirs)), len(unmatched(theirs, mine))
        if extra or missing:
            found.append(f"{section}: {extra} rows only live, {missing} only replayed")
    return "; ".join(found)


def settled(settings: Settings, worker: WorkerProcess, timeout: float) -> tuple[bool, str]:
    """Whether the worker's snapshot comes to equal the replay within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    diff = "not compared"
    while time.monotonic() < deadline:
        worker.check_alive()
        try:
            live = worker.get_json("/api/snapshot", timeout=60)
        except OSError:
            time.sleep(2)
            continue
        replay = replayed_snapshot(settings)
        if live == replay:
            return True, ""
        diff = differences(live, replay)
        time.sleep(3)
    return False, diff


def verified(settings: Settings, worker: WorkerProcess, dsn: str) -> tuple[bool, bool]:
    """`channelflow verify` against the worker, once recording rounds ran since; when it
    fails, again after `LATE_ROUNDS` more rounds: (verified, only the second time), so a
    fact recorded late (verify raced the worker's rounds) is told from one never recorded."""

    def rounds() -> float:
        return metric(worker, "channelflow_round_seconds_count", round="recording") or 0.0

    def after_rounds(n: int) -> bool:
        ended = rounds()
        deadline = time.monotonic() + 120
        while rounds() < ended + n:
            if time.monotonic() > deadline:
                raise BenchError("no recording round ran for 120 s")
            time.sleep(1)
        result = subprocess.run(
            [sys.executable, "-m", "streams.cli", "verify", "--url", worker.url,
             "--eventstore", dsn, "--kafka", settings.kafka_bootstrap,
             "--prefix", settings.topic_prefix],
            cwd=REPO, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if result.returncode != 0:
            progress(f"verify: {result.stdout[-1500:]}{result.stderr[-1500:]}")
        return result.returncode == 0 and "verified" in result.stdout

    if after_rounds(2):
        return True, False
    return after_rounds(LATE_ROUNDS), True


class HoldWatch:
    """The longest `channelflow_order_hold_seconds` seen on a worker, sampled each second."""

    def __init__(self, worker: WorkerProcess) -> None:
        self.worker, self.longest = worker, None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    longest: float | None

    def watch(self) -> None:
        while not self.stopped.wait(1.0):
            try:
                held = metric(self.worker, "channelflow_order_hold_seconds")
            except OSError:
                continue
            if held is not None:
                self.longest = max(self.longest or 0.0, held)

    def stop(self) -> float | None:
        self.stopped.set()
        self.thread.join()
        return self.longest


def worker(settings: Settings, workdir: Path, name: str, code: Path) -> WorkerProcess:
    mine = settings.model_copy(
        update={"web_port": free_port(), "api_port": free_port(), "data_dir": str(workdir / name)}
    )
    process = WorkerProcess(mine, workdir / name, loglevel="info", root=code)
    (workdir / name).mkdir()
    return process


def one_run(args: argparse.Namespace, n: int) -> Outcome:
    tag = f"op{uuid.uuid4().hex[:8]}"
    workdir = Path(tempfile.mkdtemp(prefix=f"{tag}-"))
    dsn = f"sqlite:///{workdir / 'audit.db'}"
    settings = Settings(
        kafka_bootstrap=args.kafka, topic_prefix=tag, app_id=tag, partitions=args.partitions,
        eventstore_url=dsn, claims_interval_seconds=1.0, decisions_relay=False,
    )  # fmt: skip
    events = generate_channel(seed=args.seed + n, weeks=args.weeks)
    days = counts_first_by_day(events)
    a = worker(settings, workdir, "a", args.code)
    b = worker(settings, workdir, "b", args.code)
    try:
        publish(settings, [e for e in events if is_reference(e)])
        publish(settings, [e for day in days[: args.head] for e in day])
        a.start()
        watch = HoldWatch(a)
        rest = days[args.head :]
        joined_at = len(rest) // 2
        killed = False
        for i, day in enumerate(rest):
            if i == joined_at:
                progress(f"run {n}: worker B joins")
                b.start()
                joined = time.monotonic()
            if i > joined_at and not killed and time.monotonic() - joined > args.kill_after:
                progress(f"run {n}: worker B killed")
                b.kill9()
                killed = True
            publish(settings, day)
        if not killed:
            time.sleep(max(0.0, args.kill_after - (time.monotonic() - joined)))
            progress(f"run {n}: worker B killed")
            b.kill9()
        equal, diff = settled(settings, a, args.settle)
        ok, late = verified(settings, a, dsn)
        return Outcome(
            equal,
            ok,
            metric(a, "channelflow_order_waits_expired_total") or 0.0,
            metric(a, "channelflow_order_stalls_total"),
            watch.stop(),
            metric(a, "channelflow_consumer_lag_messages") or 0.0,
            diff,
            late,
        )
    finally:
        for process in (a, b):
            if process.proc is not None and process.proc.poll() is None:
                process.stop(30)
        for name in ("a", "b"):
            shutil.copy(workdir / name / "worker.log", args.logs / f"{tag}-{name}.log")
        progress(f"run {n}: logs in {args.logs}/{tag}-*.log")
        shutil.rmtree(workdir, ignore_errors=True)
        remove_topics(args.kafka, tag)


@contextmanager
def burner(on: bool) -> Iterator[None]:
    """A niced CPU burner beside the run, killed afterwards."""
    if not on:
        yield
        return
    burn = subprocess.Popen(["nice", "-n", "5", sys.executable, "-c", "while 1: pass"])
    try:
        yield
    finally:
        burn.kill()
        burn.wait()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench.order_probe", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=positive_int, default=1)
    parser.add_argument("--weeks", type=positive_int, default=8)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--partitions", type=positive_int, default=4)
    parser.add_argument("--head", type=int, default=7, help="days published before A starts")
    parser.add_argument("--kill-after", type=float, default=8.0, help="seconds B lives")
    parser.add_argument("--settle", type=float, default=240.0)
    parser.add_argument("--code", type=Path, default=REPO, help="checkout the workers run")
    parser.add_argument("--burn", action="store_true", help="a CPU burner beside")
    parser.add_argument("--kafka", default=DEFAULT_KAFKA)
    parser.add_argument("--logs", type=Path, default=Path("/tmp/order_probe_logs"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.logs.mkdir(parents=True, exist_ok=True)
    outcomes, failed = [], 0
    with burner(args.burn):
        for n in range(args.runs):
            began = time.monotonic()
            try:
                outcome = one_run(args, n)
            except BenchError as exc:  # a worker crashed or stalled: a failed run, go on
                print(f"run {n} ({args.code.name}): FAILED {str(exc).splitlines()[0]}", flush=True)
                failed += 1
                continue
            outcomes.append(outcome)
            print(
                f"run {n} ({args.code.name}, {time.monotonic() - began:.0f} s): "
                f"{'equal' if outcome.equal else 'DIFFERS'} to the replay, "
                f"{'verified' if outcome.verified else 'NOT verified'}"
                f"{' (the second time: facts recorded late)' if outcome.late else ''}; "
                f"holds expired {outcome.expired:.0f}, stalls {outcome.stalls}, longest hold "
                f"{outcome.longest_hold} s, lag left {outcome.lag:.0f} {outcome.differences}",
                flush=True,
            )
    print(
        f"{args.code}: {sum(o.equal and o.verified for o in outcomes)}/{args.runs} "
        f"equal and verified ({sum(o.late for o in outcomes)} only the second time), "
        f"{failed} failed (a worker crashed or stalled); "
        f"expired holds {sum(o.expired for o in outcomes):.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
