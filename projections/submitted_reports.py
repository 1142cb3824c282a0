"""Submitted sell-through reports, per distributor: what came when, and what replaced what.

How the reports decide each reporting period (on time, late, missing) is
`projections.report_compliance`. A replacement covers its periods like any report, so it
never changes a period an earlier report decided.

The functions here are pure; the report store is written by projections/replacement.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.reporting_schedule import ReportingPeriod
from domain.timeutil import iso_z
from projections.inventory import Move
from schemas.events import ReportSubmitted


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


def report_row(report: ReportState, last: ReportingPeriod) -> dict[str, Any]:
    """One `reports` row of the projection snapshot; `last`: the reporting period holding
    its last day, whose due date it is judged by."""
    return {
        "distributor_id": report.distributor_id,
        "report_id": report.report_id,
        "period_start": report.period_start.isoformat(),
        "period_end": report.period_end.isoformat(),
        "submitted_at": iso_z(report.submitted_at),
        "due": iso_z(last.due),
        "status": "on_time" if last.is_on_time(report.submitted_at) else "late",
        "line_count": report.line_count,
        "replaces": report.replaces,
        "reversed_report": report.reversed_report,
        "lines_reversed": report.lines_reversed,
        "replaces_unknown": report.replaces_unknown,
        "replaced_by": report.replaced_by,
    }
