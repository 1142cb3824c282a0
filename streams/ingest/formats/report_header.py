"""The `ReportSubmitted` the gateway makes for a CSV or JSON report, once its lines are
counted: its period from the sale days seen."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.business_time import date_problem
from domain.identity import derived_id
from schemas.events import ReportSubmitted, SaleReported
from streams.ingest.formats.upload import ReportClosed, Upload


class SaleDays:
    """The first and last sale date of a report's lines, those with plausible dates only
    (a line dated 2062 is rejected: the report's period is not made of it)."""

    def __init__(self, upload: Upload) -> None:
        self._upload = upload
        self.first: date | None = None
        self.last: date | None = None

    def add(self, sale: SaleReported) -> None:
        day = sale.sold_at.date()
        if self.first is not None and self.last is not None and self.first <= day <= self.last:
            return  # inside the period already: plausible or not, it changes nothing
        if date_problem(sale, self._upload.received_at, self._upload.rules) is not None:
            return
        self.include(day, day)

    def include(self, first: date | None, last: date | None) -> None:
        """Add the days from `first` to `last` (another part's of the same report)."""
        if first is not None:
            self.first = first if self.first is None else min(self.first, first)
        if last is not None:
            self.last = last if self.last is None else max(self.last, last)


def report_closed(
    upload: Upload,
    index: int,
    distributor: str | None,
    report_id: str,
    lines: int,
    days: SaleDays,
) -> ReportClosed:
    """The header the gateway makes for a CSV or JSON report, once its lines are counted.

    Its period is the one given, else the first and last sale date of the report. A
    report with neither (no line, or none with a plausible sale date) is rejected as a
    whole `missing_period`: the day of receipt would credit a period it does not cover.
    """
    start, end = upload.period or (days.first, days.last)
    info: dict[str, Any] = {
        "report_id": report_id,
        "replaces": upload.replaces,
        "distributor_id": distributor,
        "period_start": None if start is None else start.isoformat(),
        "period_end": None if end is None else end.isoformat(),
        "line_count": lines,
    }
    if distributor is None:
        detail = "no distributor: give distributor_id for the report"
        return ReportClosed(index, None, report_id, None, info, ("missing_distributor", detail))
    if start is None or end is None:
        detail = (
            f"report {report_id} rejected as a whole: no line has a sale date to take its "
            "period from; give period_start and period_end"
        )
        return ReportClosed(index, distributor, report_id, None, info, ("missing_period", detail))
    header = ReportSubmitted(
        event_id=derived_id("report", upload.source, distributor, report_id, upload.digest),
        occurred_at=upload.received_at,
        recorded_at=upload.received_at,
        source=upload.source,
        source_ref=upload.name[:256],
        distributor_id=distributor,
        report_id=report_id,
        period_start=start,
        period_end=end,
        line_count=lines,
        submitted_at=upload.received_at,
        replaces_report_id=upload.replaces,
    )
    return ReportClosed(index, distributor, report_id, header, info)
