"""Parsing of user-given as-of dates (CLI flags, query parameters)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


class TimeParseError(ValueError):
    pass


def parse_as_of(text: str, what: str = "as-of") -> datetime:
    """A date means the end of that UTC day; a datetime needs its timezone. `what` names
    the value in the error (a flag or parameter: "as-of", "known-at")."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day + timedelta(days=1), time(), UTC) - timedelta(microseconds=1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TimeParseError(
            f"{what} {text!r} is neither a date (2026-09-30) nor a datetime with timezone"
        ) from None
    if moment.tzinfo is None:
        raise TimeParseError(f"{what} {text!r} has no timezone; add Z or +00:00")
    return moment.astimezone(UTC)
