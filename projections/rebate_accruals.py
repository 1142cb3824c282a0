"""Rebate programs over the rebate buckets: live accruals, statements and adjustments.

A program's figures for a distributor and period are read from the buckets its
qualifying movements were added to (projections/rebate_buckets.py): one per quarter of
the period, for all SKUs or for each of the program's SKUs. So a program counts every
qualifying event of its period, also those that arrived before it was defined, a replay
derives exactly the same figures, and nothing here reads the movement history.

Every qualifying line counts, whatever its currency: units, events and the digest as
they are; revenue in another currency than the program's is read from the day buckets
of the quarters that hold it and converted at each day's rate (`domain.currency`). A
day without a rate is listed as `unconverted` (never guessed, never dropped) and the
revenue shown is the part that converted.

Which lines qualify: the program's own distributor list admits the distributor, and on
each line's business day the distributor's agreement in effect binds the program, or no
agreement governs that day (`domain.agreements.binds_program`). A closed period reads
the agreement as known at its close, so a version recorded later never rewrites it.
Where an agreement binds the program for part of a period only, the period is read from
the day tallies of the days bound (at most the period's days per scope).

A closed statement holds the qualifying events recorded up to the close (its
`cutoff`): the buckets' tallies less the moves recorded after it. Each of those is one adjustment,
in (recorded, event_id) order, taking the period's rebate to what it is with that event
included. A closed statement is never rewritten; planning one costs the late moves.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Context, Decimal
from typing import Any
from uuid import UUID

from domain.agreements import Span, binds_program, spans, version_label
from domain.currency import MoneyItem, RateLookup, Unconverted, gap_rows, total_in
from domain.rebate_programs import period_bounds
from domain.rebate_statement import AdjustReason, reason_for
from domain.rebates import (
    Measure,
    ProgramTerms,
    RebateInputs,
    RebateResult,
    RebateTally,
    compute_rebate,
)
from projections.agreement_timeline import AgreementTimeline
from projections.exchange_rates import RateBook, RateMonths, first_known_after, pinned
from projections.inventory import Move
from projections.keyvalue import DictStore, KeyValue
from projections.rebate_buckets import (
    ALL_SKUS,
    RebateBucket,
    RecordedMove,
    bucket_key,
    recorded_prefix,
)

INVALID_PROGRAM = "invalid_program"
UNKNOWN_PROGRAM = "unknown_program"
#: sums of money kept exact, as in domain.rebates (never rounded by the caller's context)
_EXACT = Context(prec=60)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ClosedPeriod:
    """A program's period, closed. `closed_at` names the close (the period's end plus the
    grace, for an automatic one); `recorded_at` is when the close was recorded: the
    statement holds the period's events recorded up to it, so history loaded before a
    close is in its statement, and every event recorded after it is an adjustment."""

    program_id: str
    period: str
    closed_at: datetime
    closed_by: str
    recorded_at: datetime | None = None

    @property
    def cutoff(self) -> datetime:
        return self.recorded_at or self.closed_at


@dataclass(frozen=True, slots=True)
class RebateSources:
    """What a program's figures are read from: the quarter buckets, the day buckets (for
    revenue in another currency, or days an agreement binds), the exchange rates and the
    distributors' agreement timelines (which programs they bind, when)."""

    buckets: KeyValue[RebateBucket]
    days: KeyValue[RebateBucket]
    rates: RateMonths
    agreements: KeyValue[AgreementTimeline] = field(default_factory=DictStore)


@dataclass(frozen=True, slots=True)
class Binding:
    """The days of a program's period whose lines count for a distributor, by its
    agreement: `whole` when every day does (the quarter buckets are read as they are)."""

    spans: tuple[Span, ...]
    whole: bool

    def counts(self, day: date) -> bool:
        return self.whole or any(span.first <= day <= span.last for span in self.spans)

    @property
    def bound_by(self) -> tuple[str, ...]:
        """The agreement versions that bound the program on the days that count."""
        labels = (version_label(s.version) for s in self.spans if s.version is not None)
        return tuple(dict.fromkeys(labels))


