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

import csv
import dataclasses
import difflib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Final, TypeVar

from pydantic import ValidationError

from domain.personal_data import PERSONAL_FIELDS
from domain.timeutil import utc
from schemas.events import SaleReported
from schemas.types import MAX_QUANTITY, MONEY_PLACES
from streams.ingest.parsers.common import event_uuid, validation_summary
from streams.ingest.parsers.csv_fields import (
    CURRENCY_FORMAT,
    PRICE_FORMAT,
    QUANTITY_FORMAT,
    FieldInvalid,
    currency_field,
    fast_time,
    price_field,
    quantity_field,
    required_text,
    sold_at_field,
)
from streams.ingest.parsers.csv_personal import without_personal

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

SOURCE: Final = "csv"

_T = TypeVar("_T")

#: Columns every file must have.
REQUIRED_COLUMNS: Final = (
    "distributor_id",
    "transaction_id",
    "reseller_id",
    "quantity",
    "unit_price",
    "currency",
    "sold_at",
)
#: Item columns: at least one must be present; per line the first non-empty one is used.
ITEM_COLUMNS: Final = ("sku", "vendor_part", "upc")
#: Columns that may be left out (or left empty on a line).
OPTIONAL_COLUMNS: Final = (
    "unit",
    "end_customer",
    "report_id",
    # personal data (docs/PRIVACY.md): sealed by the gateway before the line goes anywhere
    *PERSONAL_FIELDS,
)
ALL_COLUMNS: Final = (*REQUIRED_COLUMNS, *ITEM_COLUMNS, *OPTIONAL_COLUMNS)

MAX_LINE_CHARS: Final = 1 << 20

REASONS: Final[dict[str, str]] = {
    "csv_syntax": "the line is not valid CSV (quotes)",
    "encoding": "the line is not valid UTF-8",
    "column_count": "more or fewer fields than the header has columns",
    "missing_field": "a required value is empty",
    "bad_quantity": "quantity not a whole number (no separators) or out of range",
    "bad_price": "unit_price not a plain decimal with at most 6 places, or negative",
    "bad_currency": "currency not a three-letter ISO 4217 code",
    "bad_date": "sold_at not ISO 8601 with a time zone, nor a date",
    "distributor_mismatch": "distributor_id is not the uploading distributor",
    "report_mismatch": "report_id names another report than the one uploaded",
    "invalid_field": "a value the wire schema refuses (e.g. an id with '|')",
}

_REPLACEMENT_CHAR: Final = "\ufffd"
#: the wire schema's own validator (what `SaleReported.model_validate` calls), bound once
_validate_sale: Final = SaleReported.__pydantic_validator__.validate_python


