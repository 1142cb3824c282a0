"""Rebate programs bound by the agreement in effect (projections/rebate_accruals.py), by hand.

Program VPA: USD revenue, 10 % from the first dollar, quarterly, sell-through. D1 sells in
2026-Q3: 500.00 on July 10, 400.00 on August 20, 100.00 on September 10 (1,000.00 in all).
A line counts when the program lists D1 (or everyone) and, on the line's day, D1's
agreement in effect binds VPA, or no agreement governs that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.agreements import spans, version_label
from domain.rebates import ProgramTerms, TierTerm
from projections.agreement_inputs import apply_agreement
from projections.agreement_timeline import AgreementTimeline, amend, sign, terminate
from projections.inventory import Move
from projections.movements import record_moves
from projections.rebate_accruals import (
    Accrual,
    ClosedPeriod,
    accruals,
    closed_key,
    statement_plan,
)
from projections.rebate_simulation import simulate, simulated_row
from projections.stores import ChannelStores
from schemas.agreements import DistributorAgreementAmended, DistributorAgreementTerminated
from tests.unit.agreement_events import SIGNED, amended, signed, terminated
from tests.unit.rebate_cases import CountingDays

VPA = ProgramTerms(
    program_id="VPA",
    distributor_ids="all",
    basis="sell_through",
    measure="revenue",
    period="quarter",
    tiers=(TierTerm(Decimal(0), Decimal("0.10")),),
    tier_mode="retroactive",
    currency="USD",
)
Q3_FIRST, Q3_LAST = date(2026, 7, 1), date(2026, 9, 30)
CLOSE = datetime(2026, 10, 15, tzinfo=UTC)


def sale(event: str, day: str, quantity: int, price: str, recorded: str | None = None) -> Move:
    at = f"2026-{day}T12:00:00+00:00"
    return Move(at, 0, quantity, price, "USD", event, recorded or at, None, event, "R1")


def channel(stores: ChannelStores | None = None) -> ChannelStores:
    stores = stores or ChannelStores()
    moves = [
        sale("e1", "07-10", 10, "50.00"),
        sale("e2", "08-20", 4, "100.00"),
        sale("e3", "09-10", 2, "50.00"),
    ]
    record_moves(stores, "D1", [("SKU-1", datetime.fromisoformat(m.at), m) for m in moves], None)
    return stores


def agreement(
    *changes: DistributorAgreementAmended | DistributorAgreementTerminated,
    recorded: datetime | None = None,
    **terms: Any,
) -> AgreementTimeline:
    """D1's AG-1 for 2026 binding `program_ids` (VPA unless given), then `changes`."""
    timeline = sign(None, signed(**{"program_ids": ["VPA"], **terms}), SIGNED, None)
    for change in changes:
        when = recorded or change.business_time
        if isinstance(change, DistributorAgreementAmended):
            timeline = amend(timeline, change, when, None)
        else:
            timeline = terminate(timeline, change, when, None)
    return timeline


def rebates(stores: ChannelStores, program: ProgramTerms = VPA) -> list[tuple[Any, ...]]:
    found = accruals([program], stores.rebate_sources(), ["D1"], stores.closed_periods)
    return [(a.inputs.revenue, a.result.rebate, a.bound_by) for a in found]


def test_without_an_agreement_the_program_s_own_list_decides():
    assert rebates(channel()) == [(Decimal("1000.00"), Decimal("100.00"), ())]
    listed_elsewhere = ProgramTerms(**{**_fields(VPA), "distributor_ids": ("D2",)})
    assert rebates(channel(), listed_elsewhere) == []


def test_an_agreement_binding_the_program_counts_every_line_of_its_days():
    stores = channel()
    stores.agreements.put("D1", agreement())
    assert rebates(stores) == [(Decimal("1000.00"), Decimal("100.00"), ("AG-1",))]


def test_an_agreement_not_binding_the_program_counts_nothing():
    stores = channel()
    stores.agreements.put("D1", agreement(program_ids=["VPA-OTHER"]))
    assert rebates(stores) == []