def binding(
    terms: ProgramTerms,
    agreements: KeyValue[AgreementTimeline],
    distributor_id: str,
    period: str,
    known_at: datetime | None,
) -> Binding:
    """Which days of the period count for the program, by the distributor's agreement as
    known at `known_at` (a closed period: its close; None: everything known). One keyed
    read of the timeline; its cost is the distributor's versions, never its lines."""
    start, end = period_bounds(period)
    first, last = start.date(), (end - timedelta(days=1)).date()
    timeline = agreements.get(distributor_id)
    if timeline is None:
        return Binding((Span(first, last, None),), True)
    every = spans(timeline.versions, timeline.ends, first, last, known_at)
    bound = tuple(span for span in every if binds_program(span.version, terms.program_id))
    return Binding(bound, len(bound) == len(every))


@dataclass(frozen=True, slots=True)
class ProgramFigures:
    """A program's qualifying lines for one distributor and period, every currency.

    `tally`: units, count and hash sum of every line; its revenue is the program's
    currency's plus what converted of the others (exact, unrounded). `other_currency`:
    how many lines are in another currency. `rate_event_ids`: the rates used, sorted;
    `unconverted`: the revenue without a rate, per (currency, day).
    """

    tally: RebateTally
    other_currency: int = 0
    rate_event_ids: tuple[UUID, ...] = ()
    unconverted: tuple[Unconverted, ...] = ()

    def inputs(self, measure: Measure) -> RebateInputs:
        inputs = self.tally.inputs(measure)
        return (
            replace(inputs, partial=True) if self.unconverted and measure == "revenue" else inputs
        )


@dataclass(frozen=True, slots=True)
class Accrual:
    """One program's figures for one distributor and period.

    `other_currency`: how many lines are in another currency than the program's (each
    converted at its day's rate, or its revenue listed in `unconverted`).
    """

    program_id: str
    distributor_id: str
    period: str
    #: the program's: every amount of the accrual is in it
    currency: str
    #: the program's: volume, thresholds and the gap are units, or revenue in `currency`
    measure: Measure
    inputs: RebateInputs
    result: RebateResult
    other_currency: int = 0
    rate_event_ids: tuple[UUID, ...] = ()
    unconverted: tuple[Unconverted, ...] = ()
    #: the agreement versions that bound the program (empty: its own list alone decided)
    bound_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedAdjustment:
    """`event_id`: the late move's, or the rate's (`rate_arrived`)."""

    event_id: str
    reason: AdjustReason
    recorded: datetime
    inputs: RebateInputs
    result: RebateResult
    rate_event_ids: tuple[UUID, ...] = ()
    unconverted: tuple[Unconverted, ...] = ()


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
    rate_event_ids: tuple[UUID, ...] = ()
    unconverted: tuple[Unconverted, ...] = ()

    @property
    def waiting(self) -> bool:
        """Whether some revenue still has no rate after the last adjustment."""
        return bool(self.adjustments[-1].unconverted if self.adjustments else self.unconverted)

    def before(self, horizon: datetime | None) -> StatementPlan:
        """The plan with the adjustments recorded before `horizon` only (None: all of them).

        Adjustments are in (recorded, event id) order and each amount depends on those
        before it, so a caller that has applied everything recorded before `horizon`, but
        perhaps not every event of a later ms, records these as the whole history's plan
        has them: a prefix of it, which nothing applied later can precede."""
        if horizon is None:
            return self
        kept = tuple(step for step in self.adjustments if step.recorded < horizon)
        return self if len(kept) == len(self.adjustments) else replace(self, adjustments=kept)


def closed_key(program_id: str, period: str) -> str:
    return f"{program_id}|{period}"


def quarters_of(period: str) -> list[str]:
    """The quarters a period key covers: itself, or a year's four."""
    return [period] if "-Q" in period else [f"{period}-Q{n}" for n in range(1, 5)]


def _period_of_quarter(terms: ProgramTerms, quarter: str) -> str:
    return quarter if terms.period == "quarter" else quarter[:4]


