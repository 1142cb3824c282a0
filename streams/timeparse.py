"""Parsing of user-given as-of dates (CLI flags, query parameters)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Final


class TimeParseError(ValueError):
    pass


#: the years an as-of may name: the reads count days, weeks and years back and forth from
#: it, which past the calendar's ends (year 1, year 9999) is an OverflowError
YEARS: Final = range(1900, 9001)


def parse_as_of(text: str, what: str = "as-of") -> datetime:
    """A date means the end of that UTC day; a datetime needs its timezone. `what` names
    the value in the error (a flag or parameter: "as-of", "known-at")."""
    moment = _moment(text, what)
    if moment.year not in YEARS:
        raise TimeParseError(
            f"{what} {text!r} is out of range: a year from {YEARS[0]} to {YEARS[-1]}"
        )
    return moment


def _moment(text: str, what: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day, time.max, UTC)  # the end of that day
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TimeParseError(
            f"{what} {text!r} is neither a date (2026-09-30) nor a datetime with timezone"
        ) from None
    if moment.tzinfo is None:
        raise TimeParseError(f"{what} {text!r} has no timezone; add Z or +00:00")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00
        raise TimeParseError(f"{what} {text!r} is out of range") from None
