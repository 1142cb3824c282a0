"""CSV that a spreadsheet opens as data: no cell is evaluated as a formula.

Cells hold text a distributor controls (ids, dispute reasons). Excel, LibreOffice and Google
Sheets evaluate a cell that starts with `=`, `+`, `-` or `@` (`=HYPERLINK(...)`, a DDE call
`+cmd|' /C calc'!A0`); some skip leading spaces, tabs or line breaks first. Following
OWASP's CSV-injection guidance, such a cell, and any that starts with a tab or a line break,
is written with a single quote in front (`'=2+5`): spreadsheets show it as text. A plain
number (`-12.50`) is left as it is, so amounts stay numbers: it cannot hold a formula. NUL,
at which spreadsheets cut a cell or the file, is written as U+FFFD. Quoting is RFC 4180's:
a cell with a comma, a quote or a line break is quoted, its quotes doubled.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

#: the first characters that make a spreadsheet evaluate a cell (OWASP: CSV injection)
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def cell(value: Any) -> str:
    """The text of one cell: None is empty, booleans are true/false, formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).replace("\0", "\ufffd")
    if text.lstrip(" ").startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_bytes(columns: tuple[str, ...], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A header of `columns` and one line per row (other keys ignored), UTF-8."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([cell(name) for name in columns])
    writer.writerows([cell(row.get(name)) for name in columns] for row in rows)
    return buffer.getvalue().encode("utf-8")
