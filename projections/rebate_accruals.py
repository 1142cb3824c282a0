"""Rebate programs over the movement history: live accruals, statements and adjustments.

Everything is derived from the day history (`DayDetail` moves, each with its price,
currency, event id and ingest time), the program terms and the period closes, so a
program counts every qualifying event of its period, also those that arrived before it
was defined, and a replay derives exactly the same figures.

A closed statement holds the qualifying events recorded up to `closed_at`; each event
recorded later (a late sale, a return) is one adjustment, in (recorded, event_id) order,
taking the period's rebate to what it is with that event included. A closed statement
is never rewritten.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.rebate_audit import AdjustReason, reason_for
from domain.rebates import (
    ProgramTerms,
    QualifyingLine,
    RebateInputs,
    RebateResult,
    accumulate,
    compute_rebate,
    period_bounds,
)
from projections.inventory import DayDetail, Move

INVALID_PROGRAM = "invalid_program"
UNKNOWN_PROGRAM = "unknown_program"


@dataclass(frozen=True, slots=True)
class ClosedPeriod:
    program_id: str
    period: str
    closed_at: datetime
    closed_by: str


@dataclass(frozen=True, slots=True)
class Accrual:
    """One program's figures for one distributor and period.

    `other_currency`: lines that would qualify but are in another currency than the
    program's; they are left out (never converted) and counted here so they are seen.
    """

    program_id: str
    distributor_id: str
    period: str
    inputs: RebateInputs
    result: RebateResult
    other_currency: int = 0


@dataclass(frozen=True, slots=True)
class PlannedAdjustment:
    event_id: str
    reason: AdjustReason
    recorded: datetime
    inputs: RebateInputs
    result: RebateResult


@dataclass(frozen=True, slots=True)
class StatementPlan:
    """What the event store must hold for a closed period: the statement, then adjustments."""

    program_id: str
    distributor_id: str
    period: str
    closed: ClosedPeriod
    inputs: RebateInputs
    result: RebateResult
    adjustments: tuple[PlannedAdjustment, ...]


def closed_key(program_id: str, period: str) -> str:
    return f"{program_id}|{period}"


def closed_index(periods: Iterable[ClosedPeriod]) -> dict[str, ClosedPeriod]:
    return {closed_key(p.program_id, p.period): p for p in periods}


def qualifying_moves(
    terms: ProgramTerms, details: Iterable[DayDetail]
) -> dict[tuple[str, str], list[Move]]:
    """The program's qualifying moves by (distributor_id, period).

    Only moves of the program's basis (shipments for sell_in, sales for sell_through),
    its distributors and SKUs, and its currency qualify; returns are negative moves.
    """
    return _grouped(terms, details)[0]


def _grouped(
    terms: ProgramTerms, details: Iterable[DayDetail]
) -> tuple[dict[tuple[str, str], list[Move]], dict[tuple[str, str], int]]:
    groups: dict[tuple[str, str], list[Move]] = defaultdict(list)
    other_currency: dict[tuple[str, str], int] = defaultdict(int)
    for detail in details:
        if not terms.applies_to(detail.distributor_id, detail.sku):
            continue
        for move in detail.moves:
            if _quantity(terms, move) is None:
                continue
            key = (detail.distributor_id, terms.period_of(datetime.fromisoformat(move.at)))
            if move.currency != terms.currency:
                other_currency[key] += 1
            else:
                groups[key].append(move)
    return groups, other_currency


def accruals(
    programs: Iterable[ProgramTerms],
    details: list[DayDetail],
    closed: dict[str, ClosedPeriod],
) -> list[Accrual]:
    """Every program's figures per distributor and period, with every event received."""
    found = []
    for terms in programs:
        groups, other_currency = _grouped(terms, details)
        for (distributor, period), moves in groups.items():
            inputs = accumulate(terms.measure, _lines(terms, moves))
            is_closed = closed_key(terms.program_id, period) in closed
            result = compute_rebate(terms, inputs, closed=is_closed)
            excluded = other_currency.get((distributor, period), 0)
            found.append(Accrual(terms.program_id, distributor, period, inputs, result, excluded))
    return sorted(found, key=lambda a: (a.program_id, a.distributor_id, a.period))


