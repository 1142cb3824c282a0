"""Bundled CSV ingest while workers are killed, added and cut off PostgreSQL, by hand:
is every line counted once, and does the survivor agree with the replay and `verify`?

One run, on fresh topics and a database of its own on the PostgreSQL server (`--dsn`):

1. the reference data (a catalog, a price whose floor every line breaks, a rebate program
   over a closed quarter) is published, and `--workers` workers start;
2. `--files` CSV reports of `--lines` lines each (one distributor's each, every tenth line
   of a report again in the next one as a business duplicate) go through the gateway
   (`channelflow ingest FILE` straight to Kafka: bundles of up to 500 lines), one after
   the other, while every `--every` seconds (on average) a fault is dealt: a worker is
   SIGKILLed and started again, or (`--pg-cuts`) the workers' path to PostgreSQL is cut for
   a few seconds (`tests/faults.py`), or (`--kafka-proxy`) their path to the broker, or
   (`--churn`, with more than one worker) a worker is killed for good and a new one joins;
3. once everything is ingested, the workers but one are killed, and the survivor's snapshot
   is compared with the auditor's replay (`--settle` seconds at most), its accepted and
   duplicate lines are counted, and `channelflow verify` is run against it; a snapshot that
   did not come to equal the replay is compared again for another `--settle` (late: equal
   then; or still different).

Printed per run: the faults dealt, equal to the replay or not, every line counted once or
not, verified or not. A worker that dies by itself fails the run (its log is kept in
`--logs`). The quarter is closed by the time the lines come (the automatic close), so the
recording rounds record statements and their adjustments throughout.

    .venv/bin/python -m bench.kill_probe --runs 3 --workers 2 --pg-cuts

Cutting the workers off Kafka takes a broker of the probe's own: a client bootstraps
through the proxy, then goes to the address the broker advertises, so the broker must
advertise the proxy's port on the listener the workers use (and another listener, for the
ingest, the replay and `verify`, that is never cut). With `--kafka-proxy 19092 --kafka-behind
127.0.0.1:19094 --kafka 127.0.0.1:19095`, a broker of

    listeners=PLAINTEXT://127.0.0.1:19094,DIRECT://127.0.0.1:19095,CONTROLLER://...
    advertised.listeners=PLAINTEXT://127.0.0.1:19092,DIRECT://127.0.0.1:19095
    inter.broker.listener.name=DIRECT

(infra/kafka/server.properties.in otherwise; a data dir and ports of its own, stopped
afterwards: never the shared broker).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.common import (
    DEFAULT_KAFKA,
    REPO,
    BenchError,
    WorkerProcess,
    free_port,
    fresh_database,
    positive_int,
    progress,
    remove_topics,
)
from bench.order_probe import metric, settled
from schemas.events import Envelope, PriceChanged, RebateProgramDefined, Tier
from streams.config import Settings
from tests.faults import CuttableProxy, proxied
from tests.integration.helpers import catalog, publish

SKU = "SKU-K"
#: in a quarter closed by the time the lines come: statements, then adjustments
SOLD = datetime(2026, 8, 3, 9, tzinfo=UTC)
DEFAULT_DSN = "postgresql://channelflow:channelflow@127.0.0.1:5433/channelflow_test"
#: a command's exit status when a server is unreachable (README, "Exit status")
UNREACHABLE = 3
#: aiokafka's error when no broker answers (in faust's start, before the start wait: a
#: traceback, status 1)
NO_BROKER = "Unable to bootstrap"
#: a worker's line while it waits for a server as it starts (streams/worker/start_wait.py)
WAITING = "after the start (CHANNELFLOW_START_WAIT_SECONDS)"
#: every tenth line of a report comes again in the next one
DUPLICATE_EVERY = 10


def reference() -> list[Envelope]:
    price = PriceChanged(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="erp", sku=SKU,
        distributor_cost=Decimal("8.00"), floor_price=Decimal("10.00"), currency="USD",
        effective_from=SOLD - timedelta(days=30), published_at=SOLD - timedelta(days=35),
    )  # fmt: skip
    program = RebateProgramDefined(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="erp", program_id="VPA-K",
        distributor_ids="all", basis="sell_through", measure="revenue", period="quarter",
        tier_mode="retroactive", currency="USD",
        tiers=[Tier(threshold=Decimal("0"), rate=Decimal("0.02"))],
    )  # fmt: skip
    return [*catalog(SKU), price, program]


def reports(files: int, lines: int, distributors: int) -> list[tuple[str, list[str]]]:
    """(report id, CSV rows) per report: report k is distributor D{k % distributors}'s,
    lines T{k}-{i} at 9.50 (under the floor), the next report of the distributor repeating
    every tenth of them."""
    made: list[tuple[str, list[str]]] = []
    last: dict[str, list[str]] = {}
    for k in range(files):
        distributor = f"D{k % distributors}"
        report = f"R{k}"
        rows = [
            f"{distributor},T{k}-{i},RES-{i % 7},{SKU},2,9.50,USD,"
            f"{(SOLD + timedelta(minutes=i)).isoformat()},{report}"
            for i in range(lines)
        ]
        again = [row.rsplit(",", 1)[0] + f",{report}" for row in last.get(distributor, [])][
            ::DUPLICATE_EVERY
        ]
        made.append((report, rows + again))
        last[distributor] = rows
    return made


HEADER = (
    "distributor_id,transaction_id,reseller_id,sku,quantity,unit_price,currency,sold_at,report_id"
)


@dataclass
class Faults:
    kills: int = 0
    cuts: int = 0
    kafka_cuts: int = 0
    churns: int = 0
    #: starts given up since Kafka or PostgreSQL could not be reached (started again): a
    #: checkout from before the start wait (`--code`); a worker of this one waits instead
    #: (CHANNELFLOW_START_WAIT_SECONDS, far longer than any fault) and is never restarted
    refused: int = 0
    #: worker starts that waited for Kafka or PostgreSQL (counted from the logs at the end)
    waited: int = 0
    log: list[str] = field(default_factory=list)

    def dealt(self, what: str) -> None:
        self.log.append(f"{time.strftime('%H:%M:%S')} {what}")
        progress(what)


@dataclass
class Outcome:
    faults: Faults
    equal: bool
    once: bool
    verified: bool
    detail: str


def late_or_lost(settings: Settings, survivor: WorkerProcess, settle: float, diff: str) -> str:
    """A run that did not come to equal the replay within the settle: whether it does in a
    second settle (its last lines late, not lost) or still not, with the first differences."""
    began = time.monotonic()
    equal, still = settled(settings, survivor, settle)
    if equal:
        return f"(late: equal {time.monotonic() - began:.0f} s after the settle) {diff}"
    return f"(still different after a second settle) {still}"


class Fleet:
    """The run's workers: started, killed and restarted, replaced."""

    def __init__(self, settings: Settings, workdir: Path, code: Path) -> None:
        #: the workers' settings (their path to PostgreSQL and Kafka: through the proxies)
        self.settings, self.workdir, self.code = settings, workdir, code
        self.live: list[WorkerProcess] = []
        self.all: list[WorkerProcess] = []

    def add(self) -> WorkerProcess:
        name = f"w{len(self.all)}"
        mine = self.settings.model_copy(
            update={"web_port": free_port(), "api_port": free_port(),
                    "data_dir": str(self.workdir / name)}
        )  # fmt: skip
        (self.workdir / name).mkdir()
        worker = WorkerProcess(
            mine, self.workdir / name, loglevel="info", root=self.code,
            extra_env={"CHANNELFLOW_CLAIMS_INTERVAL_SECONDS": "1",
                       "CHANNELFLOW_DECISIONS_RELAY": "false"},
        )  # fmt: skip
        worker.start()
        self.live.append(worker)
        self.all.append(worker)
        return worker

    def check(self, faults: Faults) -> None:
        """Every worker alive; one that gave up on Kafka or PostgreSQL as it started (exit
        status 3, as documented, or 1 when the broker went away during faust's own start: a
        fault dealt while it started) is started again, as a supervisor would. Only a
        checkout from before the start wait (`--code`) exits so: this one waits."""
        for worker in self.live:
            proc = worker.proc
            code = None if proc is None else proc.poll()
            this_life = worker.log_tail(30).rsplit("==== bench:", 1)[-1]
            if code == UNREACHABLE or (code and NO_BROKER in this_life):
                said = worker.log_tail(1).strip().removeprefix("channelflow: error: ")
                faults.dealt(f"{worker.log_path.parent.name} did not start ({code}): {said[:60]}")
                faults.refused += 1
                worker.start()
            worker.check_alive()

    def kill(self, worker: WorkerProcess) -> None:
        worker.kill9()
        self.live.remove(worker)

    def stop(self) -> None:
        for worker in self.all:
            if worker.proc is not None and worker.proc.poll() is None:
                worker.stop(30)


