"""Business time: timezone-aware, held in UTC, written ISO 8601 with a Z."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(moment: datetime, name: str = "time") -> datetime:
    """`moment` in UTC; a naive datetime is refused (it would be a guess)."""
    if moment.tzinfo is UTC:  # already UTC (every validated event time): nothing to convert
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def iso_z(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z suffix: the format of every time the system shows."""
    return utc(moment).isoformat().replace("+00:00", "Z")