def _scopes(terms: ProgramTerms) -> tuple[str, ...]:
    return (ALL_SKUS,) if terms.skus == "all" else terms.skus


def covers(terms: ProgramTerms, distributor_id: str) -> bool:
    return terms.distributor_ids == "all" or distributor_id in terms.distributor_ids


#: (currency, business day) -> revenue in that currency
_Foreign = dict[tuple[str, date], Decimal]


@dataclass(slots=True)
class _PeriodSums:
    """What a period's buckets hold for a program: every line's tally, the program's
    currency's, how many lines in others, and the others' revenue per (currency, day)."""

    currency: str
    every: RebateTally = field(default_factory=RebateTally)
    own: RebateTally = field(default_factory=RebateTally)
    other: int = 0
    foreign: _Foreign = field(default_factory=dict)

    def add(self, currency: str, tally: RebateTally) -> bool:
        """Counts one currency's tally; whether that currency is not the program's."""
        self.every = self.every.plus(tally)
        if currency == self.currency:
            self.own = self.own.plus(tally)
            return False
        self.other += tally.count
        return True


def _period_sums(
    terms: ProgramTerms,
    sources: RebateSources,
    distributor_id: str,
    period: str,
    bound: Binding,
) -> _PeriodSums:
    """Reads the period's quarter buckets, and the days of a quarter only where its bucket
    holds another currency; a period an agreement binds in part: the days bound only. At
    most the period's days per scope."""
    if not bound.whole:
        return _bound_sums(terms, sources.days, distributor_id, bound)
    sums = _PeriodSums(terms.currency)
    for quarter in quarters_of(period):
        for scope in _scopes(terms):
            bucket = sources.buckets.get(bucket_key(distributor_id, terms.basis, scope, quarter))
            if bucket is None:
                continue
            foreign = [sums.add(currency, tally) for currency, tally in bucket.by_currency.items()]
            if any(foreign):
                for item in _foreign_days(terms, sources.days, distributor_id, scope, quarter):
                    _add_foreign(sums.foreign, item)
    return sums


def _bound_sums(
    terms: ProgramTerms, days: KeyValue[RebateBucket], distributor_id: str, bound: Binding
) -> _PeriodSums:
    """The sums of the days bound only, from the day tallies."""
    sums = _PeriodSums(terms.currency)
    for span in bound.spans:
        for scope in _scopes(terms):
            for day, bucket in _day_buckets(
                terms, days, distributor_id, scope, span.first, span.last
            ):
                for currency, tally in bucket.by_currency.items():
                    if sums.add(currency, tally):
                        _add_foreign(sums.foreign, MoneyItem(tally.revenue, currency, day))
    return sums


def _add_foreign(foreign: _Foreign, item: MoneyItem) -> None:
    key = (item.currency, item.on)
    foreign[key] = _EXACT.add(foreign.get(key, _ZERO), item.amount)


def _figures(terms: ProgramTerms, sums: _PeriodSums, lookup: RateLookup) -> ProgramFigures:
    items = (MoneyItem(amount, currency, on) for (currency, on), amount in sums.foreign.items())
    mixed = total_in(terms.currency, items, lookup, exact=True)
    revenue = sums.own.plus(RebateTally(revenue=mixed.converted)).revenue
    every = sums.every
    # a day whose late moves were taken out nets to nothing: nothing waits for its rate
    gaps = tuple(gap for gap in mixed.unconverted if gap.amount != 0)
    return ProgramFigures(
        RebateTally(every.units, revenue, every.count, every.hash_sum),
        sums.other,
        mixed.rate_event_ids,
        gaps,
    )


def qualifying_count(
    terms: ProgramTerms, buckets: KeyValue[RebateBucket], distributor_id: str, period: str
) -> int:
    """How many qualifying lines the period holds, every currency: bucket reads only."""
    count = 0
    for quarter in quarters_of(period):
        for scope in _scopes(terms):
            bucket = buckets.get(bucket_key(distributor_id, terms.basis, scope, quarter))
            if bucket is not None:
                count += sum(tally.count for tally in bucket.by_currency.values())
    return count


