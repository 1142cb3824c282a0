"""A distributor's standing for its scorecard: weeks of supply, active resellers and each
rebate program's tier, at "now" or at the end of a period that has ended (docs/SCORECARD.md).

At "now" (the period holding it): the stock held now, the open program periods holding now.
At a period's end, computed from what the stores keep by day, so a replay gives the same:

- weeks of supply on its last day: the stock then (the stock now less what moved on or after
  the next period's first day, from the distributor's month and quarter totals: as
  `projections.price_protection_claims.expected_on_hand_at` reckons it, back from a later
  count) over the sell-through of the 28 days to that day (the day totals);
- active resellers: a sale in the 90 days to that day (the reseller days);
- each program's period holding that day: a closed one that ends with the card's period, its
  statement's tier; otherwise its accrual of the days up to that day (the day tallies when
  the program's period runs on past it).

Costs the distributor's SKUs, resellers and programs, each over the period's days (a
program's over its own period's), and one total per month then per quarter since the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from domain.calendar_periods import month_after, period_key
from domain.inventory import weeks_of_supply
from domain.rebate_programs import ProgramTerms, period_bounds, period_of
from domain.rebates import RebateResult, compute_rebate
from domain.timeutil import utc
from projections.distributor_reads import inventory_states
from projections.master_resellers import figures_by_identity, master_network_rows
from projections.rebate_accruals import (
    Accrual,
    Binding,
    binding,
    closed_key,
    covers,
    program_figures,
    statement_plan,
)
from projections.scorecard import RebateStanding, ScorecardInput, Standing
from projections.stores import ChannelStores
from projections.supply import sold_last_4_weeks
from projections.tallies import period_bucket_key


def period_first_day(period: str) -> date:
    """The first day of a scorecard period (a month "2026-07" or a quarter "2026-Q3")."""
    if "-Q" in period:
        return period_bounds(period)[0].date()
    return date.fromisoformat(f"{period}-01")


def period_end(period: str) -> datetime:
    """When a scorecard period (a month "2026-07" or a quarter "2026-Q3") ends: the first
    instant after it."""
    if "-Q" in period:
        return period_bounds(period)[1]
    first = month_after(date.fromisoformat(f"{period}-01"))
    return datetime.combine(first, time(), UTC)


def standing_now(
    stores: ChannelStores, distributor: str, now: datetime, programs: Iterable[Accrual]
) -> list[ScorecardInput]:
    """The standing at `now`: the stock at the end of its day (what is held less what is
    dated after it: an as-of read inside a period, or a line dated ahead), and the open
    `programs` (their accruals)."""
    at = utc(now)
    found = _supply_and_resellers(stores, distributor, at, _moved_after(stores, distributor, at))
    found.extend(
        _rebate(stores, distributor, accrual.program_id, utc(now), accrual.result)
        for accrual in programs
    )
    return found


def standing_at_end(stores: ChannelStores, distributor: str, period: str) -> list[ScorecardInput]:
    """The standing at the end of `period` (ended): on its last day, at its last instant."""
    end = period_end(period)
    last = end - timedelta(microseconds=1)
    later = _moved_since(stores, distributor, end.date())
    found = _supply_and_resellers(stores, distributor, last, later)
    for terms in stores.programs.values():
        if covers(terms, distributor):
            result = _tier_at(stores, terms, distributor, end)
            if result is not None:
                found.append(_rebate(stores, distributor, terms.program_id, last, result))
    return found


def _supply_and_resellers(
    stores: ChannelStores, distributor: str, at: datetime, later: int
) -> list[ScorecardInput]:
    """Weeks of supply at `at`: the stock held now less the net units `later` than `at`,
    over the sell-through of the 28 days to `at`'s day; and the resellers active in the 90
    days to it (a master of several aliases counts once)."""
    on_hand, sold = -later, 0
    for state in inventory_states(stores, distributor):
        on_hand += state.expected_on_hand
        sold += sold_last_4_weeks(state, at, stores.day_totals)
    network = master_network_rows(
        figures_by_identity(stores, distributor, per_distributor=True), at, stores.reseller_days
    )
    active = sum(row["active_90d"] for row in network)
    return [Standing(distributor, at, weeks_of_supply(on_hand, sold), active)]


def _rebate(
    stores: ChannelStores, distributor: str, program_id: str, at: datetime, result: RebateResult
) -> RebateStanding:
    terms = stores.programs.get(program_id)
    tiers = 0 if terms is None else len(terms.tiers)
    index = result.tier_index
    return RebateStanding(
        distributor, program_id, at, 0 if index is None else index + 1, tiers,
        result.next_threshold, result.gap_to_next,
    )  # fmt: skip


def _moved_after(stores: ChannelStores, distributor: str, at: datetime) -> int:
    """Net units (sell-in − sell-through) dated after `at`'s day: the rest of its month from
    the day totals of the SKUs that moved after it (none, mostly, for a read at "now"),
    then `_moved_since` the next month's first when one moved after the month."""
    day = at.date()
    ahead = [
        state
        for state in inventory_states(stores, distributor)
        if state.latest is not None and utc(state.latest).date() > day
    ]
    following = month_after(day.replace(day=1))
    start, end = (day + timedelta(days=1)).isoformat(), following.isoformat()
    net = 0
    for state in ahead:
        prefix = f"{distributor}|{state.sku}|"
        for key, moved in stores.day_totals.scan(prefix, start=prefix + start):
            if key[len(prefix) :] >= end:
                break
            net += moved.sell_in - moved.sell_through
    later = any(utc(state.latest).date() >= following for state in ahead if state.latest)
    return net + (_moved_since(stores, distributor, following) if later else 0)