def test_an_agreement_listing_no_programs_leaves_the_programs_lists_to_decide():
    stores = channel()
    stores.agreements.put("D1", agreement(program_ids=[]))
    assert rebates(stores) == [(Decimal("1000.00"), Decimal("100.00"), ("AG-1",))]


def test_the_program_must_list_the_distributor_too():
    stores = channel()
    stores.agreements.put("D1", agreement())
    listed_elsewhere = ProgramTerms(**{**_fields(VPA), "distributor_ids": ("D2",)})
    assert rebates(stores, listed_elsewhere) == []


def test_an_amendment_mid_quarter_binds_from_its_effective_date():
    stores = channel()
    # AG-1 binds another program; M1 binds VPA from August 15: the lines of 08-20 and 09-10
    bind = amended("M1", date(2026, 8, 15), program_ids=["VPA"])
    stores.agreements.put("D1", agreement(bind, program_ids=["VPA-OTHER"]))
    assert rebates(stores) == [(Decimal("500.00"), Decimal("50.00"), ("AG-1/M1",))]
    # the reverse: AG-1 binds VPA, M1 drops it from August 15: July's 500.00 only
    drop = amended("M1", date(2026, 8, 15), program_ids=["VPA-OTHER"])
    stores.agreements.put("D1", agreement(drop))
    assert rebates(stores) == [(Decimal("500.00"), Decimal("50.00"), ("AG-1",))]


def test_a_terminated_agreement_leaves_the_days_after_it_to_the_program_s_list():
    stores = channel()
    # AG-1 does not bind VPA and ends on August 31: September's 100.00 is no agreement's
    stores.agreements.put("D1", agreement(terminated(date(2026, 8, 31)), program_ids=["VPA-OTHER"]))
    assert rebates(stores) == [(Decimal("100.00"), Decimal("10.00"), ())]


def test_a_line_before_the_agreement_s_effective_date():
    stores = channel()
    # AG-1 starts on August 1 and binds another program: July's line is no agreement's
    late_start = agreement(program_ids=["VPA-OTHER"], term_start=date(2026, 8, 1))
    stores.agreements.put("D1", late_start)
    assert rebates(stores) == [(Decimal("500.00"), Decimal("50.00"), ())]


def test_an_amendment_recorded_after_the_close_never_rewrites_the_period():
    stores = channel()
    bind = amended("M1", date(2026, 8, 15), program_ids=["VPA"])
    recorded = datetime(2026, 10, 20, tzinfo=UTC)
    stores.agreements.put("D1", agreement(bind, recorded=recorded, program_ids=["VPA-OTHER"]))
    close = ClosedPeriod("VPA", "2026-Q3", CLOSE, "finance", CLOSE)
    # open, everything known: M1 binds VPA from August 15
    assert rebates(stores) == [(Decimal("500.00"), Decimal("50.00"), ("AG-1/M1",))]
    # closed on October 15, before M1 was recorded: AG-1 bound nothing, no statement
    plan = statement_plan(VPA, stores.rebate_sources(), stores.recorded_moves, "D1", close)
    assert plan is None
    stores.closed_periods.put(closed_key("VPA", "2026-Q3"), close)
    assert rebates(stores) == []


def test_a_late_line_counts_as_an_adjustment_only_on_a_day_bound_at_the_close():
    stores = channel()
    bind = amended("M1", date(2026, 8, 15), program_ids=["VPA"])
    stores.agreements.put("D1", agreement(bind, program_ids=["VPA-OTHER"]))
    late = [
        sale("e4", "07-20", 1, "70.00", "2026-10-18T09:00:00+00:00"),  # AG-1's day: no
        sale("e5", "09-20", 1, "30.00", "2026-10-19T09:00:00+00:00"),  # M1's day: yes
    ]
    record_moves(stores, "D1", [("SKU-1", datetime.fromisoformat(m.at), m) for m in late], None)
    close = ClosedPeriod("VPA", "2026-Q3", CLOSE, "finance", CLOSE)
    plan = statement_plan(VPA, stores.rebate_sources(), stores.recorded_moves, "D1", close)
    assert plan is not None and plan.inputs.revenue == Decimal("500.00")
    assert [(a.event_id, a.inputs.revenue, a.result.rebate) for a in plan.adjustments] == [
        ("e5", Decimal("530.00"), Decimal("53.00"))
    ]


