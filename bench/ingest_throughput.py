"""Ingest gateway throughput: CSV and X12 867 reports, in lines per second.

Two measurements per format, on files generated once into a temp dir (N realistic sale
lines of one distributor, from `streams.generator.generate_sales`):

1. parse + validate: the report parser alone (`parse_csv_lines`, `iter_867`), every
   line a validated `SaleReported` or a line error; CPU time of this one process (one
   core), best of --repeat runs;
2. through to Kafka: the whole gateway as `channelflow ingest` runs it straight to the
   broker: parse, validate, precheck (catalog and duplicates), spool to disk, then
   publish every message with the idempotent producer and wait for the broker's acks;
   wall time, split into the check and the publish phase.

Targets are printed (PASS/MISS), never asserted; the exit status is 0 unless something
broke. Progress on stderr, the table on stdout. Fresh topics per run, deleted at the end.

    .venv/bin/python -m bench.ingest_throughput                # 200,000 CSV / 50,000 867
    .venv/bin/python -m bench.ingest_throughput --lines 50000 --no-kafka
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_KAFKA, batch_gc, machine, progress, remove_topics, verdict
from domain.roles import Role
from schemas.events import SaleReported
from streams.auth import Principal
from streams.config import Settings
from streams.generator import generate_sales, sales_catalog
from streams.ingest.formats.upload import SOURCES, Format, Stored, Upload
from streams.ingest.gateway import Gateway, offline_view
from streams.ingest.kafka import KafkaPublisher
from streams.ingest.parallel_check import check_processes, check_upload
from streams.ingest.parsers.csv_report import parse_csv_lines
from streams.ingest.parsers.edi867 import iter_867
from streams.ingest.spool import Spool
from streams.kafka.io import ensure_topics

TARGET_CSV_PARSE = 50_000.0  # lines/s parsed and validated, one core
RECEIVED_AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
MIB = 1024 * 1024
CSV_HEADER = (
    "distributor_id,transaction_id,reseller_id,sku,quantity,unit,unit_price,currency,"
    "sold_at,end_customer,report_id\n"
)


# --- the files -----------------------------------------------------------------------


def sales(count: int, seed: int) -> Iterable[SaleReported]:
    return generate_sales(count, seed=seed, distributors=1)


def write_csv(path: Path, count: int, seed: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(CSV_HEADER)
        for sale in sales(count, seed):
            handle.write(
                f"{sale.distributor_id},{sale.transaction_id},{sale.reseller_id},{sale.sku},"
                f"{sale.quantity},,{sale.unit_price},{sale.currency},"
                f"{sale.sold_at.isoformat().replace('+00:00', 'Z')},,BENCH-CSV\n"
            )


def write_867(path: Path, count: int, seed: int) -> None:
    """One 867 report of `count` lines, each in its own PTD loop (sale or return)."""
    segments = [
        "BPT*00*BENCH-867*20260601*DD",
        "CUR*SE*USD",
        "DTM*090*20260101",
        "DTM*091*20260531",
        "N1*DS*BENCH DISTRIBUTOR*91*D01",
    ]
    total = Decimal(0)
    for sale in sales(count, seed):
        kind = "SS" if sale.quantity >= 0 else "BN"
        segments += [
            f"PTD*{kind}",
            f"N1*ST*RESELLER*91*{sale.reseller_id}",
            f"REF*IV*{sale.transaction_id}",
            f"DTM*003*{sale.sold_at:%Y%m%d}*{sale.sold_at:%H%M%S}*UT",
            f"LIN*1*VP*{sale.sku}",
            f"QTY*39*{abs(sale.quantity)}*EA",
            f"UIT*EA*{sale.unit_price}",
        ]
        total += abs(sale.quantity)
    segments.append(f"CTT*{count}*{total}")
    isa = (
        "ISA*00*          *00*          *ZZ*BENCHDIST      *ZZ*VENDORCO       *260601*0900*U*"
        "00401*000000001*0*P*>~\n"
    )
    with path.open("w", encoding="ascii") as handle:
        handle.write(isa)
        handle.write("GS*PT*BENCHDIST*VENDORCO*20260601*0900*1*X*004010~\n")
        handle.write("ST*867*0001~\n")
        for segment in segments:
            handle.write(f"{segment}~\n")
        handle.write(f"SE*{len(segments) + 2}*0001~\nGE*1*1~\nIEA*1*000000001~\n")


# --- measurements --------------------------------------------------------------------


def parse_rate(parse: Callable[[], int], repeat: int) -> tuple[float, int]:
    """(best lines/s in CPU time, lines) of `parse` over `repeat` runs."""
    best, lines = 0.0, 0
    for _ in range(repeat):
        started = time.process_time()
        lines = parse()
        best = max(best, lines / max(time.process_time() - started, 1e-9))
    return best, lines


def parse_csv_file(path: Path) -> int:
    count = 0
    with path.open("rb") as stream:
        for _, item, _ in parse_csv_lines(stream, received_at=RECEIVED_AT, source_name=path.name):
            count += isinstance(item, SaleReported)
    return count


def parse_867_file(path: Path) -> int:
    count = 0
    with path.open("rb") as stream:
        for item in iter_867(stream, received_at=RECEIVED_AT, source_name=path.name):
            count += isinstance(getattr(item, "outcome", None), SaleReported)
    return count


async def through_kafka(
    settings: Settings, fmt: Format, path: Path, processes: int = 0
) -> dict[str, Any]:
    """The file through the gateway into Kafka, its check on `processes` processes (0:
    the cores available), as `channelflow ingest FILE` runs it."""
    upload = Upload(
        fmt,
        path.name,
        Principal("bench", Role.ADMIN),
        datetime.now(UTC),
        uuid.uuid4().hex,
        SOURCES[fmt],
    )
    with batch_gc():  # as `channelflow ingest` checks a file
        before = rss_bytes()
        with Spool() as spool, PeakRss() as peak:
            gateway = Gateway(upload, offline_view(sales_catalog()), spool)
            started, cpu_started = time.perf_counter(), cpu_seconds()
            await check_upload(gateway, Stored(path), check_processes(processes))
            checked = time.perf_counter()
            async with KafkaPublisher(settings) as publisher:
                await gateway.publish(publisher.publish)
            done, cpu_done = time.perf_counter(), cpu_seconds()
    summary = gateway.summary()
    if summary["accepted"] != summary["lines"]:
        raise SystemExit(f"bench: {fmt}: not every line was accepted: {summary}")
    return {
        "lines": summary["lines"],
        "published": summary["published"],
        "check": summary["lines"] / (checked - started),
        "publish": summary["published"] / (done - checked),
        "total": summary["lines"] / (done - started),
        # the gateway's own CPU (this process and its check processes; not the broker's)
        "cpu": summary["lines"] / (cpu_done - cpu_started),
        "rss_before": before,
        "rss_peak": peak.bytes,
    }


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (the check's)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def rss_bytes() -> int:
    """The resident set size of this process now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """The highest resident set size seen while the block runs, sampled every 20 ms on the
    event loop (the gateway yields to it between slices of work)."""

    def __init__(self) -> None:
        self.bytes = 0
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            self.bytes = max(self.bytes, rss_bytes())
            await asyncio.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self.bytes = rss_bytes()
        self._task = asyncio.get_running_loop().create_task(self._sample())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.bytes = max(self.bytes, rss_bytes())


