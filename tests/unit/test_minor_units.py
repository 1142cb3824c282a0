"""Money rounded to its currency's ISO 4217 minor unit (docs/DESIGN.md, "Money and its
minor unit"): JPY to the yen, KWD to the fils, USD to the cent as always; a replay of a
channel in JPY or KWD equals live, statements and claims alike."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.currency import minor_unit, round_money
from domain.price_protection import PriceProtection
from domain.rebate_statement import RebateStatement
from domain.rebates import adjustment, compute_rebate
from projections.price_protection_claims import price_protection_amount
from schemas.currencies import ISO_4217, MINOR_UNITS
from schemas.events import Envelope, RebatePeriodClosed, RebateProgramDefined
from streams.audit.verify import audit_differences
from streams.generator import generate_channel
from streams.runners.embedded import EmbeddedChannel
from tests.unit.channel_cases import replayed_file
from tests.unit.rebate_cases import revenue_inputs, terms

CURRENCIES = st.sampled_from(sorted(ISO_4217))
AMOUNTS = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=6, allow_nan=False
)


def places(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    return -exponent


def test_the_table_has_every_currency_and_the_exponents_iso_gives() -> None:
    assert set(MINOR_UNITS) == ISO_4217
    assert [MINOR_UNITS[c] for c in ("USD", "EUR", "JPY", "KRW", "KWD", "BHD", "TND")] == [
        2, 2, 0, 0, 3, 3, 3,
    ]  # fmt: skip
    assert minor_unit("JPY") == Decimal("1") and minor_unit("KWD") == Decimal("0.001")


@given(AMOUNTS, CURRENCIES)
def test_a_rounded_amount_has_exactly_its_currencys_places_and_is_the_nearest(
    amount: Decimal, currency: str
) -> None:
    rounded = round_money(amount, currency)
    assert places(rounded) == MINOR_UNITS[currency]
    unit = minor_unit(currency)
    assert abs(rounded - amount) <= unit / 2
    if abs(rounded - amount) == unit / 2:  # a tie goes away from zero
        assert abs(rounded) > abs(amount)


@given(AMOUNTS, CURRENCIES, st.sampled_from([1, 3, 9]))
def test_rounding_keeps_every_digit_whatever_the_callers_decimal_context(
    amount: Decimal, currency: str, precision: int
) -> None:
    """The exact context is passed to the rounding, not taken from the thread: a caller
    with a short precision (or another rounding) gets what everyone else gets."""
    expected = round_money(amount, currency)
    with localcontext(prec=precision, rounding="ROUND_DOWN"):
        assert str(round_money(amount, currency)) == str(expected)


@given(AMOUNTS, st.sampled_from(sorted(c for c, n in MINOR_UNITS.items() if n == 2)))
def test_a_two_place_currency_gives_exactly_the_old_cents(amount: Decimal, currency: str) -> None:
    with localcontext(prec=60):
        cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert str(round_money(amount, currency)) == str(cents)


@given(
    st.decimals(min_value=Decimal("-50000"), max_value=Decimal("900000"), places=4),
    st.sampled_from(["retroactive", "incremental"]),
)
def test_a_rebate_in_jpy_is_whole_yen_and_in_kwd_whole_fils(revenue: Decimal, mode: str) -> None:
    usd = compute_rebate(terms(tier_mode=mode), revenue_inputs(revenue), closed=True)
    jpy = compute_rebate(
        terms(tier_mode=mode, currency="JPY"), revenue_inputs(revenue), closed=True
    )
    kwd = compute_rebate(
        terms(tier_mode=mode, currency="KWD"), revenue_inputs(revenue), closed=True
    )
    assert (places(usd.rebate), places(jpy.rebate), places(kwd.rebate)) == (2, 0, 3)
    assert abs(jpy.rebate - kwd.rebate) <= Decimal("0.5") + Decimal("0.0005")
    assert places(adjustment(kwd.rebate, jpy)) == 0  # a late return's, in yen


def test_amounts_of_nothing_carry_their_currencys_places() -> None:
    assert str(price_protection_amount(Decimal("10"), Decimal("9.5"), 0, "JPY")) == "0"
    assert str(price_protection_amount(Decimal("10"), Decimal("9.5"), 3, "JPY")) == "2"  # 1.5
    assert str(price_protection_amount(Decimal("10"), Decimal("9.9995"), 1, "KWD")) == "0.001"


# --- a channel in JPY or KWD, live and replayed ------------------------------------------------


def in_currency(events: list[Envelope], currency: str) -> list[Envelope]:
    """The generated channel with every amount in `currency` (the figures as they are: a
    JPY price with decimals is still a price; only results are rounded)."""
    return [
        event.model_copy(update={"currency": currency}) if hasattr(event, "currency") else event
        for event in events
    ]


CLOSED_AT = datetime(2026, 10, 1, tzinfo=UTC)
LATE = datetime(2026, 10, 5, tzinfo=UTC)


def closes(events: list[Envelope]) -> list[RebatePeriodClosed]:
    """Q3 of every program closed on October 1."""
    programs = sorted({e.program_id for e in events if isinstance(e, RebateProgramDefined)})
    return [
        RebatePeriodClosed(
            event_id=uuid5(NAMESPACE_URL, f"close|{program}"),
            occurred_at=CLOSED_AT,
            source="erp",
            program_id=program,
            period="2026-Q3",
            closed_at=CLOSED_AT,
            closed_by="finance",
        )
        for program in programs
    ]


def with_late_lines(events: list[Envelope], every: int) -> list[Envelope]:
    """Every `every`-th sale recorded after the close, October 5: an adjustment each."""
    sales = [e for e in events if e.event_type == "SaleReported"]
    late = {id(sale) for sale in sales[::every]}
    return [e.model_copy(update={"recorded_at": LATE}) if id(e) in late else e for e in events]


def by_time(events: list[Envelope]) -> list[Envelope]:
    return sorted(events, key=lambda e: e.recorded_at or e.business_time)


def money_of(channel: EmbeddedChannel) -> list[tuple[str, Decimal]]:
    """Every recorded rebate and price-protection amount, named."""
    found: list[tuple[str, Decimal]] = []
    for originator_id in channel.audit.aggregate_ids():
        fact: Any = channel.audit.repository.get(originator_id)
        if isinstance(fact, RebateStatement):
            found.append((f"rebate {fact.key}", fact.rebate))
            found += [(f"adjustment {fact.key}", a.amount) for a in fact.adjustments]
        elif isinstance(fact, PriceProtection):
            found.append((f"protection {fact.sku}", fact.amount))
    return found


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=1, max_value=10_000),
    st.sampled_from(["JPY", "KWD"]),
    st.integers(min_value=40, max_value=400),
)
def test_a_replay_of_a_channel_in_jpy_or_kwd_equals_live(
    tmp_path_factory: Any, seed: int, currency: str, every: int
) -> None:
    """A generated channel (two distributors, ten weeks to mid-September) in `currency`, Q3
    closed on October 1 and some of its sales recorded after: live and a replay record
    the same statements, adjustments and claims, each amount to the currency's unit."""
    generated = generate_channel(
        seed=seed, distributors=2, skus=6, resellers_per_distributor=4, weeks=10
    )
    events = with_late_lines(in_currency(generated, currency), every)
    events = by_time([*events, *closes(generated)])
    live = EmbeddedChannel()
    live.feed_events(events)
    replay = replayed_file(Path(tmp_path_factory.mktemp("replay")), events)
    at = datetime(2026, 10, 10, tzinfo=UTC)
    assert replay.snapshot(at) == live.snapshot(at)
    verified, differences = audit_differences(replay.audit, live.audit)
    assert differences == [] and verified > 0
    amounts = money_of(live)
    assert any(name.startswith("rebate") for name, _ in amounts)
    assert any(name.startswith("adjustment") for name, _ in amounts)
    unit = {"JPY": 0, "KWD": 3}[currency]
    assert all(places(amount) == unit for _, amount in amounts), amounts
    snapshot = live.snapshot(at)
    written = [Decimal(row["rebate"]) for row in snapshot["rebates"]]
    written += [Decimal(row["amount"]) for row in snapshot["price_protection"]]
    written += [Decimal(row["value"]) for row in snapshot["inventory"] if row["value"]]
    assert written and all(places(amount) == unit for amount in written), written
