"""The projection snapshot: one JSON document for the API, the demo and the auditor's replay.

Each section is built from the stores that keep it up to date, so building one costs the
rows it returns: entity stores are read whole, histories (violations, unpriced lines) as
long as they are. "Now" is the as-of date asked for, or the recorded-time clock
(projections/clock.py): never a business date a distributor sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from domain.inventory import stock_value, weeks_of_supply
from domain.rebates import ProgramTerms
from domain.reporting_schedule import ScheduleAt
from domain.scorecard_score import DEFAULT_SCORE, ScoreConfig
from domain.timeutil import iso_z
from projections.aging_reads import aging_rows
from projections.agreement_reads import agreement_rows
from projections.claim_reads import debit_claim_rows
from projections.clock import recorded_now
from projections.commitment_reads import commitment_rows
from projections.costs import governing_version, money, unit_cost
from projections.distributor_reads import distributors, inventory_states
from projections.inventory import InventoryState
from projections.keyvalue import KeyValue
from projections.master_resellers import (
    figures_by_identity,
    master_growth,
    master_network_rows,
    master_top,
)
from projections.movements import moved_after
from projections.party_reads import alias_rows, master_rows, proposal_rows
from projections.periods import sell_in_vs_through
from projections.price_protection_claims import (
    PriceProtectionClaim,
    claim_rows,
    price_protection_claims,
)
from projections.pricing_reads import all_unpriced_rows, all_violation_rows
from projections.quality import QualityState
from projections.rebate_accruals import (
    EVERY_ACCRUAL,
    Accrual,
    AccrualQuery,
    ClosedPeriod,
    RebateSources,
    StatementPlan,
    accrual_page,
    accrual_row,
    statement_plans,
    wanted_accruals,
)
from projections.report_compliance import (
    PeriodCompliance,
    compliance_counts,
    compliance_periods,
    report_period,
    schedule_at,
)
from projections.resellers import first_sales
from projections.rotation_reads import rotation_rows
from projections.scorecard_reads import scorecard_rows
from projections.statuses import DETECTED_ONLY, Statuses
from projections.stores import ChannelStores
from projections.submitted_reports import ReportState, report_row
from projections.supply import sold_last_4_weeks

Snapshot = dict[str, list[dict[str, Any]]]


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso_z(moment)


def now_of(stores: ChannelStores, as_of: datetime | None = None) -> datetime | None:
    """ "Now" for a read: the as-of time asked for, else the latest recorded time applied."""
    return as_of or recorded_now(stores.clock)


def build_snapshot(
    stores: ChannelStores,
    as_of: datetime | None = None,
    statuses: Statuses = DETECTED_ONLY,
    score: ScoreConfig = DEFAULT_SCORE,
) -> Snapshot:
    """Every projection as rows sorted by key fields; "now" is `as_of` or the clock; the
    scorecards scored by `score` (the settings')."""
    now = now_of(stores, as_of)
    return {
        "inventory": inventory_rows(stores, now),
        "inventory_aging": aging_rows(stores, now),
        "sell_in_vs_through": sell_in_vs_through(
            stores.periods, stores.day_totals, distributors(stores), "week"
        ),
        "violations": all_violation_rows(stores, statuses),
        "unpriced": all_unpriced_rows(stores),
        "price_protection": claim_rows(protection_claims(stores, now)),
        "rebates": rebate_rows(stores),
        "resellers": reseller_rows(stores, now),
        "reports": report_rows(stores),
        "agreements": agreement_rows(stores, None if now is None else now.date(), None),
        "commitments": commitment_rows(stores, now, None),
        "rotations": rotation_rows(stores, None),
        "claims": debit_claim_rows(stores),
        "quality": quality_rows(stores, now),
        "dead_letters": dead_letter_rows(stores),
        "scorecards": scorecard_rows(stores, now, as_of, score),
        "masters": master_rows(stores),
        "party_aliases": alias_rows(stores),
        "match_proposals": proposal_rows(stores),
        "customer_masters": master_rows(stores, "end_customer"),
        "customer_aliases": alias_rows(stores, party="end_customer"),
    }


def inventory_rows(
    stores: ChannelStores, now: datetime | None, distributor_id: str | None = None
) -> list[dict[str, Any]]:
    """One row per (distributor, sku), in key order (one distributor's, if given)."""
    return [inventory_row(stores, state, now) for state in inventory_states(stores, distributor_id)]


def inventory_page(
    stores: ChannelStores,
    now: datetime | None,
    distributor_id: str | None,
    sku: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """(the page's rows, how many there are): rows are computed for the page alone."""
    states = [s for s in inventory_states(stores, distributor_id) if sku is None or s.sku == sku]
    page = states[offset : offset + limit]
    return [inventory_row(stores, state, now) for state in page], len(states)


def inventory_row(
    stores: ChannelStores, state: InventoryState, now: datetime | None
) -> dict[str, Any]:
    return {
        "distributor_id": state.distributor_id,
        "sku": state.sku,
        "sell_in": state.sell_in,
        "sell_through": state.sell_through,
        "expected_on_hand": state.expected_on_hand,
        "last_count_on_hand": state.count_on_hand,
        "last_counted_at": iso(state.counted_at),
        "last_variance": state.last_variance,
        "late_after_count": state.late_after_count,
        **stock_fields(stores, state, now),
    }


def stock_fields(
    stores: ChannelStores, state: InventoryState, now: datetime | None, sold_4w: int | None = None
) -> dict[str, Any]:
    """The state's weeks of supply, stock value and its currency at `now`; `sold_4w`: its
    sell-through of the last 4 weeks, when known."""
    cost, currency = unit_cost(stores, state.sku, state.distributor_id, now)
    if sold_4w is None:
        sold_4w = sold_last_4_weeks(state, now, stores.day_totals)
    return {
        "weeks_of_supply": money(weeks_of_supply(state.expected_on_hand, sold_4w)),
        "value": money(stock_value(state.expected_on_hand, cost, currency)),
        "currency": None if cost is None else currency,
    }


def rebate_rows(
    stores: ChannelStores, wanted: AccrualQuery = EVERY_ACCRUAL
) -> list[dict[str, Any]]:
    """The rows of the accruals `wanted` (every one by default)."""
    return [accrual_row(accrual) for accrual in rebate_accruals(stores, wanted)]


def rebate_page(
    stores: ChannelStores, wanted: AccrualQuery, window: tuple[int, int]
) -> tuple[list[dict[str, Any]], int]:
    """The (offset, limit) `window` of `rebate_rows(stores, wanted)` and how many rows it
    has, the figures of the window's rows only read."""
    found, total = accrual_page(*_accrual_sources(stores), wanted, window)
    return [accrual_row(accrual) for accrual in found], total


def rebate_accruals(stores: ChannelStores, wanted: AccrualQuery = EVERY_ACCRUAL) -> list[Accrual]:
    return wanted_accruals(*_accrual_sources(stores), wanted)


def _accrual_sources(
    stores: ChannelStores,
) -> tuple[Iterable[ProgramTerms], RebateSources, list[str], KeyValue[ClosedPeriod]]:
    """What every accrual is read from: the programs, their sources, the distributors and
    the closes."""
    return (
        stores.programs.values(),
        stores.rebate_sources(),
        distributors(stores),
        stores.closed_periods,
    )


def rebate_statements(stores: ChannelStores) -> list[StatementPlan]:
    return statement_plans(
        stores.programs.values(),
        stores.rebate_sources(),
        stores.recorded_moves,
        distributors(stores),
        stores.closed_periods,
    )


def protection_claims(
    stores: ChannelStores, now: datetime | None, withdrawn: bool = False
) -> list[PriceProtectionClaim]:
    """Claims of every cost drop in effect by `now` (recorded time): a distributor that
    holds stock but sends nothing after the drop is owed the same as one that does.
    With `withdrawn`, zero claims for distributors with no stock at the drop too (what
    the recorder needs to revise a claim that no longer stands)."""
    if now is None:
        return []
    histories = [history for history in stores.prices.values() if history.drops]
    if not histories:
        return []
    by_sku: dict[str, list[Any]] = {history.sku: [] for history in histories}
    for state in stores.inventory.values():
        if state.sku in by_sku:
            by_sku[state.sku].append(state)
    claims: dict[UUID, PriceProtectionClaim] = {}
    for history in histories:
        for drop in history.drops:
            if drop.effective_from > now:
                continue
            found = price_protection_claims(
                drop,
                by_sku[history.sku],
                history,
                lambda state, at: moved_after(stores, state.distributor_id, state.sku, at),
                partial(governing_version, stores, at=drop.effective_from),
                withdrawn,
            )
            for claim in found:  # a drop that governs the day wins over one that does not
                if claim.claim_id not in claims or claims[claim.claim_id].off_list:
                    claims[claim.claim_id] = claim
    return list(claims.values())


def product_rows(stores: ChannelStores) -> list[dict[str, Any]]:
    rows = [
        {
            "sku": product.sku,
            "base_unit": product.base_unit,
            "unit_conversions": dict(sorted(product.conversions.items())),
            "identifiers": dict(sorted(product.identifiers.items())),
        }
        for product in stores.products.values()
    ]
    return sorted(rows, key=lambda row: row["sku"])


def price_rows(stores: ChannelStores) -> list[dict[str, Any]]:
    """Every price in every SKU's history; `arrived_late` ones govern from their arrival."""
    rows = [
        {
            "sku": history.sku,
            "effective_from": iso(entry.effective_from),
            "declared_from": iso(entry.declared_from),
            "arrived_late": entry.arrived_late,
            "distributor_id": entry.distributor_id,
            "reseller_id": entry.reseller_id,
            "price_list": entry.price_list,
            "distributor_cost": money(entry.distributor_cost),
            "floor_price": money(entry.floor_price),
            "currency": entry.currency,
        }
        for history in stores.prices.values()
        for entry in history.entries
    ]
    return sorted(rows, key=lambda r: (r["sku"], r["effective_from"], r["distributor_id"] or ""))


def quality_rows(stores: ChannelStores, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per distributor: what became of its lines, and its report compliance as of `now`
    (default: the clock)."""
    quality = {state.distributor_id: state for state in stores.quality.values()}
    periods = compliance_by_distributor(stores, now)
    rows = []
    for distributor in sorted(set(quality) | set(periods)):
        state = quality.get(distributor) or QualityState(distributor)
        rows.append(
            {
                "distributor_id": distributor,
                "accepted": state.accepted,
                "duplicates": state.duplicates,
                "conflicts": state.conflicts,
                "rejected": state.rejected_total,
                "rejected_by_reason": dict(sorted(state.rejected.items())),
                **compliance_counts(periods.get(distributor, [])),
            }
        )
    return rows


def compliance_by_distributor(
    stores: ChannelStores, now: datetime | None = None
) -> dict[str, list[PeriodCompliance]]:
    """Every distributor with lines or reports: its reporting periods on its own calendar
    with their status, oldest first, as of `now` (default: the clock); each store read once."""
    now = now or now_of(stores)
    reports = _by_distributor(stores.reports.values())
    first = first_sales(stores.resellers.values())
    return {
        distributor: compliance_periods(
            reports.get(distributor, []),
            first.get(distributor),
            now,
            schedule_at(stores.agreements.get(distributor)),
        )
        for distributor in sorted(set(distributors(stores)) | set(reports))
    }


def report_rows(stores: ChannelStores, distributor_id: str | None = None) -> list[dict[str, Any]]:
    """Submitted reports, sorted by (distributor_id, submitted_at, report_id), each judged
    by the due date of its last day's period on its distributor's calendar."""
    return _judged_reports(stores, _ordered_reports(stores, distributor_id))


def report_page(
    stores: ChannelStores, distributor_id: str | None, window: tuple[int, int]
) -> tuple[list[dict[str, Any]], int]:
    """The (offset, limit) `window` of `report_rows(stores, distributor_id)` and how many
    rows it has: every report is put in order, the window's only judged and written."""
    offset, limit = window
    ordered = _ordered_reports(stores, distributor_id)
    return _judged_reports(stores, ordered[offset : offset + limit]), len(ordered)


def _ordered_reports(stores: ChannelStores, distributor_id: str | None) -> list[ReportState]:
    reports = (
        stores.reports.values()
        if distributor_id is None
        else (report for _, report in stores.reports.scan(f"{distributor_id}|"))
    )
    return sorted(reports, key=lambda r: (r.distributor_id, r.submitted_at, r.report_id))


def _judged_reports(stores: ChannelStores, ordered: list[ReportState]) -> list[dict[str, Any]]:
    calendars: dict[str, ScheduleAt] = {}
    rows = []
    for report in ordered:
        calendar = calendars.get(report.distributor_id)
        if calendar is None:
            calendar = schedule_at(stores.agreements.get(report.distributor_id))
            calendars[report.distributor_id] = calendar
        rows.append(report_row(report, report_period(report, calendar)))
    return rows


def reseller_rows(stores: ChannelStores, now: datetime | None = None) -> list[dict[str, Any]]:
    """The reseller network per distributor as of `now` (default: the clock), counting each
    master once however many of the distributor's aliases mean it (docs/IDENTITY.md)."""
    figures = figures_by_identity(stores, None, per_distributor=True)
    return master_network_rows(figures, now or now_of(stores), stores.reseller_days)


def top_resellers_of(
    stores: ChannelStores, distributor_id: str | None = None, n: int = 10, period: str | None = None
) -> list[dict[str, Any]]:
    """The n resellers with the most revenue per currency, of one distributor or channel-wide
    (a master buying through two distributors counts once); `period`: a year "2026", a
    quarter "2026-Q3", a month "2026-07", or None for all time."""
    return master_top(
        figures_by_identity(stores, distributor_id, distributor_id is not None), n, period
    )


def reseller_growth_of(
    stores: ChannelStores, distributor_id: str | None = None
) -> list[dict[str, Any]]:
    """Per month: resellers (masters) onboarded and first selling, with running totals."""
    return master_growth(figures_by_identity(stores, distributor_id, distributor_id is not None))


def _by_distributor(reports: Iterable[ReportState]) -> dict[str, list[ReportState]]:
    grouped: dict[str, list[ReportState]] = {}
    for report in reports:
        grouped.setdefault(report.distributor_id, []).append(report)
    return grouped


def dead_letter_rows(stores: ChannelStores) -> list[dict[str, Any]]:
    return reason_count_rows((state.reason, state.count) for state in stores.dead_letters.values())


def reason_count_rows(counts: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
    """The `dead_letters` section: counts summed by reason, in reason order, none zero."""
    totals: Counter[str] = Counter()
    for reason, n in counts:
        totals[reason] += n
    return [{"reason": reason, "count": n} for reason, n in sorted(totals.items()) if n]
