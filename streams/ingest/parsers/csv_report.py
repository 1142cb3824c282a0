"""Sell-through lines from a CSV file (the template is documented in docs/INGEST.md).

`parse_csv` checks the header at once (one `CsvHeaderError` naming every unknown,
missing and duplicate column), then returns a generator yielding, per data line, a
`SaleReported` or a `CsvLineError` (1-based line number, column, reason, message,
the line as sent); `parse_csv_lines` yields the same with each line's number.
The file is read through a text wrapper of the binary stream one line at a time:
memory stays flat whatever the file's size, and nothing is kept per line (duplicate
transaction ids across lines are for the idempotency keys downstream).

A physical line longer than `max_line_chars` (1 MiB by default) is not a CSV line a
distributor's system writes: it raises `CsvFormatError` and stops the file, so that
garbage can never make the parser buffer without bound. A quoted field may span
lines; the reported line number is where its record starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import IO

from domain.timeutil import utc
from schemas.events import SaleReported
from streams.ingest.parsers.csv_line_parser import LineParser
from streams.ingest.parsers.csv_source import CsvSource
from streams.ingest.parsers.csv_template import (
    ALL_COLUMNS,
    ITEM_COLUMNS,
    MAX_LINE_CHARS,
    OPTIONAL_COLUMNS,
    REASONS,
    REQUIRED_COLUMNS,
    SOURCE,
    CsvFormatError,
    CsvHeaderError,
    CsvLine,
    CsvLineError,
    within,
)


def parse_csv(
    stream: IO[bytes],
    *,
    received_at: datetime,
    distributor_id: str | None = None,
    report_id: str | None = None,
    max_line_chars: int = MAX_LINE_CHARS,
    source_name: str | None = None,
) -> Iterator[SaleReported | CsvLineError]:
    """Check the header of the CSV in `stream` now; return a generator of its lines.

    `received_at` (timezone-aware) becomes `recorded_at`. `distributor_id`, when given
    (the authenticated uploader), must equal every line's distributor_id.
    `report_id`, when given, is the report the file is: lines whose report_id is empty
    get it, lines naming another report are rejected (`report_mismatch`).
    `source_name` (e.g. the file name) makes each event's `source_ref` "name:line".
    Raises `CsvHeaderError` (bad header) now, and `CsvFormatError` while iterating.
    """
    lines = parse_csv_lines(
        stream,
        received_at=received_at,
        distributor_id=distributor_id,
        report_id=report_id,
        max_line_chars=max_line_chars,
        source_name=source_name,
    )
    return (item for _, item, _ in lines)


def parse_csv_lines(
    stream: IO[bytes],
    *,
    received_at: datetime,
    distributor_id: str | None = None,
    report_id: str | None = None,
    max_line_chars: int = MAX_LINE_CHARS,
    source_name: str | None = None,
) -> Iterator[CsvLine]:
    """`parse_csv`, each item with its line number."""
    received = utc(received_at, "received_at")
    source = CsvSource(stream, max_line_chars)
    columns = source.header()
    parse = LineParser(columns, received, distributor_id, report_id, source_name, source.spelling)
    return source.rows(parse)


def parse_csv_part(
    stream: IO[bytes],
    *,
    skipped_lines: int,
    received_at: datetime,
    distributor_id: str | None = None,
    report_id: str | None = None,
    max_line_chars: int = MAX_LINE_CHARS,
    source_name: str | None = None,
) -> tuple[CsvSource, Iterator[CsvLine]]:
    """`parse_csv_lines` of a part of a file, read on its own: `stream` holds the header
    line, then the file from a record that starts `skipped_lines` physical lines after
    the header. Lines are numbered as in the whole file. Once the lines are read, the
    source's `ended_in_error` says whether the last record was not CSV (the part's end
    may have cut it: the part must then be read with what follows it)."""
    received = utc(received_at, "received_at")
    source = CsvSource(stream, max_line_chars)
    columns = source.header()
    source.skip(skipped_lines)
    parse = LineParser(columns, received, distributor_id, report_id, source_name, source.spelling)
    return source, source.rows(parse)


def peek_first_line(stream: IO[bytes], max_line_chars: int = MAX_LINE_CHARS) -> dict[str, str]:
    """The first data line's values by column ({} when there is none); checks the header.

    Lets a caller decide what the file is (its distributor, its report) before parsing it.
    Raises `CsvHeaderError` like `parse_csv`.
    """
    source = CsvSource(stream, max_line_chars)
    columns = source.header()
    for row in source.raw_rows():
        row = within(row, len(columns))
        if len(row) == len(columns):
            return {name: cell.strip() for name, cell in zip(columns, row, strict=True)}
        return {}
    return {}


__all__ = [
    "ALL_COLUMNS",
    "ITEM_COLUMNS",
    "MAX_LINE_CHARS",
    "OPTIONAL_COLUMNS",
    "REASONS",
    "REQUIRED_COLUMNS",
    "SOURCE",
    "CsvFormatError",
    "CsvHeaderError",
    "CsvLine",
    "CsvLineError",
    "parse_csv",
    "parse_csv_lines",
    "parse_csv_part",
    "peek_first_line",
]
