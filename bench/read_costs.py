"""What each GET endpoint costs at rest, over the state a history run left (issue 12).

`bench/history_scaling.py --keep` leaves its temp dir (the worker's data dir), topics and
database; this starts a worker on them, waits until it has applied everything, and
requests every endpoint of `history_client.ENDPOINTS` `--rounds` times in turn, one
request at a time: with nothing applied meanwhile, an endpoint's latency is its own cost
(CPU, and the event store or Kafka it reads). Quick to repeat while changing a read,
where a history run takes minutes; figures go to stdout as a Markdown table.

    .venv/bin/python -m bench.read_costs --kept /tmp/channelflow-hist0123456789-xxxx

With `--py-spy PATH` (a py-spy binary) the worker is also sampled while the endpoints
are requested (`py-spy record --format raw`, its output next to the table).
"""

from __future__ import annotations

import argparse
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

from bench.common import BenchError, free_port, progress
from bench.history_client import ENDPOINTS, Latencies, Worker, stats_ms, wait_for
from bench.history_scaling import DEFAULT_DSN
from streams.config import Settings

TAG = re.compile(r"channelflow-(hist[0-9a-f]{10})-")


def settings_of(kept: Path, kafka: str, pg_dsn: str) -> Settings:
    """The kept run's settings: its tag names the topics, app id and database."""
    found = TAG.search(kept.name)
    if found is None:
        raise BenchError(f"{kept} is not a history run's temp dir (channelflow-hist...-...)")
    tag = found.group(1)
    return Settings(
        kafka_bootstrap=kafka,
        topic_prefix=tag,
        app_id=tag,
        web_port=free_port(),
        data_dir=str(kept / "data"),
        eventstore_url=f"{pg_dsn}_{tag}",
    )


def measure(worker: Worker, rounds: int, paths: tuple[str, ...]) -> Latencies:
    latencies = Latencies()
    for _ in range(rounds):
        for path in paths:
            latencies.add(path, worker.get(path))
    return latencies


def table(latencies: Latencies, paths: tuple[str, ...]) -> str:
    lines = ["| endpoint | p50 / max ms (n) |", "|---|---|"]
    for path in paths:
        values = latencies.seconds.get(path, [])
        if values:
            p50, _, top = stats_ms(values)
            lines.append(f"| `{path}` | {p50:,.0f} / {top:,.0f} ({len(values)}) |")
        for error in latencies.errors.get(path, [])[:1]:
            lines.append(f"| `{path}` | failed: {error} |")
    return "\n".join(lines)


def applied(worker: Worker) -> bool:
    text = worker.get("/metrics").body.decode()
    lags = [
        float(x) for x in re.findall(r"^channelflow_consumer_lag_messages\{.*\} (\S+)$", text, re.M)
    ]
    return bool(lags) and not any(lags)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kept", type=Path, required=True, help="a history run's kept temp dir")
    parser.add_argument("--rounds", type=int, default=5, help="requests per endpoint (5)")
    parser.add_argument("--kafka", default="127.0.0.1:9092")
    parser.add_argument("--pg-dsn", default=DEFAULT_DSN, help="the run's DSN before its tag")
    parser.add_argument("--only", help="the endpoints whose path contains this, alone")
    parser.add_argument("--py-spy", type=Path, help="a py-spy binary: sample the worker too")
    args = parser.parse_args(argv)
    worker = Worker(
        settings_of(args.kept, args.kafka, args.pg_dsn),
        args.kept,
        secrets.token_urlsafe(24),
        "warning",
    )
    worker.start()
    spy: subprocess.Popen[bytes] | None = None
    try:
        wait_for(worker, lambda: worker.get("/health", 5).status == 200, 300, "/health")
        wait_for(worker, lambda: applied(worker), 300, "everything applied")
        time.sleep(2)
        progress(f"worker {worker.pid} at rest; {args.rounds} rounds of the endpoints")
        if args.py_spy is not None:
            out = args.kept / "read_costs.spy.txt"
            command = [
                str(args.py_spy),
                "record",
                "--pid",
                str(worker.pid),
                "-f",
                "raw",
                "-o",
                str(out),
                "-r",
                "100",
                "--threads",
                "--nonblocking",
            ]
            spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            progress(f"py-spy samples to {out}")
        paths = tuple(p for p in ENDPOINTS if args.only is None or args.only in p)
        print(table(measure(worker, args.rounds, paths), paths))
    except BenchError as exc:
        print(f"read_costs: error: {exc}", file=sys.stderr)
        return 1
    finally:
        if spy is not None:
            spy.send_signal(2)
            spy.wait(30)
        worker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