# --- main ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000, help="CSV lines (default 200000)")
    parser.add_argument("--edi-lines", type=int, default=50_000, help="867 lines (default 50000)")
    parser.add_argument("--repeat", type=int, default=3, help="parse runs, best taken")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-kafka", action="store_true", help="parse + validate only")
    parser.add_argument(
        "--kafka", default=DEFAULT_KAFKA, help="bootstrap servers (default %(default)s)"
    )
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument(
        "--check-processes",
        type=int,
        default=0,
        help="processes the gateway checks a large CSV on (default 0: the cores available)",
    )
    return parser


def main() -> int:
    args = build_parser().parse_args()
    directory = Path(tempfile.mkdtemp(prefix="channelflow-bench-ingest-"))
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap=args.kafka, topic_prefix=prefix, partitions=args.partitions)
    rows: list[tuple[str, str]] = []
    try:
        csv, edi = directory / "sales.csv", directory / "sales.867"
        progress(f"writing {args.lines:,} CSV lines and {args.edi_lines:,} 867 lines")
        write_csv(csv, args.lines, args.seed)
        write_867(edi, args.edi_lines, args.seed)
        progress("parsing the CSV")
        csv_rate, csv_lines = parse_rate(lambda: parse_csv_file(csv), args.repeat)
        progress("parsing the 867")
        edi_rate, edi_lines = parse_rate(lambda: parse_867_file(edi), args.repeat)
        if csv_lines != args.lines or edi_lines != args.edi_lines:
            raise SystemExit(f"bench: parsed {csv_lines:,} / {edi_lines:,} valid lines")
        rows += [
            ("CSV parse + validate (CPU, 1 core)", f"{csv_rate:,.0f} lines/s"),
            ("867 parse + validate (CPU, 1 core)", f"{edi_rate:,.0f} lines/s"),
        ]
        if not args.no_kafka:
            asyncio.run(ensure_topics(settings))
            formats: tuple[tuple[Format, Path], ...] = (("csv", csv), ("867", edi))
            for fmt, path in formats:
                rows += gateway_rows(settings, fmt, path, args.check_processes)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        if not args.no_kafka:
            remove_topics(args.kafka, prefix)

    print(f"\ningest throughput, {machine()}")
    print(f"CSV {args.lines:,} lines, 867 {args.edi_lines:,} lines\n")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>16}")
    print(
        f"\n  target: CSV >= {TARGET_CSV_PARSE:,.0f} lines/s parsed and validated: "
        f"{verdict(csv_rate >= TARGET_CSV_PARSE)}"
    )
    return 0


def gateway_rows(
    settings: Settings, fmt: Format, path: Path, processes: int
) -> list[tuple[str, str]]:
    """One format through the gateway into Kafka: its figures, as table rows."""
    progress(f"{fmt} through the gateway into Kafka")
    found = asyncio.run(through_kafka(settings, fmt, path, processes))
    return [
        (f"{fmt} gateway check (parse, precheck, spool)", f"{found['check']:,.0f} lines/s"),
        (f"{fmt} publish (acks=all, idempotent)", f"{found['publish']:,.0f} msgs/s"),
        (f"{fmt} into Kafka, the gateway's CPU", f"{found['cpu']:,.0f} lines/s"),
        (f"{fmt} end to end into Kafka (wall)", f"{found['total']:,.0f} lines/s"),
        (
            f"{fmt} memory (RSS before -> peak during)",
            f"{found['rss_before'] / MIB:,.0f} -> {found['rss_peak'] / MIB:,.0f} MiB",
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
