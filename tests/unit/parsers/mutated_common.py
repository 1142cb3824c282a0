"""What the mutated reports (tests/unit/parsers/mutated_reports.py) share: the junk a field
is corrupted with, other delimiters and separators, and the `Mutated` example."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hypothesis import strategies as st

Format = Literal["csv", "867", "852"]

#: item ids the test catalog knows (tests/unit/api/ingest_api.py catalog: id, vendor part, UPC)
KNOWN_ITEMS = ("WIDGET-100", "GADGET-200")
#: values a corrupted field takes: wrong type, sign, format, unknown ids, nothing
JUNK = (
    "",
    " ",
    "x",
    "-3",
    "0",
    "1.5",
    "1,000",
    "1e3",
    "99999999999999",
    "2026-13-01",
    "20261301",
    "20260229",
    "NOPE-1",
    "DIST-002",
    "EUR",
    "XX",
    "12.5.0",
    "é",
)
#: X12 delimiters that another sender's file, or a bad edit, may have in one segment
OTHER_DELIMITERS = ("|", "^", ":", "+")
#: CSV separators of other locales and tools
OTHER_SEPARATORS = (";", "\t", "|")


@dataclass(frozen=True)
class Mutated:
    """A generated report after mutations."""

    format: Format
    data: bytes
    #: what was done, in order (for a failing example's message)
    done: tuple[str, ...]
    #: a mutation broke the file as a whole (envelope, delimiter, cut short): it may be
    #: refused whole; otherwise it must be answered line by line
    structural: bool = False
    #: CSV: the physical line numbers of the input lines (non-blank lines after the header)
    csv_lines: tuple[int, ...] = ()
    #: 867: how many lines each report (transaction set) holds, in order
    report_lines: tuple[int, ...] = ()
    #: 852: per report, the segment numbers its lines are answered at (a count's ZA; a
    #: LIN naming no item)
    report_segments: tuple[tuple[int, ...], ...] = ()
    #: X12: the segment a changed delimiter makes unreadable (the first such)
    unreadable_segment: int | None = None


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True about once in n (an integer draw would favour its bounds); shrinks to False."""
    return st.sampled_from((False,) * (n - 1) + (True,))


def pick(draw: st.DrawFn, size: int) -> int:
    return draw(st.integers(0, size - 1))
