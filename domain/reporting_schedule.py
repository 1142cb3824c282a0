"""Reporting calendars per agreement: which reports are due when, pure date arithmetic.

An agreement's `ReportingSchedule` is weekly (Monday–Sunday UTC, due on weekday
`due_day` of the following week: 1 = Monday … 7 = Sunday) or monthly (the calendar month,
due on day `due_day` of the next month). A report is due at the end of its due day
(23:59:59 UTC) and on time until the end of `grace_days` more days: from the midnight
after that it is late. The seed's single calendar, `SEED_SCHEDULE`, is the weekly
schedule due on Wednesday (3) without grace: it applies to a day no agreement governs.

Which schedule applies to a period is the agreement version governing its last day, as
known when the period ended (`ScheduleAt`): an amendment recorded later never changes
how a past period is judged. When a schedule changes frequency, a period is expected
when the version governing its last day has its frequency (weekly → monthly on the 15th:
the weeks ending before the 15th are due weekly, that whole month monthly).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal
from uuid import UUID

from domain.calendar_periods import month_after
from domain.timeutil import utc
from schemas.agreements import ReportingSchedule

Frequency = Literal["weekly", "monthly"]
ReportStatus = Literal["on_time", "late", "missing", "not_due"]
FREQUENCIES: Final[tuple[Frequency, ...]] = ("weekly", "monthly")
#: a report covers at most this many periods back from its end (a nonsense period guard)
MAX_PERIODS_COVERED: Final = 53
_END_OF_DAY: Final = timedelta(hours=23, minutes=59, seconds=59)


@dataclass(frozen=True, slots=True)
class ReportingPeriod:
    """One period a report is expected for, and when it is due."""

    frequency: Frequency
    first: date
    last: date
    due: datetime
    late_from: datetime

    def is_on_time(self, submitted_at: datetime) -> bool:
        return utc(submitted_at) < self.late_from


#: the calendar of a day no agreement governs
SEED_SCHEDULE: Final = ReportingSchedule(frequency="weekly", due_day=3, grace_days=0)

#: (a period's last day, known at) -> the schedule governing it and its version's event
#: (None: the seed calendar, no agreement version), or None when nothing is expected
ScheduleAt = Callable[[date, datetime], tuple[ReportingSchedule, UUID | None] | None]


@dataclass(frozen=True, slots=True)
class ExpectedReport:
    """A period expected by an agreement, with the version that set its schedule (None:
    the seed calendar)."""

    period: ReportingPeriod
    version_event_id: UUID | None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(tzinfo=UTC))


def ended_at(last: date) -> datetime:
    """The instant a period whose last day is `last` ends (the midnight after it)."""
    return _midnight(last + timedelta(days=1))


def bounds(frequency: Frequency, day: date) -> tuple[date, date]:
    """First and last day of the `frequency` period holding `day`."""
    if frequency == "weekly":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=6)
    first = day.replace(day=1)
    return first, month_after(first) - timedelta(days=1)


def period_of(schedule: ReportingSchedule, day: date) -> ReportingPeriod:
    """The period of `schedule` holding `day`, with its due instant and its first late one."""
    first, last = bounds(schedule.frequency, day)
    if schedule.frequency == "weekly":
        due_day = last + timedelta(days=schedule.due_day)
    else:
        due_day = month_after(first).replace(day=schedule.due_day)
    late_day = due_day + timedelta(days=1 + schedule.grace_days)
    return ReportingPeriod(
        schedule.frequency, first, last, _midnight(due_day) + _END_OF_DAY, _midnight(late_day)
    )


def candidates(
    frequency: Frequency, first_day: date, last_day: date
) -> Iterator[tuple[date, date]]:
    """The `frequency` periods touching `first_day`..`last_day`, in order."""
    first, last = bounds(frequency, first_day)
    while first <= last_day:
        yield first, last
        first, last = bounds(frequency, last + timedelta(days=1))


def periods_covered(frequency: Frequency, start: date, end: date) -> list[tuple[date, date]]:
    """The periods a report for `start`..`end` touches (at most the latest 53)."""
    span = timedelta(days=MAX_PERIODS_COVERED * (7 if frequency == "weekly" else 31))
    return list(candidates(frequency, max(start, end - span), end))[-MAX_PERIODS_COVERED:]


def expected_reports(
    schedule_at: ScheduleAt, first_day: date, last_day: date
) -> list[ExpectedReport]:
    """The periods touching `first_day`..`last_day` that the governing schedules expect, in
    order of their last day (then weekly before monthly)."""
    found = []
    for frequency in FREQUENCIES:
        for first, last in candidates(frequency, first_day, last_day):
            governed = schedule_at(last, ended_at(last))
            if governed is None or governed[0].frequency != frequency:
                continue
            found.append(ExpectedReport(period_of(governed[0], first), governed[1]))
    return sorted(found, key=lambda report: (report.period.last, report.period.frequency))


def report_status(
    period: ReportingPeriod, submitted_at: datetime | None, now: datetime
) -> ReportStatus:
    """How a period stands at `now`: decided by its first report, or missing once late."""
    if submitted_at is not None:
        return "on_time" if period.is_on_time(submitted_at) else "late"
    return "missing" if utc(now) >= period.late_from else "not_due"