class CsvHeaderError(ValueError):
    """The header line is not the template's: every problem named at once."""

    def __init__(
        self,
        message: str,
        *,
        unknown: list[str] | None = None,
        missing: list[str] | None = None,
        duplicate: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.unknown = unknown or []
        self.missing = missing or []
        self.duplicate = duplicate or []


class CsvFormatError(ValueError):
    """The input cannot be read as CSV lines at all (stops the file)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class CsvLineError:
    """One rejected CSV line: where (1-based line, column), why, and the line as sent."""

    line: int
    field: str | None
    reason: str
    message: str
    original_line: str


#: (1-based line number where the record starts, what the record became)
CsvLine = tuple[int, "SaleReported | CsvLineError"]


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
    return (item for _, item in lines)


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
    source = _Source(stream, max_line_chars)
    columns = source.header()
    return source.rows(_LineParser(columns, received, distributor_id, report_id, source_name))


def peek_first_line(stream: IO[bytes], max_line_chars: int = MAX_LINE_CHARS) -> dict[str, str]:
    """The first data line's values by column ({} when there is none); checks the header.

    Lets a caller decide what the file is (its distributor, its report) before parsing it.
    Raises `CsvHeaderError` like `parse_csv`.
    """
    source = _Source(stream, max_line_chars)
    columns = source.header()
    for row in source.raw_rows():
        if len(row) == len(columns):
            return {name: cell.strip() for name, cell in zip(columns, row, strict=True)}
        return {}
    return {}


class _Unclosable(io.RawIOBase):
    """A read-only view of the caller's stream that closing never closes."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


class _Lines:
    """Physical text lines (endings kept), counted, each at most `limit` characters."""

    def __init__(self, text: IO[str], limit: int) -> None:
        self._readline = text.readline
        self._limit = limit
        self.count = 0
        self.record: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._readline(self._limit + 1)
        if not line:
            raise StopIteration
        self.count += 1
        if len(line) > self._limit:
            raise CsvFormatError(
                self.count,
                f"line longer than {self._limit:,} characters: not a CSV line (is this the "
                "right file? lines must end with CR LF or LF)",
            )
        self.record.append(line)
        return line

    def take_record(self) -> str:
        record = self.record
        text = record[0] if len(record) == 1 else "".join(record)
        record.clear()
        return text.rstrip("\r\n")


class _Source:
    def __init__(self, stream: IO[bytes], limit: int) -> None:
        buffered = io.BufferedReader(_Unclosable(stream), buffer_size=64 * 1024)
        self._text = io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="replace", newline="")
        self._lines = _Lines(self._text, limit)
        self._reader = csv.reader(self._lines, strict=True)

    def header(self) -> list[str]:
        while True:
            try:
                row = next(self._reader)
            except StopIteration:
                raise CsvHeaderError(
                    "the file is empty: the first line must be the header "
                    f"({', '.join(REQUIRED_COLUMNS)}, sku, ...)",
                    missing=list(REQUIRED_COLUMNS),
                ) from None
            except csv.Error as error:
                raise CsvHeaderError(f"the header line is not valid CSV: {error}") from None
            self._lines.take_record()
            if _has_content(row):
                return _check_header(row)

    def raw_rows(self) -> Iterator[list[str]]:
        """Data records as cells, blank ones skipped; a record that is not CSV ends it."""
        while True:
            try:
                row = next(self._reader)
            except (StopIteration, csv.Error):
                return
            self._lines.take_record()
            if _has_content(row):
                yield row

    def rows(self, parse: _LineParser) -> Iterator[CsvLine]:
        lines, reader = self._lines, self._reader
        while True:
            start = lines.count + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                original = lines.take_record()
                message = f"line {start} is not valid CSV: {error}"
                cells = next(csv.reader(io.StringIO(original), strict=False), [])
                unreadable = parse.unreadable(start, cells, "csv_syntax", None, message, original)
                yield start, parse.redact(unreadable)
                continue
            original = lines.take_record()
            if not _has_content(row):
                continue  # blank line (or a row of empty cells, as spreadsheets write)
            yield start, parse.redact(parse(start, row, original))


def _has_content(row: list[str]) -> bool:
    """False for a blank line or a record of empty or whitespace-only cells."""
    return bool("".join(row).strip())


