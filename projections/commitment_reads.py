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
  revenue from the rebate quarter buckets over all SKUs (a year is its quarters), in the
  agreement's currency. Revenue in another currency is listed unconverted, per currency,
  never guessed (the quarter buckets cannot convert each line at its day's rate), so the
  commitment is `unconverted` unless what is in its own currency already meets it. A
  month's revenue is `untracked`: no state keeps revenue per month yet.

A distributor's rows read at most 4 buckets per period, whatever the history.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from domain.agreements import AgreementVersion, covers_whole_period
from domain.calendar_periods import PeriodKind, month_after, period_key
from domain.currency import MixedTotal, Unconverted
from domain.obligations import CommitmentProgress, commitment_progress
from domain.reporting_schedule import ended_at
from domain.timeutil import utc
from projections.agreement_reads import timelines_in_scope
from projections.agreement_timeline import AgreementTimeline
from projections.rebate_accruals import quarters_of
from projections.rebate_buckets import ALL_SKUS, bucket_key
from projections.stores import ChannelStores
from projections.tallies import period_bucket_key
from schemas.agreements import VolumeCommitment

Row = dict[str, Any]
PERIOD_KINDS: Final[tuple[PeriodKind, ...]] = ("month", "quarter", "year")
_CENT: Final = Decimal("0.01")


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
                found, gaps = _judged(stores, version, commitment, first, closed)
                rows.append(_row(version, commitment, (first, last), closed, found, gaps, now))
    return rows


def _judged(
    stores: ChannelStores,
    version: AgreementVersion,
    commitment: VolumeCommitment,
    first: date,
    closed: bool,
) -> tuple[CommitmentProgress | None, tuple[Unconverted, ...]]:
    """The commitment's progress (None when its volume is not kept: a month's revenue)
    and the revenue left unconverted."""
    period = period_key(first, commitment.period)
    distributor = version.distributor_id
    if commitment.measure == "units":
        units = Decimal(_units(stores, distributor, commitment, first))
        return commitment_progress(commitment, period, units, closed), ()
    if commitment.period == "month":
        return None, ()
    revenue: dict[str, Decimal] = {}
    for quarter in quarters_of(period):
        bucket = stores.rebate_buckets.get(
            bucket_key(distributor, commitment.basis, ALL_SKUS, quarter)
        )
        for currency, tally in ({} if bucket is None else bucket.by_currency).items():
            revenue[currency] = revenue.get(currency, Decimal(0)) + tally.revenue
    own = revenue.pop(version.currency, Decimal(0)).quantize(_CENT, ROUND_HALF_UP)
    gaps = tuple(
        Unconverted(amount.quantize(_CENT, ROUND_HALF_UP), currency, version.currency, first)
        for currency, amount in sorted(revenue.items())
        if amount
    )
    volume = MixedTotal(version.currency, own, (), gaps)
    return commitment_progress(commitment, period, volume, closed), gaps


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
    found: CommitmentProgress | None,
    gaps: tuple[Unconverted, ...],
    now: datetime,
) -> Row:
    first, last = days
    revenue = commitment.measure == "revenue"
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
        "currency": version.currency if revenue else None,
        "minimum": _number(commitment.minimum, revenue),
        "volume": None if found is None else _number(found.volume, revenue),
        "progress": None if found is None else str(found.progress),
        "status": "untracked" if found is None else found.status,
        "shortfall": None
        if found is None or found.shortfall is None
        else _number(found.shortfall, revenue),
        "unconverted": [{"currency": gap.currency, "amount": str(gap.amount)} for gap in gaps],
    }


def _number(value: Decimal, revenue: bool) -> str:
    return str(value.quantize(_CENT, ROUND_HALF_UP)) if revenue else str(value)
