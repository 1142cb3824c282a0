"""Calendar periods by business date (UTC): months, quarters and years, their keys and days.

An agreement's commitments are per month, quarter or year, and its rotation allowance per
quarter or year. Keys: "2026-07", "2026-Q3", "2026"; bounds are dates, both inclusive.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final, Literal

PeriodKind = Literal["month", "quarter", "year"]

_KEY: Final = re.compile(r"^(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?$")


def period_key(day: date, kind: PeriodKind) -> str:
    """The key of the `kind` period holding `day`."""
    if kind == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if kind == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if kind == "year":
        return f"{day.year:04d}"
    raise ValueError(f"unknown period kind {kind!r} (month, quarter or year)")


def period_days(key: str) -> tuple[date, date]:
    """First and last day of a period key: "2026-Q3" → 2026-07-01, 2026-09-30."""
    match = _KEY.fullmatch(key)
    if match is None:
        raise ValueError(f"not a period key: {key!r} (e.g. '2026-07', '2026-Q3' or '2026')")
    year = int(match.group(1))
    if match.group(2) is not None:
        first_month, months = 3 * int(match.group(2)) - 2, 3
    elif match.group(3) is not None:
        first_month, months = int(match.group(3)), 1
    else:
        first_month, months = 1, 12
    first = date(year, first_month, 1)
    return first, month_after(first, months) - timedelta(days=1)


def month_after(first: date, months: int = 1) -> date:
    """The first day of the month `months` after `first`'s month."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