def ingest(settings: Settings, workdir: Path, made: Sequence[tuple[str, list[str]]]) -> None:
    """Each report through `channelflow ingest` straight to Kafka, one after the other."""
    for report, rows in made:
        path = workdir / f"{report}.csv"
        path.write_text("\n".join([HEADER, *rows]) + "\n")
        result = subprocess.run(
            [sys.executable, "-m", "streams.cli", "ingest", str(path), "--kafka",
             settings.kafka_bootstrap, "--prefix", settings.topic_prefix],
            cwd=REPO, capture_output=True, text=True, timeout=300,
            env={k: v for k, v in os.environ.items() if not k.startswith("CHANNELFLOW_")},
        )  # fmt: skip
        if result.returncode != 0:
            raise BenchError(f"ingest {report}: {result.stdout[-800:]}{result.stderr[-800:]}")


def deal(
    args: argparse.Namespace,
    fleet: Fleet,
    proxies: dict[str, CuttableProxy],
    faults: Faults,
    rng: random.Random,
) -> None:
    """One fault, drawn among those the run allows."""
    kinds = ["kill"] + ["cut"] * args.pg_cuts + ["kafka"] * ("kafka" in proxies)
    kind = rng.choice(kinds + ["churn"] * (args.churn and len(fleet.live) > 1))
    if kind == "kill":
        worker = rng.choice(fleet.live)
        fleet.kill(worker)
        faults.kills += 1
        faults.dealt(f"{worker.log_path.parent.name} killed")
        time.sleep(rng.uniform(0, 3))
        worker.start()
        fleet.live.append(worker)
        faults.dealt(f"{worker.log_path.parent.name} started again")
    elif kind == "cut":
        proxies["postgres"].cut()
        faults.cuts += 1
        faults.dealt("PostgreSQL cut")
        time.sleep(rng.uniform(2, 6))
        proxies["postgres"].restore()
        faults.dealt("PostgreSQL restored")
    elif kind == "kafka":  # shorter or longer than the session timeout (10 s), by default
        proxies["kafka"].cut()
        faults.kafka_cuts += 1
        faults.dealt("Kafka cut")
        time.sleep(rng.uniform(2, args.kafka_cut_max))
        proxies["kafka"].restore()
        faults.dealt("Kafka restored")
    else:
        gone = rng.choice(fleet.live)
        fleet.kill(gone)
        added = fleet.add()
        faults.churns += 1
        faults.dealt(
            f"{gone.log_path.parent.name} killed for good, {added.log_path.parent.name} joins"
        )


