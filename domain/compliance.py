"""Report compliance calendar: reporting weeks and their due dates, pure date arithmetic.

Distributors report sell-through weekly. A reporting week runs Monday 00:00 to Sunday
23:59:59 UTC and is named by its Monday; its report is due by the following Wednesday
23:59:59 UTC. A report submitted at any instant before the Thursday 00:00 that follows is
on time (so 23:59:59.5 still is); from that Thursday 00:00 on it is late.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from domain.timeutil import utc

WEEK: Final = timedelta(weeks=1)
#: from a week's Monday to its due instant (the following Wednesday 23:59:59)
DUE_AFTER: Final = timedelta(days=9, hours=23, minutes=59, seconds=59)
#: from a week's Monday to the first late instant (the following Thursday 00:00)
LATE_FROM: Final = timedelta(days=10)
#: a report covers at most this many weeks back from its period_end (a guard against a
#: nonsense period such as 1900-01-01, which would otherwise cover thousands of weeks)
MAX_WEEKS_COVERED: Final = 53


def week_start(day: date) -> date:
    """The Monday of the reporting week `day` falls in."""
    return day - timedelta(days=day.weekday())


def week_of(moment: datetime) -> date:
    """The Monday of the reporting week (UTC) `moment` falls in."""
    return week_start(utc(moment).date())


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(tzinfo=UTC))


def due_at(week: date) -> datetime:
    """When the report of `week` (its Monday) is due: the following Wednesday 23:59:59 UTC."""
    return _midnight(week_start(week)) + DUE_AFTER


def late_from(week: date) -> datetime:
    """The first instant at which the report of `week` is late (the following Thursday)."""
    return _midnight(week_start(week)) + LATE_FROM


def is_on_time(submitted_at: datetime, week: date) -> bool:
    return utc(submitted_at) < late_from(week)


def last_due_week(now: datetime) -> date:
    """The latest week whose report is overdue at `now` if it has not arrived."""
    return week_of(utc(now) - LATE_FROM)


def weeks_between(first: date, last: date) -> Iterator[date]:
    """The Mondays of the weeks from `first`'s to `last`'s, both included (none if reversed)."""
    week = week_start(first)
    end = week_start(last)
    while week <= end:
        yield week
        week += WEEK


def weeks_covered(period_start: date, period_end: date) -> list[date]:
    """The weeks a report period touches (at most `MAX_WEEKS_COVERED`, the latest ones)."""
    earliest = week_start(period_end) - (MAX_WEEKS_COVERED - 1) * WEEK
    return list(weeks_between(max(week_start(period_start), earliest), period_end))
