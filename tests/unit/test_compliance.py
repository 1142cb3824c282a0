"""Report compliance on the seed calendar (a distributor without an agreement): reporting
weeks, due dates, on time / late / missing per distributor."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain.reporting_schedule import SEED_SCHEDULE, ReportingPeriod, period_of, periods_covered
from projections.channel import apply_event
from projections.distributor_reads import compliance_of
from projections.positions import Position
from projections.report_compliance import PeriodCompliance, compliance_periods, schedule_at
from projections.snapshot import build_snapshot
from projections.stores import ChannelStores
from projections.submitted_reports import ReportState, report_of
from schemas.events import ReportSubmitted, SaleReported
from tests.unit.catalog import catalog_stores

MONDAY = date(2026, 7, 6)
SUNDAY = date(2026, 7, 12)


def utc(*fields: int) -> datetime:
    """datetime(year, month, day[, hour, minute, second, microsecond]) in UTC."""
    year, month, day, hour, minute, second, micro = (*fields, 0, 0, 0, 0)[:7]
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def report(
    n: int,
    submitted_at: datetime,
    start: date = MONDAY,
    end: date = SUNDAY,
    distributor: str = "D01",
    report_id: str | None = None,
    replaces: str | None = None,
) -> ReportSubmitted:
    return ReportSubmitted(
        event_id=UUID(int=n, version=4),
        occurred_at=submitted_at,
        recorded_at=submitted_at,
        source="csv",
        distributor_id=distributor,
        report_id=report_id or f"R{n}",
        period_start=start,
        period_end=end,
        line_count=1,
        submitted_at=submitted_at,
        replaces_report_id=replaces,
    )


def sale(n: int, sold_at: datetime, distributor: str = "D01") -> SaleReported:
    return SaleReported(
        event_id=UUID(int=1000 + n, version=4),
        occurred_at=sold_at,
        source="api",
        distributor_id=distributor,
        transaction_id=f"T{n}",
        reseller_id="R1",
        sku="SKU-1",
        quantity=1,
        unit_price=Decimal("10.00"),
        currency="USD",
        sold_at=sold_at,
    )


def statuses(weeks: list[PeriodCompliance]) -> list[tuple[str, str]]:
    return [(week.period.first.isoformat(), week.status) for week in weeks]


def week(day: date) -> ReportingPeriod:
    return period_of(SEED_SCHEDULE, day)


def compliance_weeks(
    reports: list[ReportState], first_sale: date | None, now: datetime | None
) -> list[PeriodCompliance]:
    return compliance_periods(reports, first_sale, now, schedule_at(None))


# --- the calendar --------------------------------------------------------------------------


def test_weeks_run_monday_to_sunday_utc() -> None:
    assert (week(SUNDAY).first, week(SUNDAY).last) == (MONDAY, SUNDAY)
    assert week(MONDAY).first == MONDAY
    assert week(date(2026, 7, 13)).first == date(2026, 7, 13)


def test_due_on_the_following_wednesday_at_23_59_59_utc() -> None:
    assert week(MONDAY).due == utc(2026, 7, 15, 23, 59, 59)
    assert week(SUNDAY).due == week(MONDAY).due


def test_wednesday_23_59_59_is_on_time_thursday_midnight_is_late() -> None:
    assert week(MONDAY).is_on_time(utc(2026, 7, 15, 23, 59, 59))
    assert week(MONDAY).is_on_time(utc(2026, 7, 15, 23, 59, 59, 999_999))
    assert not week(MONDAY).is_on_time(utc(2026, 7, 16))
    assert week(MONDAY).is_on_time(utc(2026, 7, 10))  # before the week even ended


def test_weeks_covered_are_those_the_period_touches() -> None:
    assert periods_covered("weekly", MONDAY, SUNDAY) == [(MONDAY, SUNDAY)]
    assert [
        first for first, _ in periods_covered("weekly", date(2026, 7, 1), date(2026, 7, 31))
    ] == [
        date(2026, 6, 29),
        date(2026, 7, 6),
        date(2026, 7, 13),
        date(2026, 7, 20),
        date(2026, 7, 27),
    ]
    assert len(periods_covered("weekly", date(1900, 1, 1), SUNDAY)) == 53  # nonsense: capped


# --- per distributor -----------------------------------------------------------------------


def test_on_time_late_and_missing_weeks() -> None:
    reports = [
        report_of(report(1, utc(2026, 7, 15, 23, 59, 59))),  # week of 07-06 on time
        report_of(report(2, utc(2026, 7, 30), date(2026, 7, 20), date(2026, 7, 26))),  # 07-20 late
    ]
    now = utc(2026, 8, 6)  # the week of 07-27 became due at 08-06 00:00
    weeks = compliance_weeks(reports, None, now)
    assert statuses(weeks) == [
        ("2026-07-06", "on_time"),
        ("2026-07-13", "missing"),
        ("2026-07-20", "late"),
        ("2026-07-27", "missing"),
    ]
    assert weeks[0].row() == {
        "frequency": "weekly",
        "period_start": "2026-07-06",
        "period_end": "2026-07-12",
        "week": "2026-07-06",
        "due": "2026-07-15T23:59:59Z",
        "late_from": "2026-07-16T00:00:00Z",
        "status": "on_time",
        "report_id": "R1",
        "submitted_at": "2026-07-15T23:59:59Z",
        "agreement_event_id": None,
    }
    assert weeks[1].report_id is None and weeks[1].submitted_at is None
    # a second earlier: the week of 07-27 is not due yet
    assert len(compliance_weeks(reports, None, now - timedelta(microseconds=1))) == 3


def test_weeks_expected_start_with_the_first_sale_when_it_comes_before_any_report() -> None:
    reports = [report_of(report(1, utc(2026, 7, 14)))]
    weeks = compliance_weeks(reports, date(2026, 6, 24), utc(2026, 7, 16))
    assert statuses(weeks) == [
        ("2026-06-22", "missing"),
        ("2026-06-29", "missing"),
        ("2026-07-06", "on_time"),
    ]
    assert statuses(compliance_weeks([], date(2026, 7, 7), utc(2026, 7, 16))) == [
        ("2026-07-06", "missing")
    ]
    assert compliance_weeks([], None, utc(2026, 7, 16)) == []  # nothing sold, nothing owed
    assert compliance_weeks([], date(2026, 7, 7), None) == []  # no "now": nothing overdue


def test_a_week_is_decided_by_the_first_report_covering_it() -> None:
    on_time = report_of(report(1, utc(2026, 7, 14)))
    correction = report_of(report(2, utc(2026, 7, 20), report_id="R2"))
    late = report_of(report(3, utc(2026, 7, 17), report_id="R3"))
    # order of the input does not matter: submitted_at does
    weeks = compliance_weeks([correction, on_time], None, utc(2026, 7, 23))
    assert [(w.status, w.report_id) for w in weeks] == [("on_time", "R1"), ("missing", None)]
    weeks = compliance_weeks([correction, late], None, utc(2026, 7, 16))
    assert [(w.status, w.report_id) for w in weeks] == [("late", "R3")]


def test_a_nonsense_period_counts_for_its_latest_53_weeks_only() -> None:
    endless = report_of(report(1, utc(2026, 7, 14), date(1900, 1, 1), SUNDAY))
    weeks = compliance_weeks([endless], None, utc(2026, 7, 16))
    assert len(weeks) == 53 and {w.status for w in weeks} == {"late", "on_time"}


def test_a_multi_week_report_is_judged_per_week() -> None:
    two_weeks = report_of(report(1, utc(2026, 7, 21), MONDAY, date(2026, 7, 19)))
    weeks = compliance_weeks([two_weeks], None, utc(2026, 7, 23))
    assert statuses(weeks) == [("2026-07-06", "late"), ("2026-07-13", "on_time")]


# --- through the channel projection and the snapshot ---------------------------------------


def quality_row(stores: ChannelStores, as_of: datetime, distributor: str = "D01") -> Any:
    rows = build_snapshot(stores, as_of)["quality"]
    return next(row for row in rows if row["distributor_id"] == distributor)


def compliance(row: dict[str, Any]) -> tuple[int, int, int]:
    return row["reports_on_time"], row["reports_late"], row["weeks_missing"]


def test_quality_rows_count_weeks_on_time_late_and_missing() -> None:
    stores = catalog_stores("SKU-1")
    events = [
        sale(1, utc(2026, 6, 30, 10)),  # first sale in the week of 06-29: no report for it
        report(1, utc(2026, 7, 15, 23, 59, 59)),
        report(2, utc(2026, 7, 23), date(2026, 7, 13), date(2026, 7, 19)),
        report(3, utc(2026, 7, 16), distributor="D02"),  # a distributor with reports only
    ]
    for event in events:
        apply_event(stores, event, None)
    assert compliance(quality_row(stores, utc(2026, 7, 29))) == (1, 1, 1)
    assert compliance(quality_row(stores, utc(2026, 7, 30))) == (1, 1, 2)
    d02 = quality_row(stores, utc(2026, 7, 30), "D02")
    assert (d02["accepted"], *compliance(d02)) == (0, 0, 1, 2)
    assert [w.status for w in compliance_of(stores, "D01", utc(2026, 7, 30))] == [
        "missing",
        "on_time",
        "late",
        "missing",
    ]
    # without as_of, "now" is the latest time recorded; these events carry no recorded_at,
    # so each counts as recorded at its business date: the last report's, 07-23, by which
    # the week of 06-29 was overdue (a sale dated later would not move it: see test_clock)
    snapshot_rows = build_snapshot(stores)["quality"]
    assert compliance(snapshot_rows[0]) == (1, 1, 1)


def test_report_rows_in_the_snapshot() -> None:
    stores = ChannelStores()
    apply_event(stores, report(1, utc(2026, 7, 16, 0, 0, 1)), None)
    (row,) = build_snapshot(stores)["reports"]
    assert row == {
        "distributor_id": "D01",
        "report_id": "R1",
        "period_start": "2026-07-06",
        "period_end": "2026-07-12",
        "submitted_at": "2026-07-16T00:00:01Z",
        "due": "2026-07-15T23:59:59Z",
        "status": "late",
        "line_count": 1,
        "replaces": None,
        "reversed_report": None,
        "lines_reversed": 0,
        "replaces_unknown": False,
        "replaced_by": None,
    }


@pytest.mark.parametrize("position", [None, Position("channelflow.sales:0", 4)])
def test_a_report_resent_or_redelivered_is_recorded_once(position: Position | None) -> None:
    stores = ChannelStores()
    first = report(1, utc(2026, 7, 14))
    assert apply_event(stores, first, position).verdict == "accepted"
    again = Position("channelflow.sales:0", 9) if position else None
    assert apply_event(stores, first, again).verdict == "redelivery"
    resent = report(7, utc(2026, 7, 15), report_id="R1")  # new envelope, same report
    assert apply_event(stores, resent, None).verdict == "duplicate"
    changed = resent.model_copy(update={"event_id": UUID(int=8, version=4), "line_count": 40})
    outcome = apply_event(stores, changed, None)
    assert (outcome.verdict, outcome.dead_letter_reason) == ("conflict", "conflicting_duplicate")
    assert "report_id" in (outcome.detail or "")
    (row,) = build_snapshot(stores)["reports"]
    assert (row["submitted_at"], row["line_count"]) == ("2026-07-14T00:00:00Z", 1)
    assert build_snapshot(stores)["dead_letters"] == [
        {"reason": "conflicting_duplicate", "count": 1}
    ]


def test_report_state_json_round_trip() -> None:
    recorded = ReportState(
        "D01", "R2", MONDAY, SUNDAY, 3, utc(2026, 7, 14), "e", "R1", "R1", False, 2, "R3"
    )
    assert ReportState.from_json(recorded.to_json()) == recorded
