"""A page of submitted reports (`/api/reports`): the rows and total of the whole list,
sliced, with the page's reports only judged and written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import projections.snapshot as snapshot
from projections.snapshot import report_page, report_rows
from projections.stores import ChannelStores
from projections.submitted_reports import ReportState

MONDAY = date(2026, 6, 1)


def channel(reports: list[tuple[int, int, int]]) -> ChannelStores:
    """`reports`: (distributor, week, hours after its Sunday) of each report."""
    stores = ChannelStores()
    for number, (d, week, late) in enumerate(reports):
        distributor, first = f"D{d}", MONDAY + timedelta(weeks=week)
        submitted = datetime.combine(first + timedelta(days=7), datetime.min.time(), UTC)
        report = ReportState(
            distributor, f"R{number:03d}", first, first + timedelta(days=6), 1,
            submitted + timedelta(hours=late), f"e{number}",
        )  # fmt: skip
        stores.reports.put(f"{distributor}|{report.report_id}", report)
    return stores


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 3), st.integers(0, 8), st.integers(0, 200)), max_size=15),
    st.sampled_from([None, "D1", "D2"]),
    st.integers(0, 6),
    st.integers(1, 4),
)
def test_a_page_is_the_whole_list_sliced(reports, distributor, offset, limit):
    stores = channel(reports)
    every = report_rows(stores, distributor)
    assert report_page(stores, distributor, (offset, limit)) == (
        every[offset : offset + limit],
        len(every),
    )


def test_a_page_judges_its_own_reports_only(monkeypatch: pytest.MonkeyPatch):
    stores = channel([(1 + n % 3, n % 9, n) for n in range(30)])
    judged: list[str] = []
    period = snapshot.report_period

    def counted(report: ReportState, calendar: snapshot.ScheduleAt) -> object:
        judged.append(report.report_id)
        return period(report, calendar)

    monkeypatch.setattr(snapshot, "report_period", counted)
    rows, total = report_page(stores, None, (10, 3))
    assert total == 30
    assert judged == [row["report_id"] for row in rows] and len(rows) == 3
