"""A page of rebate accruals (`/api/rebates`): the rows and total the whole list gives,
filtered and sliced, with the figures of the page's rows only read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import projections.rebate_accruals as rebate_accruals
from domain.rebates import ProgramTerms
from projections.movements import record_moves
from projections.quality import QualityState
from projections.rebate_accruals import (
    EVERY_ACCRUAL,
    AccrualQuery,
    ClosedPeriod,
    closed_key,
)
from projections.snapshot import rebate_page, rebate_rows
from projections.stores import ChannelStores
from tests.unit.agreement_events import amended
from tests.unit.test_agreement_programs import VPA, _fields, agreement, sale

#: a second program, for D1 and D3 only, in euros (every USD line is another currency's)
EU = ProgramTerms(
    **{**_fields(VPA), "program_id": "EU", "distributor_ids": ("D1", "D3"), "currency": "EUR"}
)
DAYS = ("02-10", "05-12", "08-20", "11-03")  # one day in each quarter of 2026
PERIODS = ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")
DISTRIBUTORS = ("D1", "D2", "D3")


def channel(lines: list[tuple[int, int]], closed: list[tuple[str, int]]) -> ChannelStores:
    """`lines`: (distributor, quarter) of a sale each; `closed`: (program, quarter). D1's
    agreement binds VPA from August 15 only: its Q3 is read by the days bound."""
    stores = ChannelStores()
    for program in (VPA, EU):
        stores.programs.put(program.program_id, program)
    for distributor in DISTRIBUTORS:
        stores.quality.put(distributor, QualityState(distributor))  # a distributor with lines
    for number, (d, q) in enumerate(lines):
        move = sale(f"e{number}", DAYS[q], 1 + number % 5, "10.00")
        at = datetime.fromisoformat(move.at)
        record_moves(stores, DISTRIBUTORS[d], [("SKU-1", at, move)], None)
    for program_id, q in closed:
        close = ClosedPeriod(program_id, PERIODS[q], datetime(2027, 1, 20, tzinfo=UTC), "auto")
        stores.closed_periods.put(closed_key(program_id, PERIODS[q]), close)
    bind = amended("M1", date(2026, 8, 15), program_ids=["VPA", "EU"])
    stores.agreements.put("D1", agreement(bind, program_ids=["OTHER"]))
    return stores


def matches(row: dict[str, Any], wanted: AccrualQuery) -> bool:
    fields = ("program_id", "distributor_id", "period", "status")
    return all(getattr(wanted, f) in (None, row[f]) for f in fields)


queries = st.builds(
    AccrualQuery,
    st.sampled_from([None, "VPA", "EU", "NONE"]),
    st.sampled_from([None, *DISTRIBUTORS]),
    st.sampled_from([None, *PERIODS]),
    st.sampled_from([None, "open", "closed"]),
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3)), max_size=12),
    st.lists(st.tuples(st.sampled_from(["VPA", "EU"]), st.integers(0, 3)), max_size=4),
    queries,
    st.integers(0, 6),
    st.integers(1, 4),
)
def test_a_page_is_the_whole_list_filtered_and_sliced(lines, closed, wanted, offset, limit):
    stores = channel(lines, closed)
    every = [row for row in rebate_rows(stores) if matches(row, wanted)]
    if any(d != 0 for d, _ in lines):  # D1's first half is bound to no program
        assert rebate_rows(stores)  # the channel has accruals to page
    assert rebate_rows(stores, wanted) == every
    assert rebate_page(stores, wanted, (offset, limit)) == (
        every[offset : offset + limit],
        len(every),
    )


def test_a_page_reads_the_figures_of_its_rows_only(monkeypatch: pytest.MonkeyPatch):
    stores = channel([(d, q) for d in range(3) for q in range(4)], [])
    read: list[str] = []
    figures = rebate_accruals.program_figures

    def counted(terms: ProgramTerms, sources: Any, distributor_id: str, period: str, **kw: Any):
        read.append(f"{terms.program_id}|{distributor_id}|{period}")
        return figures(terms, sources, distributor_id, period, **kw)

    monkeypatch.setattr(rebate_accruals, "program_figures", counted)
    rows, total = rebate_page(stores, EVERY_ACCRUAL, (3, 2))
    page_read = set(read)
    # D1's Q1 and Q2 are bound to no program, its Q3 in part: whether that one has lines
    # is read from its figures; every other key's from its quarter buckets. VPA: D1's Q3
    # and Q4, D2's and D3's four; EU: D1's two, D3's four
    assert total == len(rebate_rows(stores)) == 16
    page_keys = [f"{row['program_id']}|{row['distributor_id']}|{row['period']}" for row in rows]
    assert len(rows) == 2
    assert page_read - set(page_keys) <= {"EU|D1|2026-Q3", "VPA|D1|2026-Q3"}
