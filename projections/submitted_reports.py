"""Submitted sell-through reports, per distributor: what came when, and what replaced what.

Report compliance is counted per reporting week (domain/compliance.py): a week is
``on_time`` or ``late`` by the report that decides it, and ``missing`` when no report
covers it although its due date has passed at "now".

- A report covers every week its period touches.
- The report that decides a week is the first submitted of those covering it (by
  submitted_at, then report_id). A replacement covers its weeks like any report, so it
  never changes a week an earlier report decided: correcting a report in time is not
  made late by the correction, nor a late one on time. It decides a week only where no
  earlier report covers it (e.g. it replaces a report that was never received).
- `reports_on_time` / `reports_late` count weeks (one weekly report each), so together
  with `weeks_missing` they add up to the weeks expected.
- Weeks expected run from the distributor's first reported or first sell-through week up
  to the last week whose due date has passed at "now"; weeks after that appear only
  once a report covers them.

The functions here are pure; the report store is written by projections/replacement.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from domain.compliance import (
    due_at,
    is_on_time,
    last_due_week,
    week_start,
    weeks_between,
    weeks_covered,
)
from domain.timeutil import iso_z
from projections.inventory import Move
from schemas.events import ReportSubmitted

WeekStatus = Literal["on_time", "late", "missing"]


@dataclass(frozen=True, slots=True)
class ReportState:
    """One submitted report (the first accepted header under its report_id)."""

    distributor_id: str
    report_id: str
    period_start: date
    period_end: date
    line_count: int
    submitted_at: datetime
    event_id: str
    #: the report this one replaces, as named by it
    replaces: str | None = None
    #: the report whose lines this one reversed: the named one, or its replacement
    reversed_report: str | None = None
    #: the replaced report's header was never received (`lines_reversed`: of its lines)
    replaces_unknown: bool = False
    #: lines of the replaced report this one reversed
    lines_reversed: int = 0
    #: the report that replaced this one
    replaced_by: str | None = None

    @property
    def due(self) -> datetime:
        """The due date of the last week the report covers."""
        return due_at(week_start(self.period_end))

    @property
    def on_time(self) -> bool:
        return is_on_time(self.submitted_at, week_start(self.period_end))

    def to_json(self) -> dict[str, Any]:
        return {
            "d": self.distributor_id,
            "r": self.report_id,
            "from": self.period_start.isoformat(),
            "to": self.period_end.isoformat(),
            "lines": self.line_count,
            "at": self.submitted_at.isoformat(),
            "id": self.event_id,
            "replaces": self.replaces,
            "reversed": [self.reversed_report, self.lines_reversed],
            "unknown": self.replaces_unknown,
            "by": self.replaced_by,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReportState:
        return cls(
            distributor_id=data["d"],
            report_id=data["r"],
            period_start=date.fromisoformat(data["from"]),
            period_end=date.fromisoformat(data["to"]),
            line_count=data["lines"],
            submitted_at=datetime.fromisoformat(data["at"]),
            event_id=data["id"],
            replaces=data["replaces"],
            reversed_report=data["reversed"][0],
            lines_reversed=data["reversed"][1],
            replaces_unknown=data["unknown"],
            replaced_by=data["by"],
        )


def report_key(distributor_id: str, report_id: str) -> str:
    return f"{distributor_id}|{report_id}"


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One accepted line of a report, as a replacement reverses it: its SKU and its move,
    and the report that reversed it once one has."""

    sku: str
    move: Move
    reversed_by: str | None = None

    def to_json(self) -> list[Any]:
        return [self.sku, self.move.to_json(), self.reversed_by]

    @classmethod
    def from_json(cls, data: list[Any]) -> ReportLine:
        return cls(data[0], Move.from_json(data[1]), data[2])


def report_line_key(distributor_id: str, report_id: str, event_id: str) -> str:
    return f"{distributor_id}|{report_id}|{event_id}"


def report_of(event: ReportSubmitted) -> ReportState:
    return ReportState(
        event.distributor_id,
        event.report_id,
        event.period_start,
        event.period_end,
        event.line_count,
        event.submitted_at,
        str(event.event_id),
        replaces=event.replaces_report_id,
    )


def header_fingerprint(event: ReportSubmitted) -> str:
    """What makes two headers under one report_id the same report (a resend may carry
    another submission time) or a conflicting one."""
    return "|".join(
        (
            event.period_start.isoformat(),
            event.period_end.isoformat(),
            str(event.line_count),
            event.replaces_report_id or "",
        )
    )


@dataclass(frozen=True, slots=True)
class WeekCompliance:
    week: date  # its Monday
    due: datetime
    status: WeekStatus
    report_id: str | None = None
    submitted_at: datetime | None = None

    def row(self) -> dict[str, Any]:
        return {
            "week": self.week.isoformat(),
            "due": iso_z(self.due),
            "status": self.status,
            "report_id": self.report_id,
            "submitted_at": None if self.submitted_at is None else iso_z(self.submitted_at),
        }


def compliance_weeks(
    reports: Iterable[ReportState], first_sale: date | None, now: datetime | None
) -> list[WeekCompliance]:
    """One distributor's reporting weeks, oldest first (see the module docstring)."""
    deciding: dict[date, ReportState] = {}
    for report in sorted(reports, key=lambda r: (r.submitted_at, r.report_id)):
        for week in weeks_covered(report.period_start, report.period_end):
            deciding.setdefault(week, report)
    weeks = set(deciding)
    starts = [*deciding, *([week_start(first_sale)] if first_sale else [])]
    if starts and now is not None:
        weeks.update(weeks_between(min(starts), last_due_week(now)))
    found = []
    for week in sorted(weeks):
        decided = deciding.get(week)
        if decided is None:
            found.append(WeekCompliance(week, due_at(week), "missing"))
        else:
            status: WeekStatus = "on_time" if is_on_time(decided.submitted_at, week) else "late"
            found.append(
                WeekCompliance(week, due_at(week), status, decided.report_id, decided.submitted_at)
            )
    return found


def compliance_counts(weeks: Iterable[WeekCompliance]) -> dict[str, int]:
    """The `quality` row's compliance columns."""
    statuses = [week.status for week in weeks]
    return {
        "reports_on_time": statuses.count("on_time"),
        "reports_late": statuses.count("late"),
        "weeks_missing": statuses.count("missing"),
    }


def report_row(report: ReportState) -> dict[str, Any]:
    """One `reports` row of the projection snapshot."""
    return {
        "distributor_id": report.distributor_id,
        "report_id": report.report_id,
        "period_start": report.period_start.isoformat(),
        "period_end": report.period_end.isoformat(),
        "submitted_at": iso_z(report.submitted_at),
        "due": iso_z(report.due),
        "status": "on_time" if report.on_time else "late",
        "line_count": report.line_count,
        "replaces": report.replaces,
        "reversed_report": report.reversed_report,
        "lines_reversed": report.lines_reversed,
        "replaces_unknown": report.replaces_unknown,
        "replaced_by": report.replaced_by,
    }
