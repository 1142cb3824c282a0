"""A CSV report: its lines, and the report they make (its distributor and id from the
upload, else the first line)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass

from streams.ingest.formats.report_header import SaleDays, report_closed
from streams.ingest.formats.upload import Item, Parsed, Stored, Unreadable, Upload, option_id
from streams.ingest.parsers.csv_report import (
    CsvLine,
    CsvLineError,
    parse_csv_lines,
    peek_first_line,
)


@dataclass(frozen=True)
class CsvReport:
    """Whose report a CSV file is, and its id."""

    distributor: str
    report_id: str


def read_csv(upload: Upload, file: Stored) -> Iterator[Item]:
    """A CSV file is one report: its id is the upload's `report_id`, else the first
    line's report_id, else one derived from the file's bytes."""
    report = csv_report(upload, file)
    days = SaleDays(upload)
    with file.open() as stream:
        rows = parse_csv_lines(
            stream,
            received_at=upload.received_at,
            distributor_id=report.distributor,
            report_id=report.report_id,
            source_name=upload.name,
        )
        lines = yield from csv_lines(upload, rows, days)
    yield report_closed(upload, 1, report.distributor, report.report_id, lines, days)


def csv_report(upload: Upload, file: Stored) -> CsvReport:
    """The report a CSV file is (its header checked: `CsvHeaderError`)."""
    with file.open() as stream:
        first = peek_first_line(stream)
    distributor = upload.uploader or _first_line_id(first, "distributor_id")
    if distributor is None:
        raise Unreadable(
            "unknown_distributor",
            "whose report is this? the first line names no distributor_id: "
            "give distributor_id (admin uploads)",
        )
    report_id = (
        upload.report_id or _first_line_id(first, "report_id") or f"csv-{upload.digest[:20]}"
    )
    return CsvReport(distributor, report_id)


def csv_lines(
    upload: Upload, rows: Iterator[CsvLine], days: SaleDays
) -> Generator[Parsed, None, int]:
    """The report's lines as read (its sale days added to `days`); returns how many."""
    lines = 0
    for number, item, column in rows:
        lines += 1
        ref = f"{upload.name}:{number}"
        if isinstance(item, CsvLineError):
            original = item.original_line.encode()
            yield Parsed(number, ref, None, item.reason, item.field, item.message, original, 1)
            continue
        days.add(item)
        where = None if column is None else {"sku": (None, column)}
        yield Parsed(number, ref, item, report=1, replaces=upload.replaces, where=where)
    return lines


def _first_line_id(first: dict[str, str], column: str) -> str | None:
    """The first line's value of `column`, which the whole file goes by (None: empty)."""
    try:
        return option_id(column, first.get(column))
    except ValueError as exc:
        raise Unreadable(
            "invalid_id",
            f"the file goes by its first line's {exc}; correct it, or give {column}=",
            column=column,
        ) from None
