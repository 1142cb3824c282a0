"""Reading the distributor scorecard: a period's cards, completed at "now" (docs/SCORECARD.md).

The stored cards hold what events tell (movements, verdicts, targets). What depends on
"now" is added when the cards are read, never stored, so a read as of a time answers the
same on the live system and on a replay:

- money in another currency than the card's, converted at each day's rate as recorded by
  the as-of time asked for (none: every rate held) (`projections.scorecard_currency`);

- the reporting periods (weekly or monthly, on the distributor's calendar) whose first day
  is in the period, with their status at "now" (report compliance,
  `projections.report_compliance`: a period is missing once its due date and grace passed);
- the standing (`projections.scorecard_standing`): for the period holding "now" (its month
  and its quarter), at "now": weeks of supply, active resellers (a sale in the 90 days to
  "now"), each open rebate program's tier and gap; for a period that has ended, the same
  at its end, computed from what is kept by day.

Costs what a period's cards and their distributors' reports, stock, resellers and programs
hold, over the period's days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from domain.rebate_programs import period_bounds
from domain.scorecard_score import DEFAULT_SCORE, ScoreConfig
from domain.timeutil import utc
from projections.distributor_reads import compliance_of, distributors
from projections.exchange_rates import RateBook
from projections.rebate_accruals import Accrual, accruals
from projections.scorecard import (
    Scorecard,
    ScorecardInput,
    WeekReported,
    apply_inputs,
    card_key,
    month_and_quarter,
)
from projections.scorecard_currency import in_card_currency
from projections.scorecard_feed import SCORECARD_CURRENCY
from projections.scorecard_rows import card_row
from projections.scorecard_standing import (
    period_end,
    period_first_day,
    standing_at_end,
    standing_now,
)
from projections.stores import ChannelStores


def period_cards(
    stores: ChannelStores,
    period: str,
    now: datetime | None,
    wanted: Iterable[str] | None = None,
    as_of: datetime | None = None,
) -> list[Scorecard]:
    """The period's card of each distributor `wanted` (default: every one with lines),
    completed at `now`, its other currencies at the rates recorded by `as_of` (None: every
    rate held; "now" is the clock of the partitions held, which the rates' own topic does
    not move); a distributor with nothing in the period has an empty card."""
    names = sorted(set(distributors(stores)) if wanted is None else set(wanted))
    programs = _open_accruals(stores, names, now, {period})
    rates = RateBook(stores.rates, as_of)
    return [
        _completed(
            stores, [in_card_currency(_stored(stores, name, period), rates)], now,
            programs.get(name, []),
        )[0]
        for name in names
    ]  # fmt: skip


def every_card(
    stores: ChannelStores, now: datetime | None, as_of: datetime | None = None
) -> list[Scorecard]:
    """Every card stored, completed at `now` (rates as in `period_cards`), by distributor
    then period."""
    by_distributor: dict[str, list[Scorecard]] = {}
    rates = RateBook(stores.rates, as_of)
    for card in stores.scorecards.values():
        by_distributor.setdefault(card.distributor_id, []).append(in_card_currency(card, rates))
    names = sorted(by_distributor)
    periods = {card.period for cards in by_distributor.values() for card in cards}
    programs = _open_accruals(stores, names, now, periods)
    return [
        card
        for name in names
        for card in _completed(
            stores, sorted(by_distributor[name], key=_period_order), now, programs.get(name, [])
        )
    ]


def scorecard_rows(
    stores: ChannelStores,
    now: datetime | None,
    as_of: datetime | None = None,
    score: ScoreConfig = DEFAULT_SCORE,
) -> list[dict[str, Any]]:
    """The snapshot's and the read model's rows: every card stored, completed at `now`
    (no rank, no share of channel revenue: those are a ranking's)."""
    return [card_row(card, None, score) for card in every_card(stores, now, as_of)]


def _period_order(card: Scorecard) -> str:
    return card.period


def _stored(stores: ChannelStores, distributor: str, period: str) -> Scorecard:
    key = card_key(distributor, period)
    return stores.scorecards.get(key) or Scorecard(distributor, period, SCORECARD_CURRENCY)


def _completed(
    stores: ChannelStores, cards: list[Scorecard], now: datetime | None, programs: list[Accrual]
) -> list[Scorecard]:
    """One distributor's `cards` with its report weeks at `now` and its standing: at `now`
    in the periods that hold it, at its end in a period that has ended."""
    if now is None or not cards:
        return cards
    distributor = cards[0].distributor_id
    since = min(period_first_day(card.period) for card in cards)
    facts: list[ScorecardInput] = list(_weeks(stores, distributor, now, since))
    if {card.period for card in cards} & set(_periods_holding(now)):
        facts.extend(standing_now(stores, distributor, now, programs))
    known = {card_key(card.distributor_id, card.period): card for card in cards}
    changed = apply_inputs(known, facts, None, SCORECARD_CURRENCY)
    return [_at_its_end(stores, changed.get(key, card), now) for key, card in known.items()]


def _at_its_end(stores: ChannelStores, card: Scorecard, now: datetime) -> Scorecard:
    """An ended period's card with the standing at its end (applied to it alone: the month
    ending with a quarter's end stands at the same instant, but a month ending earlier
    must not give its standing to the quarter)."""
    if utc(now) < period_end(card.period):
        return card
    key = card_key(card.distributor_id, card.period)
    end = standing_at_end(stores, card.distributor_id, card.period)
    return apply_inputs({key: card}, end, None, SCORECARD_CURRENCY).get(key, card)


def _weeks(
    stores: ChannelStores, distributor: str, now: datetime, since: date
) -> list[WeekReported]:
    """The report periods touching `since` or later (the cards' first day) at `now`."""
    return [
        WeekReported(distributor, found.period.first, found.status, now)
        for found in compliance_of(stores, distributor, now, since)
    ]


def _periods_holding(now: datetime) -> tuple[str, str]:
    return month_and_quarter(utc(now).date())


def _open_accruals(
    stores: ChannelStores, names: list[str], now: datetime | None, periods: set[str]
) -> dict[str, list[Accrual]]:
    """Each named distributor's accruals of the open program periods holding "now" (none
    when no period asked for holds it)."""
    found: dict[str, list[Accrual]] = {}
    if now is None or not periods & set(_periods_holding(now)):
        return found
    open_now = accruals(
        stores.programs.values(), stores.rebate_sources(), names, stores.closed_periods, True
    )
    for accrual in open_now:
        start, end = period_bounds(accrual.period)
        if start <= utc(now) < end:
            found.setdefault(accrual.distributor_id, []).append(accrual)
    return found