def test_a_period_bound_in_part_reads_the_days_bound_only():
    stores = channel(ChannelStores(rebate_days=CountingDays()))
    days = stores.rebate_days
    assert isinstance(days, CountingDays)
    stores.agreements.put("D1", agreement())
    rebates(stores)
    assert days.read == 0  # bound the whole quarter: the quarter bucket, as before
    bind = amended("M1", date(2026, 8, 15), program_ids=["VPA"])
    stores.agreements.put("D1", agreement(bind, program_ids=["VPA-OTHER"]))
    rebates(stores)
    assert days.read == 2  # 08-20 and 09-10 (a scan stops at the first day past the span)


def test_the_simulation_follows_the_agreement():
    stores = channel()
    stores.agreements.put("D1", agreement(program_ids=["VPA-OTHER"]))
    richer = ProgramTerms(**{**_fields(VPA), "tiers": (TierTerm(Decimal(0), Decimal("0.20")),)})
    found = simulate(VPA, richer, stores.rebate_sources(), ["D1"], stores.closed_periods)
    assert found == []
    stores.agreements.put("D1", agreement())
    (row,) = simulate(VPA, richer, stores.rebate_sources(), ["D1"], stores.closed_periods)
    assert (row.today_rebate, row.proposed_rebate) == (Decimal("100.00"), Decimal("200.00"))
    assert isinstance(row.proposed, Accrual) and row.proposed.bound_by == ("AG-1",)
    assert simulated_row(row)["proposed"]["bound_by"] == ["AG-1"]  # `simulate --json`


def test_spans_cut_where_the_version_changes():
    timeline = agreement(
        amended("M1", date(2026, 8, 15), program_ids=["VPA-OTHER"]), terminated(date(2026, 9, 20))
    )
    found = [
        (s.first, s.last, s.version and version_label(s.version))
        for s in spans(timeline.versions, timeline.ends, Q3_FIRST, Q3_LAST)
    ]
    assert found == [
        (Q3_FIRST, date(2026, 8, 14), "AG-1"),
        (date(2026, 8, 15), date(2026, 9, 20), "AG-1/M1"),
        (date(2026, 9, 21), Q3_LAST, None),
    ]


def _fields(terms: ProgramTerms) -> dict[str, Any]:
    return {name: getattr(terms, name) for name in terms.__dataclass_fields__}


AGREEMENT_EVENTS = (
    signed(program_ids=["VPA-OTHER"]),
    amended("M1", date(2026, 8, 15), program_ids=["VPA"]),
    terminated(date(2026, 9, 5)),
)
LINES = (
    sale("e1", "07-10", 10, "50.00"),
    sale("e2", "08-20", 4, "100.00"),
    sale("e3", "09-10", 2, "50.00"),
)


@settings(max_examples=40)
@given(st.permutations(range(len(AGREEMENT_EVENTS) + len(LINES))))
def test_any_interleaving_of_lines_and_agreement_events_accrues_the_same(order: list[int]):
    """Live and replay interleave the agreements topic and the sales freely; only the order
    within the distributor's agreements is kept. Hand-computed: only 08-20 is bound (by
    M1, from August 15 to the termination on September 5; 09-10 is no agreement's and
    the program lists everyone): 400.00 + 100.00."""
    agreement_order = iter(AGREEMENT_EVENTS)
    stores = ChannelStores()
    for index in order:
        if index < len(AGREEMENT_EVENTS):
            apply_agreement(stores, next(agreement_order), None)
        else:
            move = LINES[index - len(AGREEMENT_EVENTS)]
            record_moves(stores, "D1", [("SKU-1", datetime.fromisoformat(move.at), move)], None)
    assert rebates(stores) == [(Decimal("500.00"), Decimal("50.00"), ("AG-1/M1",))]
