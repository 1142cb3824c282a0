"""Calendar periods by business date (UTC): months, quarters and years, and their keys.

An agreement's commitments are per month, quarter or year, and its rotation allowance per
quarter or year. Keys: "2026-07", "2026-Q3", "2026".
"""

from __future__ import annotations

from datetime import date
from typing import Literal

PeriodKind = Literal["month", "quarter", "year"]


def period_key(day: date, kind: PeriodKind) -> str:
    """The key of the `kind` period holding `day`."""
    if kind == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if kind == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if kind == "year":
        return f"{day.year:04d}"
    raise ValueError(f"unknown period kind {kind!r} (month, quarter or year)")


def month_after(first: date, months: int = 1) -> date:
    """The first day of the month `months` after `first`'s month."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