def _moved_since(stores: ChannelStores, distributor: str, first: date) -> int:
    """Net units (sell-in − sell-through) dated on or after `first` (a month's 1st): the
    months to the end of its quarter one by one, then each later quarter's total."""
    net = 0
    month = first
    while month.month % 3 != 1:
        bucket = stores.periods.get(
            period_bucket_key(distributor, "month", period_key(month, "month"))
        )
        if bucket is not None:
            net += bucket.sell_in - bucket.sell_through
        month = month_after(month)
    prefix = period_bucket_key(distributor, "quarter", "")
    for _, bucket in stores.periods.scan(prefix, start=prefix + period_key(month, "quarter")):
        net += bucket.sell_in - bucket.sell_through
    return net


def _tier_at(
    stores: ChannelStores, terms: ProgramTerms, distributor: str, end: datetime
) -> RebateResult | None:
    """The program's result for its period holding the instant before `end`: the statement
    of a closed period ending at `end`, else the accrual of its days before `end` (None:
    no qualifying line, or no day the distributor's agreement binds it)."""
    last = end - timedelta(microseconds=1)
    program_period = period_of(last, terms.period)
    sources = stores.rebate_sources()
    close = stores.closed_periods.get(closed_key(terms.program_id, program_period))
    runs_on = period_bounds(program_period)[1] > end
    if close is not None and not runs_on:
        plan = statement_plan(terms, sources, stores.recorded_moves, distributor, close)
        return None if plan is None else plan.result
    bound = binding(terms, sources.agreements, distributor, program_period, None)
    if runs_on:
        bound = _cut(bound, last.date())
    if not bound.spans:
        return None
    figures = program_figures(terms, sources, distributor, program_period, bound=bound)
    if figures.tally.count == 0:
        return None
    return compute_rebate(terms, figures.inputs(terms.measure), closed=False)


def _cut(bound: Binding, last: date) -> Binding:
    """The days of `bound` up to `last` (read from the day tallies)."""
    spans = tuple(
        replace(span, last=min(span.last, last)) for span in bound.spans if span.first <= last
    )
    return Binding(spans, False)
