"""Reporting calendars per agreement: due instants, grace, monthly schedules, a schedule
changed by an amendment, and the seed's weekly calendar as one case of it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from domain.reporting_schedule import (
    SEED_SCHEDULE,
    ReportingPeriod,
    ScheduleAt,
    expected_reports,
    period_of,
    periods_covered,
    report_status,
)
from projections.agreement_timeline import AgreementTimeline, amend, sign
from schemas.agreements import ReportingSchedule
from tests.unit.agreement_events import SIGNED, amended, at, signed

WEDNESDAY = ReportingSchedule(frequency="weekly", due_day=3)
MONTHLY = ReportingSchedule(frequency="monthly", due_day=10, grace_days=2)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@given(st.dates(date(2001, 1, 1), date(2098, 12, 31)))
def test_the_weekly_wednesday_schedule_is_the_seed_calendar(day: date) -> None:
    """Monday to Sunday, due the Wednesday after at 23:59:59 UTC, late from Thursday 00:00."""
    period = period_of(SEED_SCHEDULE, day)
    assert period_of(WEDNESDAY, day) == period
    assert period.first.weekday() == 0 and period.first <= day <= period.last
    assert period.last == period.first + timedelta(days=6)
    monday = datetime.combine(period.first, datetime.min.time(), UTC)
    assert period.due == monday + timedelta(days=9, hours=23, minutes=59, seconds=59)
    assert period.late_from == monday + timedelta(days=10)


def test_monthly_due_on_the_tenth_with_two_days_grace() -> None:
    october = period_of(MONTHLY, date(2026, 10, 17))
    assert (october.first, october.last) == (date(2026, 10, 1), date(2026, 10, 31))
    assert october.due == utc(2026, 11, 10, 23, 59, 59)
    assert october.late_from == utc(2026, 11, 13)
    assert october.is_on_time(utc(2026, 11, 12, 23, 0))
    assert not october.is_on_time(utc(2026, 11, 13))
    assert period_of(MONTHLY, date(2026, 12, 31)).due == utc(2027, 1, 10, 23, 59, 59)


def test_a_weekly_schedule_due_on_monday() -> None:
    period = period_of(
        ReportingSchedule(frequency="weekly", due_day=1, grace_days=1), date(2026, 10, 7)
    )
    assert (period.first, period.last) == (date(2026, 10, 5), date(2026, 10, 11))
    assert period.due == utc(2026, 10, 12, 23, 59, 59) and period.late_from == utc(2026, 10, 14)


def test_report_status_at_now() -> None:
    october = period_of(MONTHLY, date(2026, 10, 1))
    assert report_status(october, utc(2026, 11, 2), utc(2026, 12, 1)) == "on_time"
    assert report_status(october, utc(2026, 11, 20), utc(2026, 12, 1)) == "late"
    assert report_status(october, None, utc(2026, 11, 12, 23)) == "not_due"
    assert report_status(october, None, utc(2026, 11, 13)) == "missing"


def schedule_at(timeline: AgreementTimeline) -> ScheduleAt:
    def at_day(last: date, known_at: datetime) -> tuple[ReportingSchedule, UUID] | None:
        version = timeline.on(last, known_at)
        return None if version is None else (version.terms.reporting, version.event_id)

    return at_day


def firsts(reports: list[ReportingPeriod]) -> list[tuple[str, date]]:
    return [(period.frequency, period.first) for period in reports]


def test_a_schedule_amended_from_weekly_to_monthly() -> None:
    """Monthly from Oct 15: the weeks ending Oct 4 and 11 are due weekly, October and
    November monthly; the weeks ending Oct 18 and later are not expected."""
    change = amended("M1", date(2026, 10, 15), reporting={"frequency": "monthly", "due_day": 10})
    timeline = amend(sign(None, signed(), SIGNED, None), change, at(date(2026, 10, 1)), None)
    reports = expected_reports(schedule_at(timeline), date(2026, 10, 1), date(2026, 11, 30))
    assert firsts([r.period for r in reports]) == [
        ("weekly", date(2026, 9, 28)),
        ("weekly", date(2026, 10, 5)),
        ("monthly", date(2026, 10, 1)),
        ("monthly", date(2026, 11, 1)),
    ]
    assert reports[0].version_event_id == signed().event_id
    assert reports[2].version_event_id == change.event_id


def test_a_retroactive_schedule_change_leaves_ended_weeks_as_they_were() -> None:
    """Monthly from Oct 1, recorded Oct 20: the weeks that ended before it stay expected."""
    change = amended("M1", date(2026, 10, 1), reporting={"frequency": "monthly", "due_day": 10})
    timeline = amend(sign(None, signed(), SIGNED, None), change, at(date(2026, 10, 20)), None)
    reports = expected_reports(schedule_at(timeline), date(2026, 10, 1), date(2026, 10, 31))
    assert firsts([r.period for r in reports]) == [
        ("weekly", date(2026, 9, 28)),
        ("weekly", date(2026, 10, 5)),
        ("weekly", date(2026, 10, 12)),
        ("monthly", date(2026, 10, 1)),
    ]


def test_no_agreement_expects_nothing() -> None:
    assert expected_reports(lambda last, known: None, date(2026, 1, 1), date(2026, 3, 1)) == []


def test_periods_a_report_covers() -> None:
    assert periods_covered("weekly", date(2026, 10, 1), date(2026, 10, 31))[0] == (
        date(2026, 9, 28),
        date(2026, 10, 4),
    )
    assert len(periods_covered("weekly", date(2026, 10, 1), date(2026, 10, 31))) == 5
    assert periods_covered("monthly", date(2026, 10, 15), date(2026, 11, 2)) == [
        (date(2026, 10, 1), date(2026, 10, 31)),
        (date(2026, 11, 1), date(2026, 11, 30)),
    ]
    assert len(periods_covered("weekly", date(1990, 1, 1), date(2026, 10, 31))) == 53
