"""A distributor's revenue of one basis over a period, in one currency: what agreement
commitments and the stock rotation allowance are measured on (docs/AGREEMENTS.md).

Read from the rebate tallies over all SKUs (`projections/rebate_buckets.py`): a quarter's
(a year's: its quarters') revenue in the wanted currency from the quarter buckets, and each
day's revenue in any other currency from the day tallies (`stores.rebate_days`, read only
for a quarter holding one), converted at that day's rate; a month's revenue from its days.
A day without a rate is left unconverted (`MixedTotal.unconverted`), never guessed. The
cost is at most four quarter buckets and the days of the period, whatever the history.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from domain.calendar_periods import PeriodKind, period_key
from domain.currency import MixedTotal, MoneyItem, RateLookup, total_in
from domain.rebate_programs import period_bounds
from projections.rebate_accruals import quarters_of
from projections.rebate_buckets import ALL_SKUS, bucket_key
from projections.stores import ChannelStores


def period_revenue(
    stores: ChannelStores,
    distributor_id: str,
    basis: str,
    currency: str,
    kind: PeriodKind,
    days: tuple[date, date],
    rates: RateLookup,
) -> MixedTotal:
    """The revenue of `basis` over the period (its first and last day) in `currency`,
    other currencies converted at each day's rate by `rates`."""
    items = _revenue_items(stores, distributor_id, basis, currency, kind, days)
    return total_in(currency, items, rates)


def _revenue_items(
    stores: ChannelStores,
    distributor: str,
    basis: str,
    own: str,
    kind: PeriodKind,
    days: tuple[date, date],
) -> Iterator[MoneyItem]:
    """The period's revenue of the basis over all SKUs, as amounts on their days: a month's
    from its day tallies; a quarter's or a year's in the `own` currency from the
    quarter buckets, and in any other currency from the days of the quarters holding one."""
    if kind == "month":
        yield from _day_items(stores, distributor, basis, days, None)
        return
    for quarter in quarters_of(period_key(days[0], kind)):
        bucket = stores.rebate_buckets.get(bucket_key(distributor, basis, ALL_SKUS, quarter))
        if bucket is None:
            continue
        start, end = period_bounds(quarter)
        mine = bucket.by_currency.get(own)
        if mine is not None:
            yield MoneyItem(mine.revenue, own, start.date())
        if any(currency != own for currency in bucket.by_currency):
            quarter_days = (start.date(), end.date() - timedelta(days=1))
            yield from _day_items(stores, distributor, basis, quarter_days, own)


def _day_items(
    stores: ChannelStores,
    distributor: str,
    basis: str,
    days: tuple[date, date],
    skip: str | None,
) -> Iterator[MoneyItem]:
    """Each day's revenue between the days (inclusive), per currency but `skip`."""
    prefix = bucket_key(distributor, basis, ALL_SKUS, "")
    last = days[1].isoformat()
    for key, bucket in stores.rebate_days.scan(prefix, start=prefix + days[0].isoformat()):
        day = key[len(prefix) :]
        if day > last:
            break
        for currency, tally in bucket.by_currency.items():
            if currency != skip:
                yield MoneyItem(tally.revenue, currency, date.fromisoformat(day))
