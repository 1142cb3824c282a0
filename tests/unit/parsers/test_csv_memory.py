"""A large generated CSV streams through the parser in flat memory.

1,000,000 lines take ~16-20 s on this machine (bench/ingest_throughput.py) and tracing
every allocation with tracemalloc makes it ~7× slower, so the test streams 200,000
lines (CHANNELFLOW_CSV_STREAM_LINES overrides) and traces two windows: the first 10,000
lines (peak memory of the parser, its buffers included) and the last 10,000 lines after
180,000 untraced ones. A parser that kept anything per line would show it as memory
still held at the end of the last window (10,000 lines × even a few bytes); the bound
asserted is far below that. Nothing about speed is asserted; the throughput is printed.
"""

from __future__ import annotations

import io
import os
import time
import tracemalloc
from collections.abc import Iterator

from schemas.events import SaleReported
from streams.ingest.parsers.csv_report import CsvLineError, parse_csv
from tests.unit.parsers.conftest import RECEIVED_AT

LINES = int(os.environ.get("CHANNELFLOW_CSV_STREAM_LINES", "200000"))
WINDOW = 10_000
HEADER = (
    b"distributor_id,transaction_id,reseller_id,sku,quantity,unit,unit_price,currency,"
    b"sold_at,end_customer,report_id\n"
)


class GeneratedCsv(io.RawIOBase):
    """`lines` sale lines made on demand: the file never exists in memory."""

    def __init__(self, lines: int) -> None:
        self._lines = lines
        self._made = 0
        self._pending = bytearray(HEADER)

    def readable(self) -> bool:
        return True

    def _line(self, i: int) -> bytes:
        return (
            b"DIST-001,T%09d,RES-%03d,SKU-%04d,%d,%s,%d.%02d,USD,2026-04-%02dT10:%02d:00Z,%s,%s\n"
            % (
                i,
                i % 500,
                i % 2000,
                i % 7 - 1 if i % 7 else 3,
                b"CA" if i % 11 == 0 else b"",
                i % 90 + 1,
                i % 100,
                i % 28 + 1,
                i % 60,
                b"EC-%04d" % (i % 999) if i % 3 == 0 else b"",
                b"RPT-%02d" % (i // 50_000),
            )
        )

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while len(self._pending) < len(buffer) and self._made < self._lines:
            for _ in range(256):
                if self._made >= self._lines:
                    break
                self._made += 1
                self._pending += self._line(self._made)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        del self._pending[:size]
        return size


def consume(items: Iterator[SaleReported | CsvLineError], count: int) -> int:
    sales = 0
    for _, item in zip(range(count), items, strict=False):
        assert isinstance(item, SaleReported), item
        sales += 1
    return sales


def test_large_csv_streams_in_flat_memory() -> None:
    assert LINES >= 3 * WINDOW
    started = time.perf_counter()
    tracemalloc.start()
    items = parse_csv(io.BufferedReader(GeneratedCsv(LINES)), received_at=RECEIVED_AT)
    seen = consume(items, WINDOW)
    _, first_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    seen += consume(items, LINES - 2 * WINDOW)

    tracemalloc.start()
    seen += consume(items, WINDOW)
    held, last_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert next(items, None) is None
    elapsed = time.perf_counter() - started

    assert seen == LINES
    # the parser with its 64 KiB byte buffer, text decoder and csv reader
    assert first_peak < 2 * 1024 * 1024, first_peak
    # within a late window nothing accumulates: what stays allocated is not per line
    assert last_peak < 1024 * 1024, last_peak
    assert held < 128 * 1024, held
    print(
        f"\n{LINES:,} CSV lines in {elapsed:.1f}s ({LINES / elapsed:,.0f} lines/s incl. "
        f"{2 * WINDOW:,} traced); peak first window {first_peak / 1024:.0f} KiB, "
        f"last window {last_peak / 1024:.0f} KiB, held after it {held / 1024:.0f} KiB"
    )