def _check_header(row: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in row]
    seen: set[str] = set()
    duplicate: list[str] = []
    for name in names:
        if name in seen and name not in duplicate:
            duplicate.append(name)
        seen.add(name)
    unknown = [name for name in names if name not in ALL_COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    no_item = not any(name in seen for name in ITEM_COLUMNS)
    if not (unknown or missing or duplicate or no_item):
        return names
    problems: list[str] = []
    if unknown:
        described = []
        for name in unknown:
            close = difflib.get_close_matches(name, ALL_COLUMNS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            described.append(f"{name!r}{hint}" if name else "'' (an empty column name)")
        problems.append("unknown columns: " + ", ".join(described))
    if missing or no_item:
        wanted = [*missing, *(["sku (or vendor_part / upc)"] if no_item else [])]
        problems.append("missing columns: " + ", ".join(wanted))
    if duplicate:
        problems.append("duplicate columns: " + ", ".join(duplicate))
    message = (
        "CSV header does not match the template: "
        + "; ".join(problems)
        + f". Columns are: {', '.join(REQUIRED_COLUMNS)}, one of {' / '.join(ITEM_COLUMNS)}, "
        f"and optionally {', '.join(OPTIONAL_COLUMNS)} (see docs/INGEST.md)"
    )
    raise CsvHeaderError(
        message,
        unknown=unknown,
        missing=[*missing, *(["sku"] if no_item else [])],
        duplicate=duplicate,
    )


class _LineParser:
    """One data record → a `SaleReported` or a `CsvLineError`.

    The fast path checks each field with one cheap test (the usual case: a valid line);
    anything it does not accept goes through `_checked`, which names every problem.
    Either way the event is built by the wire schema, which validates it in full.
    """

    def __init__(
        self,
        columns: list[str],
        received_at: datetime,
        uploader: str | None,
        report_id: str | None,
        source_name: str | None,
    ) -> None:
        self.columns = columns
        self.width = len(columns)
        self.items = [name for name in ITEM_COLUMNS if name in columns]
        self.received_at = received_at
        self.uploader = uploader
        self.report_id = report_id
        self.source_name = source_name
        self.personal = [i for i, name in enumerate(columns) if name in PERSONAL_FIELDS]

    def redact(self, parsed: SaleReported | CsvLineError) -> SaleReported | CsvLineError:
        """A rejected line as it goes to the dead letters: without its personal cells."""
        if not self.personal or not isinstance(parsed, CsvLineError):
            return parsed
        kept = without_personal(parsed.original_line, self.width, self.personal)
        return dataclasses.replace(parsed, original_line=kept)

    def __call__(self, number: int, row: list[str], original: str) -> SaleReported | CsvLineError:
        if len(row) != self.width:
            message = f"line {number} has {len(row)} fields but the header has {self.width} columns"
            return self.unreadable(number, row, "column_count", None, message, original)
        if _REPLACEMENT_CHAR in original:
            column = next(
                (
                    name
                    for name, cell in zip(self.columns, row, strict=True)
                    if _REPLACEMENT_CHAR in cell
                ),
                None,
            )
            message = f"line {number} is not valid UTF-8 (column {column}); save the file as UTF-8"
            return self.unreadable(number, row, "encoding", column, message, original)
        values = dict(zip(self.columns, [cell.strip() for cell in row], strict=True))
        fields = self._fast(values)
        if fields is None:
            checked = self._checked(number, values, original)
            if isinstance(checked, CsvLineError):
                return checked
            fields = checked
        return self._event(number, values, original, fields)

    def unreadable(
        self,
        number: int,
        cells: list[str],
        reason: str,
        column: str | None,
        message: str,
        original: str,
    ) -> CsvLineError:
        """A line that cannot be read as the template's (`reason`): unless its distributor
        cell, as far as it can be told, names another distributor than the uploader's,
        which outranks whatever else is wrong (a distributor's upload of another
        distributor's line is refused whole, valid or not)."""
        position = self.columns.index("distributor_id")
        named = cells[position].strip() if position < len(cells) else ""
        uploader = self.uploader
        if uploader is None or not named or named == uploader or _REPLACEMENT_CHAR in named:
            return CsvLineError(number, column, reason, message, original)
        return CsvLineError(
            number,
            "distributor_id",
            "distributor_mismatch",
            f"distributor_id {named!r} is not the uploading distributor {uploader!r} "
            f"(also: {message})",
            original,
        )

    def _fast(self, values: dict[str, str]) -> _Fields | None:
        """The line's fields when every one passes its plain check, else None."""
        distributor = values["distributor_id"]
        if not distributor or not values["transaction_id"] or not values["reseller_id"]:
            return None
        if self.uploader is not None and distributor != self.uploader:
            return None
        report = values.get("report_id")
        if report and self.report_id is not None and report != self.report_id:
            return None
        item = next((name for name in self.items if values[name]), None)
        quantity_text, price_text = values["quantity"], values["unit_price"]
        currency = values["currency"]
        if (
            item is None
            or not QUANTITY_FORMAT.fullmatch(quantity_text)
            or not PRICE_FORMAT.fullmatch(price_text)
            or not CURRENCY_FORMAT.fullmatch(currency)
        ):
            return None
        quantity = int(quantity_text)
        dot = price_text.find(".")
        if abs(quantity) > MAX_QUANTITY or (dot >= 0 and len(price_text) - dot - 1 > MONEY_PLACES):
            return None
        sold_at = fast_time(values["sold_at"])
        if sold_at is None:
            return None
        return item, quantity, Decimal(price_text), currency.upper(), sold_at

    def _checked(
        self, number: int, values: dict[str, str], original: str
    ) -> _Fields | CsvLineError:
        """Every field checked with a precise message; the first problem names the line."""
        problems: list[FieldInvalid] = []

        def check(fn: Callable[[str, str], _T], name: str) -> _T | None:
            try:
                return fn(values.get(name, ""), name)
            except FieldInvalid as problem:
                problems.append(problem)
                return None

        distributor = check(required_text, "distributor_id")
        uploader = self.uploader
        if isinstance(distributor, str) and uploader is not None and distributor != uploader:
            problems.append(
                FieldInvalid(
                    "distributor_id",
                    "distributor_mismatch",
                    f"distributor_id {distributor!r} is not the uploading distributor {uploader!r}",
                )
            )
        check(required_text, "transaction_id")
        check(required_text, "reseller_id")
        item = next((name for name in self.items if values[name]), None)
        if item is None:
            problems.append(
                FieldInvalid(self.items[0], "missing_field", f"{' / '.join(self.items)} is empty")
            )
        quantity = check(quantity_field, "quantity")
        unit_price = check(price_field, "unit_price")
        currency = check(currency_field, "currency")
        sold_at = check(sold_at_field, "sold_at")
        report = values.get("report_id")
        if report and self.report_id is not None and report != self.report_id:
            problems.append(
                FieldInvalid(
                    "report_id",
                    "report_mismatch",
                    f"report_id {report!r} is not the report uploaded ({self.report_id!r}): "
                    "one file is one report",
                )
            )
        if problems:
            first, rest = problems[0], problems[1:]
            message = first.message
            if rest:
                message += " (also: " + "; ".join(f"{p.field}: {p.message}" for p in rest) + ")"
            return CsvLineError(number, first.field, first.reason, message, original)
        assert item is not None and quantity is not None and unit_price is not None
        assert currency is not None and sold_at is not None
        return item, quantity, unit_price, currency, sold_at

    def _event(
        self, number: int, values: dict[str, str], original: str, fields: _Fields
    ) -> SaleReported | CsvLineError:
        item, quantity, unit_price, currency, sold_at = fields
        distributor, transaction_id = values["distributor_id"], values["transaction_id"]
        reseller_id, sku = values["reseller_id"], values[item]
        unit = values.get("unit") or None
        end_customer = values.get("end_customer") or None
        report_id = values.get("report_id") or self.report_id
        # the line as sent stands for its content: a changed line gets a new id
        event_id = event_uuid("csv-sale", report_id, number, original)
        data: dict[str, object] = {
            "event_id": event_id,
            "occurred_at": sold_at,
            "recorded_at": self.received_at,
            "source": SOURCE,
            "distributor_id": distributor,
            "transaction_id": transaction_id,
            "reseller_id": reseller_id,
            "sku": sku,
            "quantity": quantity,
            "unit_price": unit_price,
            "currency": currency,
            "sold_at": sold_at,
        }
        # optional fields only when present (validating a dict is cheaper than keywords)
        if self.source_name is not None:
            data["source_ref"] = f"{self.source_name}:{number}"
        if end_customer is not None:
            data["end_customer"] = end_customer
        for column in PERSONAL_FIELDS:
            if personal := values.get(column):
                data[column] = personal
        if unit is not None:
            data["unit"] = unit
        if report_id is not None:
            data["report_id"] = report_id
        try:
            return _validate_sale(data)
        except ValidationError as error:
            name, message = validation_summary(error)
            field = item if name == "sku" else name
            return CsvLineError(number, field, "invalid_field", message, original)


#: (item column used, quantity, unit price, currency, sold_at) of a line whose fields are valid
_Fields = tuple[str, int, Decimal, str, datetime]


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
    "peek_first_line",
]