def program_figures(
    terms: ProgramTerms,
    sources: RebateSources,
    distributor_id: str,
    period: str,
    known_at: datetime | None = None,
    bound: Binding | None = None,
) -> ProgramFigures:
    """The distributor's qualifying lines of the period in every currency, the others'
    revenue converted at each day's rate (as known at `known_at`: None for every rate).
    `bound`: the days that count (None: by the agreements as everything known says)."""
    if bound is None:
        bound = binding(terms, sources.agreements, distributor_id, period, None)
    sums = _period_sums(terms, sources, distributor_id, period, bound)
    return _figures(terms, sums, RateBook(sources.rates, known_at))


def _foreign_days(
    terms: ProgramTerms,
    days: KeyValue[RebateBucket],
    distributor_id: str,
    scope: str,
    quarter: str,
) -> Iterator[MoneyItem]:
    """Each day's revenue of the quarter in a currency other than the program's."""
    start, end = period_bounds(quarter)
    last = (end - timedelta(days=1)).date()
    for day, bucket in _day_buckets(terms, days, distributor_id, scope, start.date(), last):
        for currency, tally in bucket.by_currency.items():
            if currency != terms.currency:
                yield MoneyItem(tally.revenue, currency, day)


def _day_buckets(
    terms: ProgramTerms,
    days: KeyValue[RebateBucket],
    distributor_id: str,
    scope: str,
    first: date,
    last: date,
) -> Iterator[tuple[date, RebateBucket]]:
    """The scope's day tallies from `first` to `last` (a range of keys)."""
    prefix = bucket_key(distributor_id, terms.basis, scope, "")
    end = last.isoformat()
    for key, bucket in days.scan(prefix, start=prefix + first.isoformat()):
        day = key[len(prefix) :]
        if day > end:
            break
        yield date.fromisoformat(day), bucket


def program_periods(
    terms: ProgramTerms, buckets: KeyValue[RebateBucket], distributor_id: str
) -> list[str]:
    """The program's periods in which the distributor has movements of its basis."""
    prefix = f"{distributor_id}|{terms.basis}|{ALL_SKUS}|"
    return sorted(
        {_period_of_quarter(terms, key[len(prefix) :]) for key, _ in buckets.scan(prefix)}
    )


@dataclass(frozen=True, slots=True)
class AccrualQuery:
    """Which accruals a read wants (None: any), judged on their keys before any figure
    is read: a program, one distributor, a period, open or closed ones."""

    program_id: str | None = None
    distributor_id: str | None = None
    period: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class AccrualKey:
    """One program's period for one distributor that may have an accrual, with what its
    figures are read by: its close (None: open) and the days its agreement binds."""

    terms: ProgramTerms
    distributor_id: str
    period: str
    close: ClosedPeriod | None
    bound: Binding


#: every accrual
EVERY_ACCRUAL = AccrualQuery()
#: the accruals of the periods not closed yet
OPEN_ACCRUALS = AccrualQuery(status="open")


def accrual_keys(
    programs: Iterable[ProgramTerms],
    sources: RebateSources,
    distributors: Iterable[str],
    closed: KeyValue[ClosedPeriod],
    wanted: AccrualQuery,
) -> Iterator[AccrualKey]:
    """The keys of the accruals `wanted`, in (program, distributor, period) order: the
    bucket keys of each distributor's periods, its close and agreement; no figure read."""
    chosen = sorted(
        (terms for terms in programs if wanted.program_id in (None, terms.program_id)),
        key=lambda terms: terms.program_id,
    )
    names = sorted(d for d in distributors if wanted.distributor_id in (None, d))
    for terms in chosen:
        for distributor in names:
            if not covers(terms, distributor):
                continue
            for period in program_periods(terms, sources.buckets, distributor):
                if wanted.period not in (None, period):
                    continue
                close = closed.get(closed_key(terms.program_id, period))
                if wanted.status not in (None, "open" if close is None else "closed"):
                    continue
                known_at = None if close is None else close.cutoff  # the agreement then
                bound = binding(terms, sources.agreements, distributor, period, known_at)
                if bound.spans:
                    yield AccrualKey(terms, distributor, period, close, bound)


