"""Properties of the scorecard: built incrementally it equals the figures computed from
scratch, whatever the order of its inputs and however they are split (with the cards
stored as JSON in between)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.scorecard import (
    Judged,
    Moved,
    RebateStanding,
    Scorecard,
    ScorecardInput,
    Standing,
    WeekReported,
    apply_inputs,
    periods_of,
)
from projections.scorecard_rows import card_row

START = date(2026, 6, 20)
days = st.integers(0, 40).map(lambda n: START + timedelta(days=n))
times = st.integers(0, 40 * 24).map(
    lambda h: datetime(2026, 6, 20, tzinfo=UTC) + timedelta(hours=h)
)
distributors = st.sampled_from(["D1", "D2"])
cents = st.integers(-50_000, 500_000).map(lambda n: Decimal(n).scaleb(-2))

moves = st.builds(
    Moved, distributors, days, st.sampled_from(["sell_in", "sell_through"]),
    st.integers(-5, 50), cents, st.sampled_from(["USD", "USD", "EUR"]), st.none() | cents,
)  # fmt: skip
judged = st.builds(
    Judged, distributors, days, st.sampled_from(["accepted", "duplicate", "conflict", "rejected"]),
    st.sampled_from([None, None, "minor", "major", "critical"]),
)  # fmt: skip
weeks = st.builds(
    WeekReported, distributors,
    st.integers(0, 5).map(lambda n: date(2026, 6, 22) + timedelta(weeks=n)),
    st.sampled_from(["on_time", "late", "missing"]), times,
)  # fmt: skip
standings = st.builds(
    Standing, distributors, times, st.none() | st.integers(0, 200).map(lambda n: Decimal(n) / 10),
    st.integers(0, 90),
)  # fmt: skip
rebates = st.builds(
    RebateStanding, distributors, st.sampled_from(["P1", "P2"]), times, st.integers(0, 3),
    st.just(3),
)  # fmt: skip
inputs = st.lists(st.one_of(moves, judged, weeks, standings, rebates), max_size=60)


def incremental(facts: list[ScorecardInput], cards: dict[str, Scorecard] | None = None) -> dict:
    cards = dict(cards or {})
    for fact in facts:
        cards.update(apply_inputs(cards, [fact], None, "USD"))
    return cards


def from_scratch(facts: list[ScorecardInput]) -> dict[str, dict]:
    """The figures each card should hold, computed directly from the list."""
    found: dict[str, dict] = {}
    for fact in facts:
        for period in periods_of(fact):
            card = found.setdefault(f"{fact.distributor_id}|{period}", _empty())
            _count(card, fact)
    return found


def _empty() -> dict:
    return {"units": Counter(), "revenue": Counter(), "verdicts": Counter(), "severity": Counter(),
            "weeks": {}, "standing": None, "rebates": {}}  # fmt: skip


def _count(card: dict, fact: ScorecardInput) -> None:
    if isinstance(fact, Moved):
        card["units"][fact.basis] += fact.units
        if fact.currency == "USD":
            card["revenue"][fact.basis] += fact.revenue
    elif isinstance(fact, Judged):
        card["verdicts"][fact.verdict] += 1
        if fact.severity:
            card["severity"][fact.severity] += 1
    elif isinstance(fact, WeekReported):
        known = card["weeks"].get(fact.week)
        if known is None or (fact.as_of, fact.status) > known:
            card["weeks"][fact.week] = (fact.as_of, fact.status)
    elif isinstance(fact, Standing):
        if card["standing"] is None or fact.as_of > card["standing"].as_of:
            card["standing"] = fact
    elif isinstance(fact, RebateStanding):
        known = card["rebates"].get(fact.program_id)
        if known is None or fact.as_of > known.as_of:
            card["rebates"][fact.program_id] = fact


def _figures(card: Scorecard) -> dict:
    return {
        "units": Counter({"sell_in": card.sell_in_units, "sell_through": card.sell_through_units}),
        "revenue": Counter(
            {"sell_in": card.sell_in_revenue, "sell_through": card.sell_through_revenue}
        ),
        "verdicts": Counter(card.verdicts),
        "severity": Counter(card.violations),
        "weeks": {date.fromisoformat(w): seen for w, seen in card.weeks.items()},
        "as_of": None if card.standing is None else card.standing.as_of,
        "rebates": {p: r.as_of for p, r in card.rebates.items()},
    }


def _expected(card: dict) -> dict:
    standing = card["standing"]
    return {
        "units": card["units"],
        "revenue": card["revenue"],
        "verdicts": card["verdicts"],
        "severity": card["severity"],
        "weeks": card["weeks"],
        "as_of": None if standing is None else standing.as_of,
        "rebates": {p: r.as_of for p, r in card["rebates"].items()},
    }


@settings(max_examples=150)
@given(inputs)
def test_incremental_equals_from_scratch(facts) -> None:
    cards = incremental(facts)
    expected = from_scratch(facts)
    assert set(cards) == set(expected)
    for key, card in cards.items():
        # Counter equality ignores zero counts, as a card's figures do
        assert _figures(card) == _expected(expected[key]), key


@settings(max_examples=150)
@given(inputs, st.randoms(), st.integers(0, 60))
def test_order_and_splitting_do_not_matter(facts, random, cut) -> None:
    whole = incremental(facts)
    shuffled = list(facts)
    random.shuffle(shuffled)
    stored = {k: Scorecard.from_json(v.to_json()) for k, v in incremental(shuffled[:cut]).items()}
    assert incremental(shuffled[cut:], stored) == whole
    assert {k: card_row(v, None) for k, v in whole.items()} == {
        k: card_row(Scorecard.from_json(v.to_json()), None) for k, v in whole.items()
    }


@settings(max_examples=150)
@given(inputs)
def test_facts_folded_together_equal_one_at_a_time(facts) -> None:
    """One input's facts fold together (the alike ones added up first, `combined`) into the
    cards they make one at a time."""
    assert apply_inputs({}, facts, None, "USD") == incremental(facts)
