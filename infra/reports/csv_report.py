"""Sell-through lines from a CSV file (the template is documented in CSV_TEMPLATE.md).

`parse_csv` checks the header at once (one `CsvHeaderError` naming every unknown,
missing and duplicate column), then returns a generator yielding, per data line, a
`SaleReported` or a `CsvLineError` (1-based line number, column, reason, message,
the line as sent). The file is read through a text wrapper of the binary stream one
line at a time: memory stays flat whatever the file's size, and nothing is kept per
line (duplicate transaction ids across lines are for the idempotency keys downstream).

A physical line longer than `max_line_chars` (1 MiB by default) is not a CSV line a
distributor's system writes: it raises `CsvFormatError` and stops the file, so that
garbage can never make the parser buffer without bound. A quoted field may span
lines; the reported line number is where its record starts.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Final, TypeVar

from pydantic import ValidationError

from domain.timeutil import utc
from infra.reports.common import (
    MAX_QUANTITY,
    MONEY_PLACES,
    event_uuid,
    validation_summary,
)
from schemas.events import SaleReported

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
OPTIONAL_COLUMNS: Final = ("unit", "end_customer", "report_id")
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
    "invalid_field": "a value the wire schema refuses (e.g. an id with '|')",
}

_QUANTITY = re.compile(r"[+-]?\d+")
_PRICE = re.compile(r"\d+(?:\.\d+)?")
_CURRENCY = re.compile(r"[A-Za-z]{3}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|z|[+-]\d{2}:?\d{2})?"
)
_REPLACEMENT_CHAR: Final = "\ufffd"


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


def parse_csv(
    stream: IO[bytes],
    *,
    received_at: datetime,
    distributor_id: str | None = None,
    report_id: str | None = None,
    max_line_chars: int = MAX_LINE_CHARS,
) -> Iterator[SaleReported | CsvLineError]:
    """Check the header of the CSV in `stream` now; return a generator of its lines.

    `received_at` (timezone-aware) becomes `recorded_at`. `distributor_id`, when given
    (the authenticated uploader), must equal every line's distributor_id.
    `report_id`, when given, is used for lines whose report_id is empty.
    Raises `CsvHeaderError` (bad header) now, and `CsvFormatError` while iterating.
    """
    received = utc(received_at, "received_at")
    source = _Source(stream, max_line_chars)
    columns = source.header()
    return source.rows(columns, received, distributor_id, report_id)


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
        self._text = text
        self._limit = limit
        self.count = 0
        self.record: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._text.readline(self._limit + 1)
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
        text = "".join(self.record).rstrip("\r\n")
        self.record.clear()
        return text


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
            if any(cell.strip() for cell in row):
                return _check_header(row)

    def rows(
        self,
        columns: list[str],
        received_at: datetime,
        distributor_id: str | None,
        report_id: str | None,
    ) -> Iterator[SaleReported | CsvLineError]:
        lines, reader = self._lines, self._reader
        while True:
            start = lines.count + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield CsvLineError(
                    start,
                    None,
                    "csv_syntax",
                    f"line {start} is not valid CSV: {error}",
                    lines.take_record(),
                )
                continue
            original = lines.take_record()
            if not any(cell.strip() for cell in row):
                continue  # blank line (or a row of empty cells, as spreadsheets write)
            yield _line(start, row, original, columns, received_at, distributor_id, report_id)


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
        f"and optionally {', '.join(OPTIONAL_COLUMNS)} (see CSV_TEMPLATE.md)"
    )
    raise CsvHeaderError(
        message,
        unknown=unknown,
        missing=[*missing, *(["sku"] if no_item else [])],
        duplicate=duplicate,
    )


class _Problem(Exception):
    def __init__(self, field: str | None, reason: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason
        self.message = message


def _line(
    number: int,
    row: list[str],
    original: str,
    columns: list[str],
    received_at: datetime,
    uploader: str | None,
    default_report: str | None,
) -> SaleReported | CsvLineError:
    if len(row) != len(columns):
        return CsvLineError(
            number,
            None,
            "column_count",
            f"line {number} has {len(row)} fields but the header has {len(columns)} columns",
            original,
        )
    if any(_REPLACEMENT_CHAR in cell for cell in row):
        column = next(
            name for name, cell in zip(columns, row, strict=True) if _REPLACEMENT_CHAR in cell
        )
        return CsvLineError(
            number,
            column,
            "encoding",
            f"line {number} is not valid UTF-8 (column {column}); save the file as UTF-8",
            original,
        )
    values = {name: cell.strip() for name, cell in zip(columns, row, strict=True)}
    problems: list[_Problem] = []

    def check(fn: Callable[[str, str], _T], name: str) -> _T | None:
        try:
            return fn(values.get(name, ""), name)
        except _Problem as problem:
            problems.append(problem)
            return None

    distributor = check(_required, "distributor_id")
    if isinstance(distributor, str) and uploader is not None and distributor != uploader:
        problems.append(
            _Problem(
                "distributor_id",
                "distributor_mismatch",
                f"distributor_id {distributor!r} is not the uploading distributor {uploader!r}",
            )
        )
    transaction_id = check(_required, "transaction_id")
    reseller_id = check(_required, "reseller_id")
    item_column = next((name for name in ITEM_COLUMNS if values.get(name)), None)
    if item_column is None:
        present = [name for name in ITEM_COLUMNS if name in values]
        problems.append(_Problem(present[0], "missing_field", f"{' / '.join(present)} is empty"))
    quantity = check(_quantity, "quantity")
    unit_price = check(_price, "unit_price")
    currency = check(_currency, "currency")
    sold_at = check(_sold_at, "sold_at")
    if problems:
        first, rest = problems[0], problems[1:]
        message = first.message
        if rest:
            message += " (also: " + "; ".join(f"{p.field}: {p.message}" for p in rest) + ")"
        return CsvLineError(number, first.field, first.reason, message, original)
    assert distributor is not None and transaction_id is not None and reseller_id is not None
    assert item_column is not None and quantity is not None and sold_at is not None
    assert unit_price is not None and currency is not None
    sku = values[item_column]
    unit = values.get("unit") or None
    end_customer = values.get("end_customer") or None
    report_id = values.get("report_id") or default_report
    content = (
        distributor,
        transaction_id,
        reseller_id,
        end_customer,
        sku,
        quantity,
        unit,
        unit_price,
        currency,
        sold_at.isoformat(),
        report_id,
    )
    try:
        return SaleReported(
            event_id=event_uuid("csv-sale", report_id, number, *content),
            occurred_at=sold_at,
            recorded_at=received_at,
            source=SOURCE,
            distributor_id=distributor,
            transaction_id=transaction_id,
            reseller_id=reseller_id,
            end_customer=end_customer,
            sku=sku,
            quantity=quantity,
            unit=unit,
            unit_price=unit_price,
            currency=currency,
            sold_at=sold_at,
            report_id=report_id,
        )
    except ValidationError as error:
        name, message = validation_summary(error)
        field = item_column if name == "sku" else name
        return CsvLineError(number, field, "invalid_field", message, original)


def _required(value: str, name: str) -> str:
    if not value:
        raise _Problem(name, "missing_field", f"{name} is empty")
    return value


def _quantity(value: str, name: str) -> int:
    if not value:
        raise _Problem(name, "missing_field", f"{name} is empty")
    if not _QUANTITY.fullmatch(value):
        if re.fullmatch(r"[+-]?[\d,. '_]+", value) and re.search(r"[, '_]", value):
            why = "write it without thousands separators (1000, not 1,000)"
        elif re.fullmatch(r"[+-]?\d*\.\d+", value):
            why = "it must be a whole number of units"
        else:
            why = "it must be a whole number like 12 or -3"
        raise _Problem(name, "bad_quantity", f"{name} {value!r} is not valid: {why}")
    quantity = int(value)
    if abs(quantity) > MAX_QUANTITY:
        raise _Problem(name, "bad_quantity", f"{name} {value} is out of range")
    return quantity


def _price(value: str, name: str) -> Decimal:
    if not value:
        raise _Problem(name, "missing_field", f"{name} is empty")
    if not _PRICE.fullmatch(value):
        if value.startswith("-") and _PRICE.fullmatch(value[1:]):
            why = "a price cannot be negative (a return is a negative quantity)"
        elif "," in value or " " in value or "'" in value:
            why = (
                "write a plain decimal with a point and no thousands separators "
                "(1234.50, not 1,234.50)"
            )
        elif re.search(r"[^\d.\-+eE]", value):
            why = "write the amount only, without a currency symbol (currency has its own column)"
        else:
            why = "write a plain decimal like 12.50 (no exponent, no thousands separators)"
        raise _Problem(name, "bad_price", f"{name} {value!r} is not valid: {why}")
    amount = Decimal(value)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_PLACES:
        raise _Problem(
            name,
            "bad_price",
            f"{name} {value!r} has more than {MONEY_PLACES} decimal places",
        )
    return amount


def _currency(value: str, name: str) -> str:
    _required(value, name)
    if not _CURRENCY.fullmatch(value):
        raise _Problem(
            name, "bad_currency", f"{name} {value!r} is not a three-letter ISO 4217 code"
        )
    return value.upper()


def _sold_at(value: str, name: str) -> datetime:
    if not value:
        raise _Problem(name, "missing_field", f"{name} is empty")
    try:
        if _DATE.fullmatch(value):
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        if _DATETIME.fullmatch(value):
            parsed = datetime.fromisoformat(value.replace("z", "Z"))
            if parsed.tzinfo is None:
                raise _Problem(
                    name,
                    "bad_date",
                    f"{name} {value!r} has no time zone: add Z or an offset like +02:00 "
                    "(or give a date only, YYYY-MM-DD, for 00:00 UTC)",
                )
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    raise _Problem(
        name,
        "bad_date",
        f"{name} {value!r} is not ISO 8601: use 2026-04-01T14:30:00+02:00, "
        "2026-04-01T12:30:00Z or 2026-04-01",
    )


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
    "CsvLineError",
    "parse_csv",
]
