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

`--masters-page` needs no kept run: in process, it times the read behind one page of
`/api/resellers/masters` (50 masters of 1,000, two aliases each) as the aliases of the
other masters grow tenfold, beside a read of every alias (what the page cost before the
index of aliases by master, `projections.alias_index`), CPU ms, best of `--rounds`.

    .venv/bin/python -m bench.read_costs --masters-page
"""

from __future__ import annotations

import argparse
import re
import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import BenchError, cpu_best_of, free_port, progress
from bench.history_client import ENDPOINTS, Latencies, Worker, stats_ms, wait_for
from bench.history_scaling import DEFAULT_DSN
from projections.alias_index import put_alias
from projections.party_aliases import AliasState, MasterState, current_mapping
from projections.party_reads import masters_page
from projections.stores import ChannelStores
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


#: the masters of the page bench, the page's size, and the aliases of each master on it
MASTERS, PAGE, ON_PAGE = 1_000, 50, 2


def identity_stores(aliases: int) -> ChannelStores:
    """1,000 masters; the page's masters with two aliases each, the others' aliases making
    up `aliases` in all (over 50 distributors)."""
    stores = ChannelStores()
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    for m in range(MASTERS):
        master_id = f"M{m:05d}"
        stores.masters.put(master_id, MasterState(master_id, f"Party {m}", "US", moment, "e"))
    for n in range(aliases):
        on_page = n < PAGE * ON_PAGE
        master = n % PAGE if on_page else PAGE + n % (MASTERS - PAGE)
        key = f"id|D{n % 50:02d}|R{n}"
        put_alias(stores.party("reseller"), None, AliasState(key, f"M{master:05d}"))
    return stores


def masters_page_costs(sizes: tuple[int, ...], rounds: int) -> str:
    """A Markdown table: CPU ms of one page of masters, and of a read of every alias."""
    lines = ["| aliases | masters page (50 of 1,000) ms | every alias read ms |", "|---|---|---|"]
    for size in sizes:
        stores = identity_stores(size)
        rows, _ = masters_page(stores, None, 0, PAGE)
        assert sum(len(row["aliases"]) for row in rows) == PAGE * ON_PAGE
        page, scan = page_and_scan(stores, rounds)
        lines.append(f"| {size:,} | {page * 1000:,.2f} | {scan * 1000:,.2f} |")
    return "\n".join(lines)


def page_and_scan(stores: ChannelStores, rounds: int) -> tuple[float, float]:
    """CPU seconds of a page of masters, and of a read of every alias, best of `rounds`."""
    page = cpu_best_of(rounds, lambda: lambda: masters_page(stores, None, 0, PAGE))
    scan = cpu_best_of(rounds, lambda: lambda: current_mapping(stores.party_aliases.values()))
    return page, scan


def applied(worker: Worker) -> bool:
    text = worker.get("/metrics").body.decode()
    lags = [
        float(x) for x in re.findall(r"^channelflow_consumer_lag_messages\{.*\} (\S+)$", text, re.M)
    ]
    return bool(lags) and not any(lags)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kept", type=Path, help="a history run's kept temp dir")
    parser.add_argument(
        "--masters-page", action="store_true", help="in process: a masters page as aliases grow"
    )
    parser.add_argument("--rounds", type=int, default=5, help="requests per endpoint (5)")
    parser.add_argument("--kafka", default="127.0.0.1:9092")
    parser.add_argument("--pg-dsn", default=DEFAULT_DSN, help="the run's DSN before its tag")
    parser.add_argument("--only", help="the endpoints whose path contains this, alone")
    parser.add_argument("--py-spy", type=Path, help="a py-spy binary: sample the worker too")
    args = parser.parse_args(argv)
    if args.masters_page:
        print(masters_page_costs((10_000, 100_000), args.rounds))
        return 0
    if args.kept is None:
        parser.error("--kept is required (or --masters-page)")
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
