"""A card's money in another currency than its own, converted when the card is read
(docs/SCORECARD.md, "Currency").

A card keeps what came in another currency as tallies per (currency, day): the revenue per
basis, and for the margin the sell-through revenue and cost of the lines whose cost is
known. Reading converts each tally at its day's rate (`RateBook`, as the reader says),
exact, and rounds it half-up once, to the minor unit of the card's currency; a tally
whose day has no rate yet adds nothing but its lines to `other_currency_lines` (the
margin's: to `unknown_cost_lines` when only the cost has no rate), never a guessed amount.
So a rate arriving after the lines converts them, and the figures do not depend on
whether the rate or the lines came first. A read costs the card's tallies: at most its
days times the currencies it saw.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from domain.currency import Converted, RateLookup, convert, round_money
from projections.scorecard import Scorecard


def in_card_currency(card: Scorecard, rates: RateLookup) -> Scorecard:
    """`card` with its tallies in other currencies converted at their days' `rates`."""
    if not card.foreign_revenue and not card.foreign_margin:
        return card
    revenue = {"sell_in": card.sell_in_revenue, "sell_through": card.sell_through_revenue}
    waiting, unknown_cost = card.other_currency_lines, card.unknown_cost_lines
    for key, (amount, lines, no_cost) in card.foreign_revenue.items():
        basis, currency, day = key.split("|")
        converted = _converted(amount, currency, card.currency, day, rates)
        if converted is None:
            waiting += lines
        else:
            revenue[basis] += converted
            unknown_cost += no_cost
    margin_revenue, margin_cost = card.margin_revenue, card.margin_cost
    for key, (sold, cost, lines) in card.foreign_margin.items():
        currency, cost_currency, day = key.split("|")
        sold_in = _converted(sold, currency, card.currency, day, rates)
        if sold_in is None:
            continue  # its lines wait in `other_currency_lines`
        cost_in = _converted(cost, cost_currency, card.currency, day, rates)
        if cost_in is None:
            unknown_cost += lines
        else:
            margin_revenue += sold_in
            margin_cost += cost_in
    return replace(
        card,
        sell_in_revenue=revenue["sell_in"],
        sell_through_revenue=revenue["sell_through"],
        margin_revenue=margin_revenue,
        margin_cost=margin_cost,
        unknown_cost_lines=unknown_cost,
        other_currency_lines=waiting,
        foreign_revenue={},
        foreign_margin={},
    )


def _converted(
    amount: Decimal, currency: str, target: str, day: str, rates: RateLookup
) -> Decimal | None:
    """`amount` in `target` at `day`'s rate, to `target`'s minor unit; None: no rate."""
    if currency == target:
        return amount
    found = convert(amount, currency, target, date.fromisoformat(day), rates)
    if not isinstance(found, Converted):
        return None
    return round_money(found.amount, target)
