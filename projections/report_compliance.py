"""Report compliance per distributor, on its own reporting calendar: which periods were
expected, and how each stands at "now".

- **The calendar.** Each period is expected under the schedule of the agreement version
  governing its last day, as known when the period ended (`domain.reporting_schedule`,
  `expected_reports`): an amendment recorded later never changes a period that had ended.
  A day no agreement governs (a distributor without one, or before its first term)
  follows the seed calendar, weekly, due on Wednesday, no grace (`SEED_SCHEDULE`).
- **The span.** Periods run from the distributor's first reported day (the earliest day
  its reports cover, at most 53 weeks before a report's end, or its first sale) to "now";
  a period that is not late yet appears only once a report covers it.
- **The deciding report.** A report covers every period of a frequency its dates touch
  (`periods_covered`); the first submitted of those covering a period (by submitted_at,
  then report_id) decides it, `on_time` before the period's `late_from`, else `late`. A
  replacement covers its periods like any report, so a correction never changes a period
  an earlier report decided. A period no report covers is `missing` from its `late_from`.

Pure; the cost is the distributor's reports and the periods from its first reported day
to "now" (read in a thread, never on the event loop).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from domain.reporting_schedule import (
    FREQUENCIES,
    MAX_PERIODS_COVERED,
    SEED_SCHEDULE,
    ExpectedReport,
    Frequency,
    ReportingPeriod,
    ScheduleAt,
    ended_at,
    expected_reports,
    period_of,
    periods_covered,
)
from domain.timeutil import iso_z, utc
from projections.agreement_timeline import AgreementTimeline
from projections.submitted_reports import ReportState
from schemas.agreements import ReportingSchedule

PeriodStatus = Literal["on_time", "late", "missing"]


def schedule_at(timeline: AgreementTimeline | None) -> ScheduleAt:
    """A distributor's calendar: its timeline's schedule, else the seed's."""

    def at(last: date, known_at: datetime) -> tuple[ReportingSchedule, UUID | None]:
        version = None if timeline is None else timeline.on(last, known_at)
        if version is None:
            return SEED_SCHEDULE, None
        return version.terms.reporting, version.event_id

    return at


def report_period(report: ReportState, calendar: ScheduleAt) -> ReportingPeriod:
    """The period holding a report's last day, under the schedule governing that day."""
    schedule, _ = calendar(report.period_end, ended_at(report.period_end)) or (SEED_SCHEDULE, None)
    return period_of(schedule, report.period_end)


@dataclass(frozen=True, slots=True)
class PeriodCompliance:
    """One expected reporting period and how it stands."""

    period: ReportingPeriod
    status: PeriodStatus
    #: the agreement version whose schedule expects it (None: the seed calendar)
    version_event_id: UUID | None
    report_id: str | None = None
    submitted_at: datetime | None = None

    def row(self) -> dict[str, Any]:
        period = self.period
        return {
            "frequency": period.frequency,
            "period_start": period.first.isoformat(),
            "period_end": period.last.isoformat(),
            "week": period.first.isoformat(),
            "due": iso_z(period.due),
            "late_from": iso_z(period.late_from),
            "status": self.status,
            "report_id": self.report_id,
            "submitted_at": None if self.submitted_at is None else iso_z(self.submitted_at),
            "agreement_event_id": _text(self.version_event_id),
        }


def _text(event_id: UUID | None) -> str | None:
    return None if event_id is None else str(event_id)


def _first_day(report: ReportState) -> date:
    """The earliest day a report counts for: at most the latest 53 weeks (a nonsense
    period_start such as 1900-01-01 would otherwise make every week since expected)."""
    end = report.period_end
    earliest = end - timedelta(days=end.weekday(), weeks=MAX_PERIODS_COVERED - 1)
    return max(report.period_start, earliest)


def _deciding(reports: list[ReportState], frequency: Frequency) -> dict[date, ReportState]:
    """Per period (its first day) of `frequency`, the first report covering it."""
    found: dict[date, ReportState] = {}
    for report in reports:
        for first, _ in periods_covered(frequency, report.period_start, report.period_end):
            found.setdefault(first, report)
    return found


def compliance_periods(
    reports: Iterable[ReportState],
    first_sale: date | None,
    now: datetime | None,
    calendar: ScheduleAt,
    since: date | None = None,
) -> list[PeriodCompliance]:
    """One distributor's reporting periods, in order of their last day (weekly first); with
    `since`, only those touching it or later (a scorecard's periods: the walk then costs
    the weeks asked for, not every week since the first sale)."""
    ordered = sorted(reports, key=lambda r: (r.submitted_at, r.report_id))
    starts = [*(_first_day(r) for r in ordered), *([first_sale] if first_sale else [])]
    ends = [r.period_end for r in ordered] + ([utc(now).date()] if now is not None else [])
    if not starts or not ends:
        return []
    first = min(starts) if since is None else max(min(starts), since)
    if first > max(ends):
        return []
    expected = expected_reports(calendar, first, max(ends))
    frequencies = {report.period.frequency for report in expected}
    deciding = {frequency: _deciding(ordered, frequency) for frequency in frequencies}
    found = []
    for report in expected:
        judged = _judged(report, deciding[report.period.frequency], now)
        if judged is not None:
            found.append(judged)
    return found


def _judged(
    expected: ExpectedReport, deciding: dict[date, ReportState], now: datetime | None
) -> PeriodCompliance | None:
    period = expected.period
    decided = deciding.get(period.first)
    if decided is not None:
        status: PeriodStatus = "on_time" if period.is_on_time(decided.submitted_at) else "late"
        return PeriodCompliance(
            period, status, expected.version_event_id, decided.report_id, decided.submitted_at
        )
    if now is not None and utc(now) >= period.late_from:
        return PeriodCompliance(period, "missing", expected.version_event_id)
    return None


def compliance_counts(periods: Iterable[PeriodCompliance]) -> dict[str, Any]:
    """The `quality` row's compliance columns: periods on time, late and missing (each
    period one report), the missing ones by frequency; `weeks_missing` (the weekly ones)
    is kept for one release."""
    on_time = late = 0
    missing = dict.fromkeys(FREQUENCIES, 0)
    for found in periods:
        if found.status == "on_time":
            on_time += 1
        elif found.status == "late":
            late += 1
        else:
            missing[found.period.frequency] += 1
    return {
        "reports_on_time": on_time,
        "reports_late": late,
        "periods_missing": sum(missing.values()),
        "missing_by_frequency": missing,
        "weeks_missing": missing["weekly"],
    }