def has_lines(key: AccrualKey, sources: RebateSources) -> bool:
    """Whether the key has an accrual (`accrual_of` is not None): a period its agreement
    binds whole, by its quarter buckets' counts alone."""
    if key.bound.whole:
        return qualifying_count(key.terms, sources.buckets, key.distributor_id, key.period) != 0
    return accrual_of(key, sources) is not None


def accrual_of(key: AccrualKey, sources: RebateSources) -> Accrual | None:
    """The key's figures and rebate; None when no qualifying line counts."""
    terms = key.terms
    figures = program_figures(terms, sources, key.distributor_id, key.period, bound=key.bound)
    if figures.tally.count == 0:
        return None
    inputs = figures.inputs(terms.measure)
    result = compute_rebate(terms, inputs, closed=key.close is not None)
    return Accrual(
        terms.program_id,
        key.distributor_id,
        key.period,
        terms.currency,
        terms.measure,
        inputs,
        result,
        figures.other_currency,
        figures.rate_event_ids,
        figures.unconverted,
        key.bound.bound_by,
    )


def accruals(
    programs: Iterable[ProgramTerms],
    sources: RebateSources,
    distributors: Iterable[str],
    closed: KeyValue[ClosedPeriod],
    open_only: bool = False,
) -> list[Accrual]:
    """Every program's figures per distributor and period, with every event received
    (`open_only`: of the periods not closed yet)."""
    wanted = OPEN_ACCRUALS if open_only else EVERY_ACCRUAL
    return wanted_accruals(programs, sources, distributors, closed, wanted)


def wanted_accruals(
    programs: Iterable[ProgramTerms],
    sources: RebateSources,
    distributors: Iterable[str],
    closed: KeyValue[ClosedPeriod],
    wanted: AccrualQuery,
) -> list[Accrual]:
    """The accruals `wanted`, in `accruals`' order: the figures of those only are read."""
    found = (
        accrual_of(key, sources)
        for key in accrual_keys(programs, sources, distributors, closed, wanted)
    )
    return [accrual for accrual in found if accrual is not None]


def accrual_page(
    programs: Iterable[ProgramTerms],
    sources: RebateSources,
    distributors: Iterable[str],
    closed: KeyValue[ClosedPeriod],
    wanted: AccrualQuery,
    window: tuple[int, int],
) -> tuple[list[Accrual], int]:
    """The (offset, limit) `window` of the accruals `wanted`, in `accruals`' order, and how
    many there are: the figures of the page's accruals only are read; the others' keys and
    bucket counts tell whether they are there."""
    offset, limit = window
    present = [
        key
        for key in accrual_keys(programs, sources, distributors, closed, wanted)
        if has_lines(key, sources)
    ]
    page = [accrual_of(key, sources) for key in present[offset : offset + limit]]
    return [accrual for accrual in page if accrual is not None], len(present)


def late_moves(
    terms: ProgramTerms,
    late: KeyValue[RecordedMove],
    distributor_id: str,
    period: str,
    after: datetime,
) -> Iterator[RecordedMove]:
    """The period's qualifying moves recorded after `after`, in (recorded, event_id) order,
    in every currency."""
    cutoff = after.isoformat()
    skus = None if terms.skus == "all" else set(terms.skus)

    def quarter_moves(quarter: str) -> Iterator[tuple[str, RecordedMove]]:
        prefix = recorded_prefix(distributor_id, terms.basis, quarter)
        for key, move in late.scan(prefix, start=prefix + cutoff):
            if move.recorded > cutoff:
                yield key[len(prefix) :], move

    for _, move in heapq.merge(*(quarter_moves(q) for q in quarters_of(period))):
        if skus is None or move.sku in skus:
            yield move


def _late_item(move: RecordedMove, sign: int) -> MoneyItem:
    """A late move's revenue as an amount of its business day. (`at` is None only in
    state written before it was kept, which an upgrade rebuilds.)"""
    day = (move.at or move.recorded)[:10]
    return MoneyItem(sign * move.tally().revenue, move.currency, date.fromisoformat(day))


