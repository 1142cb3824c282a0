"""The CSV report template (docs/INGEST.md): its columns, the reasons a line is rejected
for, the errors that stop a file or reject a line, and the header check."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Final

from schemas.events import PERSONAL_FIELDS, SaleReported
from streams.ingest.parsers.content_kind import CLAIM_COLUMN, CLAIMS_DOOR

SOURCE: Final = "csv"

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


#: (1-based line number where the record starts, what the record became, and for a sale
#: whose item was read from another column than `sku` that column as the header spells it)
CsvLine = tuple[int, "SaleReported | CsvLineError", str | None]


def _separator_hint(name: str) -> str:
    """A hint for a header read as one column: its names separated by another character
    (a spreadsheet's export with ';' is the usual one)."""
    for separator in (";", "\t", "|"):
        if any(part.strip().lower() in ALL_COLUMNS for part in name.split(separator)[1:]):
            return f" (columns separated by {separator!r}? the template separates them by ',')"
    return ""


#: Excel's first line naming the file's separator ("sep=,"), which it writes and reads
_SEPARATOR_LINE: Final = re.compile(r"\s*sep=(.)\s*", re.IGNORECASE)


def separator_line(line: str) -> str | None:
    """The separator a spreadsheet's `sep=` line names, or None when `line` is none."""
    found = _SEPARATOR_LINE.fullmatch(line)
    return None if found is None else found.group(1)


def check_separator(line: str) -> bool:
    """Whether `line` is a `sep=,` line, to be passed over before the header (it names the
    template's own separator); a `CsvHeaderError` when it names another one."""
    separator = separator_line(line)
    if separator is None:
        return False
    if separator != ",":
        raise CsvHeaderError(
            f"the first line {line.strip()!r} says the columns are separated by "
            f"{separator!r}; the template separates them by ',': export the file as CSV "
            "with commas (a spreadsheet's regional settings choose ';')"
        )
    return True


def header_names(row: list[str]) -> list[str]:
    """A header's column names, lower-cased, without the unnamed columns at its end (a
    spreadsheet exports the empty columns it once formatted: `...,sold_at,,`)."""
    names = [cell.strip().lower() for cell in row]
    while names and not names[-1]:
        names.pop()
    return names


def within(row: list[str], width: int) -> list[str]:
    """A line's cells without the empty ones past the header's `width` named columns (the
    unnamed columns a spreadsheet adds, a line its exporter ends with a comma); as it is
    when one of those holds a value (a line of another width)."""
    if len(row) > width and not "".join(row[width:]).strip():
        return row[:width]
    return row


def check_header(row: list[str]) -> list[str]:
    """The header's column names; a `CsvHeaderError` naming every problem otherwise."""
    names = header_names(row)
    seen: set[str] = set()
    duplicate: list[str] = []
    for name in names:
        if name and name in seen and name not in duplicate:  # '' is named as unknown
            duplicate.append(name)
        seen.add(name)
    unknown = [name for name in names if name not in ALL_COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    no_item = not any(name in seen for name in ITEM_COLUMNS)
    if not (unknown or missing or duplicate or no_item):
        return names
    if CLAIM_COLUMN in seen:
        raise CsvHeaderError(
            f"the file is a debit claim file (its header names {CLAIM_COLUMN}), not a "
            f"sell-through report: send it to {CLAIMS_DOOR} (docs/CLAIMS.md)",
            unknown=unknown,
            missing=[*missing, *(["sku"] if no_item else [])],
            duplicate=duplicate,
        )
    problems: list[str] = []
    if unknown:
        described = []
        for name in unknown:
            close = difflib.get_close_matches(name, ALL_COLUMNS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else _separator_hint(name)
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
