"""A card's money in other currencies (docs/SCORECARD.md, "Currency"): kept per (card,
currency, day), converted when read at each day's rate, rounded once per day; a rate
arriving after the lines converts them, so the card does not depend on which came first."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.channel import apply_event
from projections.exchange_rates import RateBook
from projections.scorecard import Moved, Scorecard, apply_inputs
from projections.scorecard_currency import in_card_currency
from projections.scorecard_reads import period_cards
from projections.scorecard_rows import card_row
from projections.stores import ChannelStores
from schemas.envelope import Envelope
from tests.unit.agreement_events import book, rate
from tests.unit.catalog import catalog_stores
from tests.unit.channel_cases import sale
from tests.unit.price_events import price

JULY_6 = date(2026, 7, 6)


def folded(*facts: Moved) -> Scorecard:
    cards: dict[str, Scorecard] = {}
    for fact in facts:
        cards.update(apply_inputs(cards, [fact], None, "USD"))
    return cards["D1|2026-07"]


def test_a_days_tally_is_rounded_once() -> None:
    """Three EUR lines of 0.01 at 1.5: 0.045 USD, 0.05 once rounded (0.06 line by line)."""
    card = folded(*(Moved("D1", JULY_6, "sell_in", 1, Decimal("0.01"), "EUR") for _ in range(3)))
    assert card.sell_in_revenue == 0 and card.foreign_revenue == {
        "sell_in|EUR|2026-07-06": (Decimal("0.03"), 3, 0)
    }
    assert card_row(card, None)["other_currency_lines"] == 3  # not converted: waiting
    rates = RateBook(book(rate("EUR", "USD", "1.5", JULY_6)))
    read = in_card_currency(card, rates)
    assert (read.sell_in_revenue, read.sell_in_units, read.other_currency_lines) == (
        Decimal("0.05"),
        3,
        0,
    )


def test_the_margin_needs_both_the_revenues_and_the_costs_rate() -> None:
    """A EUR sale of 100.00 whose cost is 70.00 GBP; another of 50.00 EUR with no cost.
    EUR at 1.10 only: revenue 165.00, the first line's cost unknown; GBP at 1.25 too:
    margin 110.00 − 87.50; no EUR rate: both lines wait."""
    card = folded(
        Moved("D1", JULY_6, "sell_through", 2, Decimal("100.00"), "EUR", Decimal("70.00"), 1,
              "GBP"),
        Moved("D1", JULY_6, "sell_through", 1, Decimal("50.00"), "EUR"),
    )  # fmt: skip
    euros = rate("EUR", "USD", "1.10", JULY_6)
    only_euros = in_card_currency(card, RateBook(book(euros)))
    assert only_euros.sell_through_revenue == Decimal("165.00")
    assert (only_euros.unknown_cost_lines, only_euros.margin_revenue) == (2, 0)
    both = in_card_currency(card, RateBook(book(euros, rate("GBP", "USD", "1.25", JULY_6, n=2))))
    assert (both.margin_revenue, both.margin_cost) == (Decimal("110.00"), Decimal("87.50"))
    assert both.unknown_cost_lines == 1  # the line of no cost
    none = in_card_currency(card, RateBook(book()))
    assert (none.sell_through_revenue, none.other_currency_lines, none.unknown_cost_lines) == (
        0,
        2,
        0,
    )


def test_the_tallies_are_stored_and_read_back() -> None:
    card = folded(
        Moved("D1", JULY_6, "sell_through", 2, Decimal("100.00"), "EUR", Decimal("70.00"), 1,
              "USD"),
    )  # fmt: skip
    assert Scorecard.from_json(card.to_json()) == card
    assert card.foreign_margin == {"EUR|USD|2026-07-06": (Decimal("100.00"), Decimal("70.00"), 1)}


LINES = st.lists(
    st.tuples(
        st.sampled_from(["USD", "EUR", "GBP"]),
        st.integers(min_value=0, max_value=4),  # days after July 6
        st.integers(min_value=-2, max_value=9),  # units (a return: negative)
        st.sampled_from([Decimal("9.99"), Decimal("10.01"), Decimal("0.33")]),
    ),
    min_size=1,
    max_size=12,
)
RATES = st.lists(
    st.tuples(
        st.sampled_from(["EUR", "GBP"]),
        st.integers(min_value=0, max_value=4),
        st.sampled_from(["1.0842", "1.2650", "0.3333333"]),
    ),
    max_size=4,
    unique_by=lambda r: (r[0], r[1]),
)


def lines_of(specs: list[tuple[str, int, int, Decimal]]) -> list[Envelope]:
    found: list[Envelope] = []
    for n, (currency, offset, units, each) in enumerate(specs, start=1):
        when = datetime.combine(JULY_6 + timedelta(days=offset), datetime.min.time(), UTC)
        when += timedelta(hours=12)
        found.append(
            sale(
                n,
                f"T{n}",
                units or 1,
                unit_price=each,
                currency=currency,
                sold_at=when,
                occurred_at=when,
                recorded_at=when + timedelta(hours=1),
            )
        )
    return found


def rates_of(specs: list[tuple[str, int, str]]) -> list[Envelope]:
    return [
        rate(currency, "USD", value, JULY_6 + timedelta(days=offset), n=50 + n)
        for n, (currency, offset, value) in enumerate(specs)
    ]


def cards_after(events: list[Envelope]) -> list[dict[str, object]]:
    stores: ChannelStores = catalog_stores("SKU-1")
    # a floor no line is below: a line judged before its floor's rate is unpriced instead
    # of compliant (the pricing rule's), which the card counts alike
    apply_event(stores, price(900, cost="7.00", floor="0.01"), None)
    for event in events:
        apply_event(stores, event, None)
    return [card_row(card, None) for card in period_cards(stores, "2026-07", None, ["D01"])]


@settings(max_examples=80)
@given(LINES, RATES, st.randoms(use_true_random=False))
def test_the_card_does_not_depend_on_whether_the_rates_or_the_lines_came_first(
    line_specs: list[tuple[str, int, int, Decimal]],
    rate_specs: list[tuple[str, int, str]],
    shuffle: object,
) -> None:
    lines, rates = lines_of(line_specs), rates_of(rate_specs)
    first = cards_after([*rates, *lines])
    assert cards_after([*lines, *rates]) == first
    mixed = [*lines, *rates]
    shuffle.shuffle(mixed)  # type: ignore[attr-defined]
    assert cards_after(mixed) == first