def _rate_arrivals(
    terms: ProgramTerms, rates: RateMonths, gaps: Iterable[tuple[str, date]], cutoff: datetime
) -> dict[tuple[datetime, str], RateLookup]:
    """(recorded, rate event id) of each rate that first converts a day unconverted at the
    close; one step per rate event, whatever the days it converts."""
    found: dict[tuple[datetime, str], RateLookup] = {}
    for currency, day in sorted(set(gaps)):
        first = first_known_after(rates, currency, terms.currency, day, cutoff)
        if first is not None:
            moment, rate = first
            found[moment, str(rate.event_id)] = pinned(rates, cutoff, moment)
    return found


def statement_plan(
    terms: ProgramTerms,
    sources: RebateSources,
    late: KeyValue[RecordedMove],
    distributor_id: str,
    close: ClosedPeriod,
) -> StatementPlan | None:
    """The statement of a closed period and its adjustments (None: no qualifying event).

    The statement converts with the rates known at the close; each late move is an
    adjustment (in another currency: at its day's rate as known when it was recorded),
    and so is each rate that arrives after the close for a day that had none then
    (`rate_arrived`), in (recorded, event id) order. Costs a few bucket reads, the days of
    quarters holding another currency and the period's late moves, whatever the history.
    The lines that count are those the agreements as known at the close bind.
    """
    cutoff = close.cutoff
    bound = binding(terms, sources.agreements, distributor_id, close.period, cutoff)
    if not bound.spans:
        return None
    sums = _period_sums(terms, sources, distributor_id, close.period, bound)
    if sums.every.count == 0:
        return None
    later = [
        move
        for move in late_moves(terms, late, distributor_id, close.period, cutoff)
        if bound.counts(_late_item(move, 1).on)
    ]
    running = sums
    for move in later:
        running = _with_move(terms, running, move, -1)
    at_close = _figures(terms, running, RateBook(sources.rates, cutoff))
    steps: list[tuple[datetime, str, RecordedMove | RateLookup]] = [
        (datetime.fromisoformat(move.recorded), move.event_id, move) for move in later
    ]
    gaps = [(gap.currency, gap.on) for gap in at_close.unconverted]
    gaps += _late_gaps(terms, sources.rates, later, cutoff)
    arrivals = _rate_arrivals(terms, sources.rates, gaps, cutoff)
    steps += [(at, rate_id, book) for (at, rate_id), book in arrivals.items()]
    steps.sort(key=lambda step: (step[0], step[1]))
    adjustments = []
    for at, event_id, step in steps:
        lookup: RateLookup
        reason: AdjustReason
        if isinstance(step, RecordedMove):
            running = _with_move(terms, running, step, 1)
            reason = reason_for(step.quantity, reversal=step.reversal)
            lookup = pinned(sources.rates, cutoff, at)
        else:
            lookup, reason = step, "rate_arrived"
        figures = _figures(terms, running, lookup)
        step_inputs = figures.inputs(terms.measure)
        adjustments.append(
            PlannedAdjustment(
                event_id,
                reason,
                at,
                step_inputs,
                compute_rebate(terms, step_inputs, closed=True),
                figures.rate_event_ids,
                figures.unconverted,
            )
        )
    inputs = at_close.inputs(terms.measure)
    return StatementPlan(
        terms.program_id,
        distributor_id,
        close.period,
        close,
        inputs,
        compute_rebate(terms, inputs, closed=True),
        tuple(adjustments),
        at_close.rate_event_ids,
        at_close.unconverted,
    )


def _with_move(
    terms: ProgramTerms, sums: _PeriodSums, move: RecordedMove, sign: int
) -> _PeriodSums:
    """The sums with one late move added (sign 1) or taken out (-1)."""
    tally = move.tally()
    every = sums.every.plus(tally) if sign > 0 else sums.every.minus(tally)
    if move.currency == terms.currency:
        own = sums.own.plus(tally) if sign > 0 else sums.own.minus(tally)
        return _PeriodSums(terms.currency, every, own, sums.other, sums.foreign)
    foreign = dict(sums.foreign)  # at most the period's days and currencies
    _add_foreign(foreign, _late_item(move, sign))
    return _PeriodSums(terms.currency, every, sums.own, sums.other + sign, foreign)


