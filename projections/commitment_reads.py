"""Agreement volume commitments judged (schemas/rows/agreements.py, `CommitmentRow`).

Per distributor with an agreement, for each period kind (month, quarter, year) the period
holding "now" (open) and the one before it (closed):

- **Which commitment.** The version governing the period: the one on its last day, as
  known when it closed (the midnight after its last day; while it is open, as known at
  "now"), `AgreementTimeline.governing`. A period only one agreement governed from its first
  day to its last is judged (`covers_whole_period`); its commitments of that period kind
  each give a row, judged by `domain.obligations.commitment_progress`.
- **The volume**, by business date, from state kept per period: units of the basis from
  the distributor's month and quarter totals (`stores.periods`; a year is its quarters);
  revenue over all SKUs in the agreement's currency: a quarter's (a year's: its quarters')
  own-currency revenue from the rebate quarter buckets, and each day's revenue in another
  currency from the day tallies (`stores.rebate_days`, read only for a quarter holding
  one), converted at that day's rate from the rate history: every rate applied, whatever
  "now" says (a worker's clock does not move with rates another worker's partition
  holds, so a rate known everywhere could be left out live and used in a replay); a
  closed period converts a day at the rate known at its close, or, for a day without one
  then, at the first rate known for it afterwards, so a correction published later never
  rewrites it. A month's revenue from its days.
  A day without a rate is listed unconverted, per currency, never guessed, and the
  commitment is `unconverted` unless what converted already meets it; once the rate
  arrives the verdict is given (met or short).

A distributor's rows read at most 4 quarter buckets and the days of a period, whatever the
history.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from domain.agreements import AgreementVersion, covers_whole_period
from domain.calendar_periods import PeriodKind, month_after, period_key
from domain.currency import Unconverted, round_money
from domain.obligations import CommitmentProgress, commitment_progress
from domain.reporting_schedule import ended_at
from domain.timeutil import utc
from projections.agreement_reads import timelines_in_scope
from projections.agreement_timeline import AgreementTimeline
from projections.exchange_rates import RateBook, closed_rates
from projections.period_revenue import period_revenue
from projections.rebate_accruals import quarters_of
from projections.stores import ChannelStores
from projections.tallies import period_bucket_key
from schemas.agreements import VolumeCommitment

Row = dict[str, Any]
PERIOD_KINDS: Final[tuple[PeriodKind, ...]] = ("month", "quarter", "year")


def bounds(kind: PeriodKind, day: date) -> tuple[date, date]:
    """First and last day of the `kind` period holding `day`."""
    if kind == "month":
        first = day.replace(day=1)
        return first, month_after(first) - timedelta(days=1)
    if kind == "quarter":
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return first, month_after(first, 3) - timedelta(days=1)
    return date(day.year, 1, 1), date(day.year, 12, 31)


def judged_periods(now: datetime) -> list[tuple[PeriodKind, date, date]]:
    """Per kind, the period before the one holding `now`, then that one."""
    today = utc(now).date()
    found: list[tuple[PeriodKind, date, date]] = []
    for kind in PERIOD_KINDS:
        first, last = bounds(kind, today)
        found.extend([(kind, *bounds(kind, first - timedelta(days=1))), (kind, first, last)])
    return found


def commitment_rows(
    stores: ChannelStores, now: datetime | None, distributor_id: str | None
) -> list[Row]:
    """Every commitment of the periods judged at `now`, by distributor, then period kind,
    period and the order the terms list them. None before anything was recorded."""
    if now is None:
        return []
    rows: list[Row] = []
    for timeline in timelines_in_scope(stores, distributor_id):
        rows.extend(_distributor_rows(stores, timeline, now))
    return rows


def _distributor_rows(
    stores: ChannelStores, timeline: AgreementTimeline, now: datetime
) -> list[Row]:
    rows = []
    for kind, first, last in judged_periods(now):
        closed = utc(now) >= ended_at(last)
        known_at = min(ended_at(last), utc(now))  # open: what is known at "now"
        version = timeline.governing(first, last, known_at)
        whole = covers_whole_period(timeline.versions, timeline.ends, first, last, known_at)
        if version is None or not whole:
            continue
        for commitment in version.terms.commitments:
            if commitment.period == kind:
                days = (first, last)
                found, gaps = _judged(stores, version, commitment, days, closed)
                rows.append(_row(version, commitment, days, closed, found, gaps, now))
    return rows


def _judged(
    stores: ChannelStores,
    version: AgreementVersion,
    commitment: VolumeCommitment,
    days: tuple[date, date],
    closed: bool,
) -> tuple[CommitmentProgress, tuple[Unconverted, ...]]:
    """The commitment's progress and the revenue left unconverted (summed per currency)."""
    first = days[0]
    period = period_key(first, commitment.period)
    if commitment.measure == "units":
        units = Decimal(_units(stores, version.distributor_id, commitment, first))
        return commitment_progress(commitment, period, units, closed), ()
    # every rate applied, but a closed period keeps the rates known at its close
    rates = closed_rates(stores.rates, ended_at(days[1])) if closed else RateBook(stores.rates)
    revenue = period_revenue(
        stores, version.distributor_id, commitment.basis, version.currency,
        commitment.period, days, rates,
    )  # fmt: skip
    gaps: dict[str, Decimal] = {}
    for gap in revenue.unconverted:
        gaps[gap.currency] = gaps.get(gap.currency, Decimal(0)) + gap.amount
    per_currency = tuple(
        Unconverted(amount, currency, version.currency, first)
        for currency, amount in sorted(gaps.items())
    )
    return commitment_progress(commitment, period, revenue, closed), per_currency


def _units(
    stores: ChannelStores, distributor: str, commitment: VolumeCommitment, first: date
) -> int:
    """Units of the commitment's basis in its period: a month's or quarters' totals."""
    if commitment.period == "month":
        keys = [period_bucket_key(distributor, "month", period_key(first, "month"))]
    else:
        quarters = quarters_of(period_key(first, commitment.period))
        keys = [period_bucket_key(distributor, "quarter", quarter) for quarter in quarters]
    total = 0
    for key in keys:
        bucket = stores.periods.get(key)
        if bucket is not None:
            total += bucket.sell_in if commitment.basis == "sell_in" else bucket.sell_through
    return total


def _row(
    version: AgreementVersion,
    commitment: VolumeCommitment,
    days: tuple[date, date],
    closed: bool,
    found: CommitmentProgress,
    gaps: tuple[Unconverted, ...],
    now: datetime,
) -> Row:
    first, last = days
    currency = version.currency if commitment.measure == "revenue" else None
    return {
        "distributor_id": version.distributor_id,
        "agreement_id": version.agreement_id,
        "version_id": version.version_id,
        "as_of": utc(now).date().isoformat(),
        "period": period_key(first, commitment.period),
        "period_start": first.isoformat(),
        "period_end": last.isoformat(),
        "closed": closed,
        "basis": commitment.basis,
        "measure": commitment.measure,
        "currency": currency,
        "minimum": _number(commitment.minimum, currency),
        "volume": _number(found.volume, currency),
        "progress": str(found.progress),
        "status": found.status,
        "shortfall": None if found.shortfall is None else _number(found.shortfall, currency),
        "unconverted": [{"currency": gap.currency, "amount": str(gap.amount)} for gap in gaps],
    }


def _number(value: Decimal, currency: str | None) -> str:
    """An amount in `currency` to its minor unit; a units figure (no currency) as it is."""
    return str(value) if currency is None else str(round_money(value, currency))