def counted(worker: WorkerProcess) -> tuple[int, int]:
    """(accepted lines, lines sent again: duplicates and conflicts) by the worker's quality."""
    quality = worker.get_json("/api/quality", timeout=30)["rows"]
    return (
        sum(r["accepted"] for r in quality),
        sum(r["duplicates"] + r["conflicts"] for r in quality),
    )


def verified(settings: Settings, worker: WorkerProcess, dsn: str) -> tuple[bool, str]:
    """`channelflow verify`, after two more recording rounds."""
    rounds = metric(worker, "channelflow_round_seconds_count", round="recording") or 0.0
    deadline = time.monotonic() + 120
    while (
        metric(worker, "channelflow_round_seconds_count", round="recording") or 0.0
    ) < rounds + 2:
        if time.monotonic() > deadline:
            return False, "no recording round for 120 s"
        time.sleep(1)
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "verify", "--url", worker.url, "--eventstore",
         dsn, "--kafka", settings.kafka_bootstrap, "--prefix", settings.topic_prefix],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    ok = result.returncode == 0 and "verified" in result.stdout
    return ok, "" if ok else (result.stdout[-1500:] + result.stderr[-1500:])


def one_run(args: argparse.Namespace, n: int) -> Outcome:
    tag = f"kp{uuid.uuid4().hex[:8]}"
    workdir = Path(tempfile.mkdtemp(prefix=f"{tag}-"))
    rng = random.Random(args.seed + n)
    faults = Faults()
    made = reports(args.files, args.lines, args.distributors)
    unique = args.files * args.lines
    duplicates = sum(len(rows) for _, rows in made) - unique
    with fresh_database(args.dsn, tag) as dsn, proxied(dsn) as (proxy, through_proxy):
        settings = Settings(
            kafka_bootstrap=args.kafka, topic_prefix=tag, app_id=tag, partitions=args.partitions
        )
        proxies = {"postgres": proxy}
        theirs = {"eventstore_url": through_proxy}
        if args.kafka_proxy:
            host, port = args.kafka_behind.rsplit(":", 1)
            proxies["kafka"] = CuttableProxy(host, int(port), args.kafka_proxy)
            proxies["kafka"].restore()
            theirs["kafka_bootstrap"] = f"127.0.0.1:{args.kafka_proxy}"
        fleet = Fleet(settings.model_copy(update=theirs), workdir, args.code)
        try:
            publish(settings, reference())
            for _ in range(args.workers):
                fleet.add()
            time.sleep(5)
            failed: list[BaseException] = []

            def send() -> None:
                try:
                    ingest(settings, workdir, made)
                except BaseException as exc:
                    failed.append(exc)

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            while sender.is_alive():
                sender.join(rng.expovariate(1 / args.every))
                fleet.check(faults)
                if sender.is_alive():
                    deal(args, fleet, proxies, faults, rng)
            if failed:
                raise BenchError(f"ingest failed: {failed[0]}")
            fleet.check(faults)
            survivor = fleet.live[0]
            for worker in fleet.live[1:]:
                fleet.kill(worker)
                faults.dealt(f"{worker.log_path.parent.name} killed at the end")
            equal, diff = settled(settings, survivor, args.settle)
            accepted, duplicated = counted(survivor)
            once = (accepted, duplicated) == (unique, duplicates)
            if not once:
                diff += (
                    f"; accepted {accepted} of {unique}, sent again {duplicated} of {duplicates}"
                )
            ok, why = verified(settings, survivor, dsn)
            if not equal:  # late or lost: compared again once the count and verify are done
                diff = late_or_lost(settings, survivor, args.settle, diff)
            return Outcome(faults, equal, once, ok, f"{diff} {why}".strip())
        finally:
            fleet.stop()
            if "kafka" in proxies:
                proxies["kafka"].cut()
            for worker in fleet.all:
                lives = worker.log_path.read_text(errors="replace").split("==== bench:")
                faults.waited += sum(WAITING in life for life in lives)
                name = worker.log_path.parent.name
                shutil.copy(worker.log_path, args.logs / f"{tag}-{name}.log")
            (args.logs / f"{tag}-faults.txt").write_text("\n".join(faults.log) + "\n")
            progress(f"run {n}: logs in {args.logs}/{tag}-*")
            shutil.rmtree(workdir, ignore_errors=True)
            remove_topics(args.kafka, tag)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench.kill_probe", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=positive_int, default=1)
    parser.add_argument("--workers", type=positive_int, default=1)
    parser.add_argument("--files", type=positive_int, default=12)
    parser.add_argument("--lines", type=positive_int, default=1000, help="unique lines a report")
    parser.add_argument("--distributors", type=positive_int, default=6)
    parser.add_argument("--partitions", type=positive_int, default=12)
    parser.add_argument("--every", type=float, default=6.0, help="mean seconds between faults")
    parser.add_argument("--pg-cuts", action="store_true", help="cut PostgreSQL among the faults")
    parser.add_argument(
        "--kafka-proxy", type=int, help="cut Kafka among the faults: the workers' proxy's port"
    )
    parser.add_argument(
        "--kafka-behind", default="127.0.0.1:19094", help="the listener the proxy leads to"
    )
    parser.add_argument(
        "--kafka-cut-max", type=float, default=15.0, help="the longest Kafka cut, seconds"
    )
    parser.add_argument("--churn", action="store_true", help="replace a worker among the faults")
    parser.add_argument("--settle", type=float, default=240.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--code", type=Path, default=REPO, help="checkout the workers run")
    parser.add_argument("--kafka", default=DEFAULT_KAFKA)
    parser.add_argument("--dsn", default=DEFAULT_DSN, help="PostgreSQL; the run's database beside")
    parser.add_argument("--logs", type=Path, default=Path("/tmp/kill_probe_logs"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.logs.mkdir(parents=True, exist_ok=True)
    good = failed = 0
    for n in range(args.runs):
        began = time.monotonic()
        try:
            outcome = one_run(args, n)
        except BenchError as exc:  # a worker died by itself, or the ingest failed
            print(f"run {n}: FAILED {str(exc).splitlines()[0]}", flush=True)
            failed += 1
            continue
        f = outcome.faults
        good += outcome.equal and outcome.once and outcome.verified
        print(
            f"run {n} ({time.monotonic() - began:.0f} s; {f.kills} kills, "
            f"{f.cuts} PostgreSQL cuts, {f.kafka_cuts} Kafka cuts, {f.waited} starts waited, "
            f"{f.refused} starts refused, "
            f"{f.churns} replaced): {'equal' if outcome.equal else 'DIFFERS'} to the replay, "
            f"{'once' if outcome.once else 'NOT once'}, "
            f"{'verified' if outcome.verified else 'NOT verified'} {outcome.detail}",
            flush=True,
        )
    print(f"{good}/{args.runs} equal, counted once and verified; {failed} failed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
