"""Exchange rates: the rate in effect, a rate missing then arriving, stale and inverted
rates, corrections as known at a close, and totals mixing currencies, by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.currency import Converted, MoneyItem, Unconverted, convert, total_in
from projections.exchange_rates import RateBook, RateMonth, apply_rate, rate_key, rate_on
from projections.positions import Position
from tests.unit.agreement_events import at, book, rate

D = Decimal
MAY_4, MAY_6, MAY_7 = date(2026, 5, 4), date(2026, 5, 6), date(2026, 5, 7)


EUR_USD = rate("EUR", "USD", "1.0842", MAY_4, n=1)
GBP_USD = rate("GBP", "USD", "1.2650", MAY_7, n=2)


def test_a_missing_rate_is_unconverted_until_it_arrives() -> None:
    empty = RateBook({})
    assert convert(D("1000.00"), "EUR", "USD", MAY_6, empty) == Unconverted(
        D("1000.00"), "EUR", "USD", MAY_6
    )
    arrived = convert(D("1000.00"), "EUR", "USD", MAY_6, RateBook(book(EUR_USD)))
    assert isinstance(arrived, Converted)
    assert arrived.amount == D("1084.2000") and arrived.currency == "USD"
    assert arrived.rate is not None and arrived.rate.event_id == EUR_USD.event_id


def test_a_total_mixing_currencies_names_its_rates_and_its_gaps() -> None:
    """500.00 USD + 1,000.00 EUR on May 6 + 200.00 GBP on May 7, in USD."""
    items = [
        MoneyItem(D("500.00"), "USD", MAY_6),
        MoneyItem(D("1000.00"), "EUR", MAY_6),
        MoneyItem(D("200.00"), "GBP", MAY_7),
    ]
    partial = total_in("USD", items, RateBook(book(EUR_USD)))
    assert partial.converted == D("1584.20") and partial.total is None and not partial.complete
    assert partial.unconverted == (Unconverted(D("200.00"), "GBP", "USD", MAY_7),)
    assert partial.rate_event_ids == (EUR_USD.event_id,)
    whole = total_in("USD", items, RateBook(book(EUR_USD, GBP_USD)))
    assert whole.total == D("1837.20")  # 500.00 + 1,084.20 + 253.00
    assert whole.rate_event_ids == tuple(sorted([EUR_USD.event_id, GBP_USD.event_id]))


def test_unconverted_amounts_are_summed_per_currency_and_day() -> None:
    items = [
        MoneyItem(D("1.10"), "JPY", MAY_6),
        MoneyItem(D("2.20"), "JPY", MAY_6),
        MoneyItem(D("5"), "JPY", MAY_7),
    ]
    gaps = total_in("USD", items, RateBook({})).unconverted
    assert [(gap.amount, gap.on) for gap in gaps] == [(D("3.30"), MAY_6), (D("5"), MAY_7)]


def test_the_sum_is_rounded_once() -> None:
    """Three 0.01 at 1.5: 0.045 exactly, 0.05 rounded once (0.06 if each were rounded)."""
    items = [MoneyItem(D("0.01"), "EUR", MAY_6)] * 3
    assert total_in("USD", items, RateBook(book(rate("EUR", "USD", "1.5", MAY_4)))).total == D(
        "0.05"
    )


def test_the_rate_in_effect_is_the_latest_on_or_before_the_day() -> None:
    months = book(EUR_USD, rate("EUR", "USD", "1.0900", date(2026, 5, 8), n=3))
    assert rate_on(months, "EUR", "USD", MAY_7).rate == D("1.0842")  # type: ignore[union-attr]
    assert rate_on(months, "EUR", "USD", date(2026, 5, 8)).rate == D("1.0900")  # type: ignore[union-attr]
    assert rate_on(months, "EUR", "USD", date(2026, 5, 3)) is None


def test_a_rate_older_than_31_days_is_stale() -> None:
    """A rate effective April 1 still converts on May 2 (31 days), not on May 3."""
    months = book(rate("EUR", "USD", "1.07", date(2026, 4, 1)))
    assert rate_on(months, "EUR", "USD", date(2026, 5, 2)) is not None
    assert rate_on(months, "EUR", "USD", date(2026, 5, 3)) is None
    january = book(rate("EUR", "USD", "1.03", date(2026, 1, 31)))  # across February to March
    assert rate_on(january, "EUR", "USD", date(2026, 3, 3)) is not None
    assert rate_on(january, "EUR", "USD", date(2026, 3, 4)) is None


def test_a_rate_converts_the_other_way_by_dividing() -> None:
    months = book(rate("EUR", "USD", "1.25", MAY_4))
    back = convert(D("100.00"), "USD", "EUR", MAY_6, RateBook(months))
    assert isinstance(back, Converted) and back.amount == D("80.00")
    assert back.rate is not None and back.rate.inverted and back.rate.from_currency == "EUR"
    both = book(rate("EUR", "USD", "1.25", MAY_4), rate("USD", "EUR", "0.79", MAY_4, n=2))
    direct = rate_on(both, "USD", "EUR", MAY_6)
    assert direct is not None and not direct.inverted and direct.rate == D("0.79")
    assert rate_on(months, "EUR", "GBP", MAY_6) is None  # no cross rate through USD


def test_a_correction_wins_except_for_what_closed_before_it() -> None:
    corrected = rate("EUR", "USD", "1.0850", MAY_4, n=5, published_at=at(MAY_7, 9))
    months = book(EUR_USD, corrected)
    assert rate_on(months, "EUR", "USD", MAY_6).rate == D("1.0850")  # type: ignore[union-attr]
    closed = at(MAY_6, 23)
    assert rate_on(months, "EUR", "USD", MAY_6, known_at=closed).rate == D("1.0842")  # type: ignore[union-attr]
    assert RateBook(months, closed)("EUR", "USD", MAY_6).event_id == EUR_USD.event_id  # type: ignore[union-attr]


def test_duplicates_and_redeliveries_change_nothing() -> None:
    key = rate_key("EUR", "USD", MAY_4)
    month = book(EUR_USD)[key]
    resent = rate("EUR", "USD", "1.0842", MAY_4, n=9)  # same content, new envelope
    assert apply_rate(month, resent, at(MAY_7), None) is month
    placed = apply_rate(None, EUR_USD, at(MAY_4), Position("rates:0", 5))
    assert (
        apply_rate(
            placed,
            GBP_USD.model_copy(update={"from_currency": "EUR"}),
            at(MAY_7),
            Position("rates:0", 5),
        )
        is placed
    )
    assert RateMonth.from_json(placed.to_json()) == placed


@given(st.permutations(range(4)))
def test_publications_in_any_order_give_the_same_history(order: list[int]) -> None:
    events = [
        rate(
            "EUR",
            "USD",
            f"1.0{n}",
            MAY_4 + timedelta(days=n % 2),
            n=n,
            published_at=at(MAY_7, 8 + n),
        )
        for n in range(4)
    ]
    assert book(*(events[i] for i in order)) == book(*events)
