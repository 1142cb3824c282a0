"""The distributor scorecard: a hand-computed month and quarter, ranking and share, the score's
configuration, and positions (docs/SCORECARD.md)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.scorecard_score import (
    ScoreConfig,
    ScoreInputs,
    configured_score,
    parts,
    weighted_score,
)
from projections.positions import Position
from projections.scorecard import (
    Judged,
    Moved,
    RebateStanding,
    Scorecard,
    ScorecardInput,
    Standing,
    WeekReported,
    apply_inputs,
)
from projections.scorecard_rows import card_row, ranking
from tests.unit.party_events import targets


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}T18:00:00+00:00")


def feed(facts: Iterable[ScorecardInput], cards: dict[str, Scorecard] | None = None) -> dict:
    cards = dict(cards or {})
    for fact in facts:
        cards.update(apply_inputs(cards, [fact], None, "USD"))
    return cards


def d1_july() -> list[ScorecardInput]:
    july = date(2026, 7, 10)
    facts: list[ScorecardInput] = [
        Moved("D1", date(2026, 7, 3), "sell_in", 100, Decimal("8000.00"), "USD"),
        Moved("D1", july, "sell_through", 40, Decimal("4000.00"), "USD", Decimal("3200.00")),
        Moved("D1", date(2026, 7, 20), "sell_through", 10, Decimal("1000.00"), "USD"),
        Moved("D1", date(2026, 7, 22), "sell_through", 5, Decimal("500.00"), "EUR"),
    ]
    facts += [Judged("D1", july, "accepted") for _ in range(78)]
    facts += [Judged("D1", july, "accepted", "major"), Judged("D1", july, "accepted", "minor")]
    facts += [Judged("D1", july, "duplicate") for _ in range(10)]
    facts += [Judged("D1", july, "rejected") for _ in range(10)]
    facts += [
        WeekReported("D1", date(2026, 6, 29), "on_time", at("2026-07-01")),  # June's Monday
        WeekReported("D1", date(2026, 7, 6), "on_time", at("2026-07-14")),
        WeekReported("D1", date(2026, 7, 13), "late", at("2026-07-23")),
        WeekReported("D1", date(2026, 7, 20), "missing", at("2026-07-30")),
        WeekReported("D1", date(2026, 7, 20), "late", at("2026-08-01")),  # arrived after all
        WeekReported("D1", date(2026, 7, 27), "missing", at("2026-08-06")),
        Standing("D1", at("2026-07-31"), Decimal("9.0"), 42),
        Standing("D1", at("2026-07-15"), Decimal("12.0"), 30),  # older: the other stands
        RebateStanding("D1", "P1", at("2026-07-31"), 1, 3, Decimal("250000"), Decimal("10000")),
        RebateStanding("D1", "P2", at("2026-07-31"), 2, 2),
        targets(
            "D1", "2026-07", sell_through_revenue="10000.00", currency="USD",
            reseller_population=60, weeks_of_supply_min="4.0", weeks_of_supply_max="8.0",
        ),
    ]  # fmt: skip
    return facts


def d2_july() -> list[ScorecardInput]:
    day = date(2026, 7, 14)
    return [
        Moved("D2", day, "sell_through", 100, Decimal("15000.00"), "USD"),
        *(Judged("D2", day, "accepted") for _ in range(100)),
    ]


#: D1's July card, computed by hand
D1_JULY_CARD = {
    "distributor_id": "D1",
    "period": "2026-07",
    "currency": "USD",
    "sell_in_units": 100,
    "sell_in_revenue": "8000.00",
    "sell_through_units": 55,  # the EUR line's units count, its revenue does not
    "sell_through_revenue": "5000.00",
    "share_of_channel_revenue": "0.2500",  # 5,000 of 20,000
    "gross_margin": "800.00",  # 4,000.00 − 3,200.00: the line with a known cost
    "gross_margin_rate": "0.2000",
    "unknown_cost_lines": 1,
    "weeks_of_supply": "9.0",
    "weeks_on_time": 1,
    "weeks_late": 2,
    "weeks_missing": 1,
    "accepted_lines": 80,
    "duplicate_lines": 10,
    "conflict_lines": 0,
    "rejected_lines": 10,
    "accepted_rate": "0.8000",
    "duplicate_rate": "0.1000",
    "conflict_rate": "0.0000",
    "rejected_rate": "0.1000",
    "minor_per_1000": "12.50",  # 1 × 1,000 ÷ 80 accepted lines
    "major_per_1000": "12.50",
    "critical_per_1000": "0.00",
    "active_resellers": 42,
    "reseller_target": 60,
    "revenue_target": "10000.00",
    "rebates": [
        {
            "program_id": "P1",
            "tiers_reached": 1,
            "tiers": 3,
            "next_threshold": "250000",
            "gap_to_next": "10000",
        },
        {
            "program_id": "P2",
            "tiers_reached": 2,
            "tiers": 2,
            "next_threshold": None,
            "gap_to_next": None,
        },
    ],
    "other_currency_lines": 1,
    "parts": {
        "sell_through": "0.5000",  # 5,000 ÷ 10,000
        "inventory": "0.8889",  # 9.0 weeks above the 4–8 band: 8 ÷ 9
        "timeliness": "0.5000",  # (1 + 0.5 × 2 late) ÷ 4 weeks due
        "data_quality": "0.8000",  # 80 ÷ 100 lines
        "pricing": "0.5000",  # (1 + 3) × 1,000 ÷ 80 = 50 weighted per 1,000, of 100
        "resellers": "0.7000",  # 42 ÷ 60
        "rebates": "0.6667",  # (1/3 + 2/2) ÷ 2
    },
    # 100 × (.25×.5 + .10×.8889 + .15×.5 + .15×.8 + .15×.5 + .10×.7 + .10×.6667) = 62.056
    "score": "62.1",
    "rank": 2,
}


def test_a_month_equals_the_hand_computed_card() -> None:
    cards = feed([*d1_july(), *d2_july()])
    july = ranking([cards["D1|2026-07"], cards["D2|2026-07"]])
    d2, d1 = july
    assert (d2["distributor_id"], d2["rank"], d2["score"]) == ("D2", 1, "100.0")
    assert d1 == D1_JULY_CARD


def test_the_quarter_sums_its_months_and_scores_without_a_months_targets() -> None:
    cards = feed(d1_july())
    row = card_row(cards["D1|2026-Q3"], None)
    assert (row["sell_through_revenue"], row["weeks_on_time"]) == ("5000.00", 1)
    assert row["share_of_channel_revenue"] is None
    assert "sell_through" not in row["parts"] and "resellers" not in row["parts"]
    # (.10×.8889 + .15×.5 + .15×.8 + .15×.5 + .10×.6667) ÷ .65 = 0.65471
    assert row["score"] == "65.5"
    june = card_row(cards["D1|2026-06"], None)
    assert (june["weeks_on_time"], june["score"]) == (1, "100.0")


def test_a_later_target_replaces_only_the_targets_it_gives() -> None:
    first = targets("D1", "2026-07", reseller_population=60, n=1)
    later = targets(
        "D1", "2026-07", sell_through_revenue="9000.00", currency="USD", n=2,
        set_at=datetime(2026, 7, 2, tzinfo=UTC),
    )  # fmt: skip
    for order in ([first, later], [later, first]):
        row = card_row(feed(order)["D1|2026-07"], None)
        assert (row["reseller_target"], row["revenue_target"]) == (60, "9000.00")


def test_a_revenue_target_in_another_currency_is_no_target() -> None:
    goal = targets("D1", "2026-07", sell_through_revenue="10.00", currency="EUR")
    row = card_row(feed([goal])["D1|2026-07"], None)
    assert row["revenue_target"] is None and row["score"] is None


def test_an_input_applied_already_changes_nothing() -> None:
    position = Position("sales:0", 7)
    fact = Moved("D1", date(2026, 7, 3), "sell_in", 5, Decimal("50.00"), "USD")
    cards = apply_inputs({}, [fact, fact], position, "USD")
    assert cards["D1|2026-07"].sell_in_units == 10  # one input's facts under one position
    assert apply_inputs(cards, [fact], position, "USD") == {}


def test_a_ranking_is_of_one_period_and_shares_equal_ranks() -> None:
    cards = feed([*d2_july(), *(f for f in d2_july() if isinstance(f, Judged))])
    with pytest.raises(ValueError, match="one period"):
        ranking([cards["D2|2026-07"], cards["D2|2026-Q3"]])
    twin = Scorecard("D3", "2026-07", "USD", verdicts={"accepted": 5})
    rows = ranking([cards["D2|2026-07"], twin])
    assert [(row["distributor_id"], row["rank"]) for row in rows] == [("D2", 1), ("D3", 1)]


def test_the_weights_are_configuration() -> None:
    inputs = ScoreInputs(verdicts={"accepted": 9, "rejected": 1}, weeks_of_supply=Decimal(2))
    present = parts(inputs)
    assert present == {"data_quality": Decimal("0.9000"), "inventory": Decimal("0.5000"),
                       "pricing": Decimal("1.0000")}  # fmt: skip
    # (.15×.9 + .10×.5 + .15×1) ÷ .40 = 0.8375
    assert weighted_score(present) == Decimal("83.8")
    only_quality = ScoreConfig(
        weights={name: Decimal(name == "data_quality") for name in ScoreConfig().weights}
    )
    assert weighted_score(present, only_quality) == Decimal("90.0")
    with pytest.raises(ValueError, match="weights"):
        ScoreConfig(weights={"data_quality": Decimal(1)})
    assert weighted_score({}) is None


def test_a_card_round_trips_through_json() -> None:
    card = feed(d1_july())["D1|2026-07"]
    assert Scorecard.from_json(card.to_json()) == card


def test_the_score_settings_are_read_from_text() -> None:
    config = configured_score("pricing=0.3, rebates=0", "critical=20", "50", "0.25", "2-6")
    assert config.weights["pricing"] == Decimal("0.3") and config.weights["rebates"] == 0
    assert config.weights["sell_through"] == ScoreConfig().weights["sell_through"]
    assert config.severity_weights == {"minor": 1, "major": 3, "critical": 20}
    assert (config.violation_tolerance, config.late_credit) == (50, Decimal("0.25"))
    assert config.weeks_band == (2, 6)
    assert configured_score() == ScoreConfig()
    for given, problem in [
        ({"weights": "price=1"}, "'price' is not one of"),
        ({"weights": "pricing"}, "write name=number"),
        ({"weights": "pricing=abc"}, "not a number"),
        ({"weights": "pricing=NaN"}, "not a finite number"),
        ({"weights": "pricing=-1"}, "none negative"),
        ({"severity_weights": "blocker=2"}, "'blocker' is not one of minor, major, critical"),
        ({"severity_weights": "minor=-1"}, "no severity weight is negative"),
        ({"violation_tolerance": "0"}, "violation_tolerance > 0"),
        ({"late_credit": "1.5"}, "late_credit <= 1"),
        ({"weeks_band": "8"}, "low-high"),
        ({"weeks_band": "8-4"}, "0 < low <= high"),
    ]:
        with pytest.raises(ValueError, match=problem):
            configured_score(**given)


def test_every_part_is_written_to_four_places() -> None:
    """A part at its bound (in the band, a target reached, no tier, pricing spent) is written
    as the others are: the CSV's column reads 1.0000 and 0.0000, never 1 beside 0.9962."""
    bounds = ScoreInputs(
        verdicts={"accepted": 10},
        violations={"critical": 10},
        weeks_of_supply=Decimal(6),
        sell_through_revenue=Decimal(500),
        revenue_target=Decimal(100),
        rebate_tiers=((0, 3),),
    )
    written = {name: str(value) for name, value in parts(bounds).items()}
    assert written == {"sell_through": "1.0000", "inventory": "1.0000", "data_quality": "1.0000",
                       "pricing": "0.0000", "rebates": "0.0000"}  # fmt: skip
