"""Report compliance on each distributor's agreement calendar, hand-computed: a monthly
schedule with a due day and grace, and a schedule amended mid-quarter from weekly to
monthly that leaves the weeks already ended as they were."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from projections.agreement_timeline import AgreementTimeline, amend, sign
from projections.channel import apply_event
from projections.distributor_reads import compliance_of
from projections.report_compliance import PeriodCompliance, compliance_periods, schedule_at
from projections.snapshot import build_snapshot
from projections.stores import ChannelStores
from projections.submitted_reports import ReportState
from schemas.events import ReportSubmitted
from tests.unit.agreement_events import SIGNED, amended, at, signed

MONTHLY = {"frequency": "monthly", "due_day": 10, "grace_days": 2}


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def report(n: int, first: date, last: date, submitted_at: datetime) -> ReportState:
    return ReportState("D1", f"R{n}", first, last, 1, submitted_at, str(UUID(int=n, version=4)))


def seen(periods: list[PeriodCompliance]) -> list[tuple[str, str, str, str | None]]:
    return [
        (p.period.frequency, p.period.first.isoformat(), p.status, p.report_id) for p in periods
    ]


def monthly_timeline() -> AgreementTimeline:
    return sign(None, signed(reporting=MONTHLY), SIGNED, None)


def test_monthly_due_on_the_tenth_with_two_days_grace_on_time_late_and_missing() -> None:
    """January's report on Feb 12 23:00 is on time (grace ends Feb 12 at midnight);
    February's on Mar 13 00:00 is late; March has none and is missing from Apr 13 00:00;
    April is not due yet and not listed."""
    reports = [
        report(1, date(2026, 1, 1), date(2026, 1, 31), utc(2026, 2, 12, 23)),
        report(2, date(2026, 2, 1), date(2026, 2, 28), utc(2026, 3, 13)),
    ]
    calendar = schedule_at(monthly_timeline())
    at_the_grace_end = compliance_periods(reports, None, utc(2026, 4, 12, 23), calendar)
    assert seen(at_the_grace_end) == [
        ("monthly", "2026-01-01", "on_time", "R1"),
        ("monthly", "2026-02-01", "late", "R2"),
    ]
    periods = compliance_periods(reports, None, utc(2026, 4, 13), calendar)
    assert seen(periods)[2:] == [("monthly", "2026-03-01", "missing", None)]
    row = periods[2].row()
    assert (row["period_end"], row["due"], row["late_from"]) == (
        "2026-03-31",
        "2026-04-10T23:59:59Z",
        "2026-04-13T00:00:00Z",
    )
    assert row["agreement_event_id"] == str(signed().event_id)


def test_a_schedule_amended_mid_quarter_leaves_the_ended_weeks_as_they_were() -> None:
    """Weekly (due Wednesday) until M1, monthly (due the 10th, two days' grace) from May 15,
    recorded May 20. The weeks of May 4 and May 11 had ended before M1 was recorded: they
    stay weekly, judged as they were. May and June are monthly."""
    weekly = [
        report(i, monday, monday + timedelta(days=6), utc(2026, 4, 14) + timedelta(weeks=i))
        for i, monday in enumerate(date(2026, 4, 6) + timedelta(weeks=w) for w in range(6))
    ]  # the weeks of Apr 6 to May 11, each sent the Tuesday after it: on time
    may = report(9, date(2026, 5, 1), date(2026, 5, 31), utc(2026, 6, 5))
    original = sign(None, signed(), SIGNED, None)
    before = compliance_periods(weekly, None, utc(2026, 5, 19), schedule_at(original))
    change = amended("M1", date(2026, 5, 15), reporting=MONTHLY)
    timeline = amend(original, change, at(date(2026, 5, 20)), None)
    after = compliance_periods([*weekly, may], None, utc(2026, 7, 13), schedule_at(timeline))
    assert after[: len(before)] == before
    assert [p.version_event_id for p in before] == [signed().event_id] * 6
    # May is decided by the first report touching it: R3, the week of Apr 27 to May 3
    assert seen(after)[len(before) :] == [
        ("monthly", "2026-05-01", "on_time", "R3"),
        ("monthly", "2026-06-01", "missing", None),
    ]
    assert {p.version_event_id for p in after[len(before) :]} == {change.event_id}
    # recorded before the week of May 11 ended, M1 makes that week monthly: not expected
    in_time = amend(original, change, at(date(2026, 5, 14)), None)
    known = compliance_periods([*weekly, may], None, utc(2026, 7, 13), schedule_at(in_time))
    assert [p.period.first for p in known if p.period.frequency == "weekly"][-1] == date(2026, 5, 4)


def submitted(n: int, first: date, last: date, when: datetime) -> ReportSubmitted:
    return ReportSubmitted(
        event_id=UUID(int=n, version=4), occurred_at=when, recorded_at=when, source="csv",
        distributor_id="D1", report_id=f"R{n}", period_start=first, period_end=last,
        line_count=1, submitted_at=when,
    )  # fmt: skip


def test_the_channel_judges_a_distributor_on_its_agreement_and_another_on_the_seed() -> None:
    stores = ChannelStores()
    for event in (
        signed(reporting=MONTHLY),
        submitted(1, date(2026, 1, 1), date(2026, 1, 31), utc(2026, 2, 3)),
        submitted(2, date(2026, 1, 5), date(2026, 1, 11), utc(2026, 1, 12)),
    ):
        apply_event(stores, event, None)
    other = submitted(3, date(2026, 1, 5), date(2026, 1, 11), utc(2026, 1, 12))
    apply_event(stores, other.model_copy(update={"distributor_id": "D2"}), None)
    now = utc(2026, 4, 13)
    # R2, a week's report sent first, covers January: the first report covering it decides
    assert seen(compliance_of(stores, "D1", now)) == [
        ("monthly", "2026-01-01", "on_time", "R2"),
        ("monthly", "2026-02-01", "missing", None),
        ("monthly", "2026-03-01", "missing", None),
    ]
    rows = {row["distributor_id"]: row for row in build_snapshot(stores, now)["quality"]}
    counts = ("reports_on_time", "periods_missing", "missing_by_frequency", "weeks_missing")
    assert [rows["D1"][k] for k in counts] == [1, 2, {"weekly": 0, "monthly": 2}, 0]
    # D2 has no agreement: weekly from Jan 5, the week of Apr 6 not due until Apr 16
    assert [rows["D2"][k] for k in counts] == [1, 12, {"weekly": 12, "monthly": 0}, 12]
    reports = {row["report_id"]: row for row in build_snapshot(stores, now)["reports"]}
    assert (reports["R1"]["due"], reports["R1"]["status"]) == ("2026-02-10T23:59:59Z", "on_time")
    assert reports["R2"]["due"] == "2026-02-10T23:59:59Z"  # Jan 11 is in January's period


@given(st.dates(date(2025, 12, 1), date(2026, 5, 1)))
def test_the_periods_since_a_day_are_the_whole_lists_periods_touching_it_or_later(
    since: date,
) -> None:
    """A scorecard asks only for the periods of its own days: the same periods, with the
    same status and report, as the whole list read from the first sale."""
    stores = ChannelStores()
    for event in (
        submitted(1, date(2026, 1, 5), date(2026, 1, 11), utc(2026, 1, 12)),
        submitted(2, date(2026, 2, 2), date(2026, 2, 8), utc(2026, 2, 20)),
    ):
        apply_event(stores, event, None)
    now = utc(2026, 4, 13)
    whole = compliance_of(stores, "D1", now)
    assert compliance_of(stores, "D1", now, since) == [
        found for found in whole if found.period.last >= since
    ]