def statement_plans(
    programs: Iterable[ProgramTerms],
    details: list[DayDetail],
    closed: dict[str, ClosedPeriod],
) -> list[StatementPlan]:
    """The statement and adjustments of every closed (program, distributor, period)."""
    plans = []
    for terms in programs:
        for (distributor, period), moves in qualifying_moves(terms, details).items():
            close = closed.get(closed_key(terms.program_id, period))
            if close is not None:
                plans.append(_plan(terms, distributor, period, close, moves))
    return sorted(plans, key=lambda p: (p.program_id, p.distributor_id, p.period))


def _plan(
    terms: ProgramTerms, distributor: str, period: str, close: ClosedPeriod, moves: list[Move]
) -> StatementPlan:
    cutoff = close.closed_at.isoformat()
    on_time = [move for move in moves if move.recorded <= cutoff]
    late = sorted((m for m in moves if m.recorded > cutoff), key=lambda m: (m.recorded, m.event_id))
    inputs = accumulate(terms.measure, _lines(terms, on_time))
    result = compute_rebate(terms, inputs, closed=True)
    adjustments = []
    included = list(on_time)
    for move in late:
        included.append(move)
        later_inputs = accumulate(terms.measure, _lines(terms, included))
        adjustments.append(
            PlannedAdjustment(
                move.event_id,
                reason_for(_quantity(terms, move) or 0, reversal=move.reverses is not None),
                datetime.fromisoformat(move.recorded),
                later_inputs,
                compute_rebate(terms, later_inputs, closed=True),
            )
        )
    return StatementPlan(
        terms.program_id, distributor, period, close, inputs, result, tuple(adjustments)
    )


def _quantity(terms: ProgramTerms, move: Move) -> int | None:
    """The move's quantity on the program's basis; None when it is the other kind."""
    if terms.basis == "sell_in":
        return move.sell_in if move.sell_through == 0 else None
    return move.sell_through if move.sell_in == 0 else None


def _lines(terms: ProgramTerms, moves: Iterable[Move]) -> list[QualifyingLine]:
    return [
        QualifyingLine(move.event_id, _quantity(terms, move) or 0, Decimal(move.unit_price))
        for move in moves
    ]


def accrual_row(accrual: Accrual) -> dict[str, Any]:
    """One `rebates` row of the projection snapshot."""
    result = accrual.result

    def text(amount: Decimal | None) -> str | None:
        return None if amount is None else str(amount)

    return {
        "program_id": accrual.program_id,
        "distributor_id": accrual.distributor_id,
        "period": accrual.period,
        "volume": text(result.volume),
        "revenue": text(result.revenue),
        "tier_rate": text(result.tier_rate),
        "rebate": text(result.rebate),
        "next_threshold": text(result.next_threshold),
        "gap_to_next": text(result.gap_to_next),
        "commitment_progress": text(result.commitment_progress),
        "commitment_shortfall": text(result.commitment_shortfall),
        "events": accrual.inputs.event_count,
        "other_currency_lines": accrual.other_currency,
        "status": result.status,
    }


def watchlist(rows: Iterable[dict[str, Any]], share: Decimal) -> list[dict[str, Any]]:
    """Open rows within `share` (e.g. 0.10) of the next tier's threshold."""
    near = []
    for row in rows:
        if row["status"] != "open" or row["next_threshold"] is None:
            continue
        if Decimal(row["gap_to_next"]) <= share * Decimal(row["next_threshold"]):
            near.append(row)
    return near


def due_closes(
    accrued: Iterable[Accrual],
    closed: dict[str, ClosedPeriod],
    now: datetime,
    grace: timedelta,
) -> list[tuple[str, str, datetime]]:
    """(program_id, period, closed_at) of periods ended more than `grace` before `now`.

    The close time is the end of the period plus the grace, whoever notices it first, so
    every worker (and a replay) names the same close.
    """
    due = set()
    for accrual in accrued:
        key = closed_key(accrual.program_id, accrual.period)
        if key in closed:
            continue
        _, end = period_bounds(accrual.period)
        if end + grace <= now:
            due.add((accrual.program_id, accrual.period, end + grace))
    return sorted(due)