def _late_gaps(
    terms: ProgramTerms, rates: RateMonths, later: Iterable[RecordedMove], cutoff: datetime
) -> list[tuple[str, date]]:
    """(currency, day) of the late moves in another currency that had no rate when they
    were recorded: their rate's arrival is an adjustment of its own."""
    gaps = []
    for move in later:
        if move.currency == terms.currency:
            continue
        item = _late_item(move, 1)
        known = pinned(rates, cutoff, datetime.fromisoformat(move.recorded))
        if known(item.currency, terms.currency, item.on) is None:
            gaps.append((item.currency, item.on))
    return gaps


def statement_plans(
    programs: Iterable[ProgramTerms],
    sources: RebateSources,
    late: KeyValue[RecordedMove],
    distributors: Iterable[str],
    closed: KeyValue[ClosedPeriod],
) -> list[StatementPlan]:
    """The statement and adjustments of every closed (program, distributor, period)."""
    plans = []
    distributors = sorted(distributors)
    for terms in programs:
        for _, close in closed.scan(f"{terms.program_id}|"):
            for distributor in distributors:
                if covers(terms, distributor):
                    plan = statement_plan(terms, sources, late, distributor, close)
                    if plan is not None:
                        plans.append(plan)
    return sorted(plans, key=lambda p: (p.program_id, p.distributor_id, p.period))


def period_moves(
    terms: ProgramTerms,
    moves: KeyValue[Move],
    skus: Iterable[str],
    distributor_id: str,
    bound: Binding,
) -> Iterator[Move]:
    """The distributor's qualifying moves of a period's days `bound` (its agreement's, as
    at the close), every currency, read day range by day range: what a statement's
    lineage lists."""
    wanted = skus if terms.skus == "all" else [s for s in skus if s in terms.skus]
    for sku in sorted(wanted):
        prefix = f"{distributor_id}|{sku}|"
        for span in bound.spans:
            last = span.last.isoformat()
            for key, move in moves.scan(prefix, start=prefix + span.first.isoformat()):
                if key[len(prefix) : len(prefix) + 10] > last:
                    break
                if move.basis == terms.basis:
                    yield move


def accrual_row(accrual: Accrual) -> dict[str, Any]:
    """One `rebates` row of the projection snapshot."""
    result = accrual.result

    def text(amount: Decimal | None) -> str | None:
        return None if amount is None else str(amount)

    return {
        "program_id": accrual.program_id,
        "distributor_id": accrual.distributor_id,
        "period": accrual.period,
        "currency": accrual.currency,
        "measure": accrual.measure,
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
        "rate_event_ids": [str(event_id) for event_id in accrual.rate_event_ids],
        "unconverted": gap_rows(accrual.unconverted),
        "bound_by": list(accrual.bound_by),
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
    programs: Iterable[ProgramTerms],
    buckets: KeyValue[RebateBucket],
    distributors: Iterable[str],
    closed: KeyValue[ClosedPeriod],
    now: datetime,
    grace: timedelta,
) -> list[tuple[str, str, datetime]]:
    """(program_id, period, closed_at) of periods with movements that ended more than
    `grace` before `now` (recorded time) and are not closed yet.

    The close time is the end of the period plus the grace, whoever notices it first, so
    every worker (and a replay) names the same close.
    """
    due = set()
    distributors = sorted(distributors)
    for terms in programs:
        periods = {
            period
            for distributor in distributors
            if covers(terms, distributor)
            for period in program_periods(terms, buckets, distributor)
        }
        for period in periods:
            if closed.get(closed_key(terms.program_id, period)) is not None:
                continue
            _, end = period_bounds(period)
            if end + grace <= now:
                due.add((terms.program_id, period, end + grace))
    return sorted(due)
