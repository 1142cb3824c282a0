"""Stock rotation decisions by hand: the allowance used request by request, every reason,
values converted at the request's rate, and the return shipment expected."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.currency import MixedTotal, Unconverted
from domain.stock_rotation import REASONS, rotation_key
from projections.stock_rotations import RotationLedger
from tests.unit.agreement_events import book, rate, rotation, signed
from tests.unit.rotation_channel import Rotations, price, rotations

D = Decimal
MAY_20 = date(2026, 5, 20)


def test_rotations_use_the_allowance_until_one_goes_over() -> None:
    """R1 returns 40 X = 800.00: accepted. R2, 15 X = 300.00: 800.00 + 300.00 > 1,000.00,
    over the allowance. R3, 10 X = 200.00: exactly the 1,000.00, accepted."""
    channel = rotations()
    first = channel.decide(rotation("R1", {"X": 40}))
    assert (first.status, first.return_value, first.allowance, first.used_before) == (
        "accepted",
        D("800.00"),
        D("1000.00"),
        D("0.00"),
    )
    assert first.period == "2026-Q2" and first.currency == "USD"
    assert first.agreement_event_id == signed().event_id
    assert first.price_event_ids == (price("X", "20.00").event_id,)
    expected = first.expected_return
    assert (
        expected is not None and expected.lines == (("X", -40),) and expected.value == D("800.00")
    )
    assert first.expected_exchange is None
    second = channel.decide(rotation("R2", {"X": 15}, n=2))
    assert (second.status, second.reasons, second.used_before) == (
        "rejected",
        ("over_allowance",),
        D("800.00"),
    )
    assert second.problems[0].detail == "returns 300.00 with 800.00 used of an allowance of 1000.00"
    assert second.expected_return is None
    third = channel.decide(rotation("R3", {"X": 10}, n=3))
    assert third.status == "accepted"
    assert channel.ledgers["D1|2026-Q2"].used == D("1000.00")
    assert channel.ledgers["D1|2026-Q2"].requests == ("R1", "R3")


def test_the_allowance_starts_again_each_rotation_period() -> None:
    channel = rotations()
    channel.ledgers["D1|2026-Q1"] = RotationLedger("D1", "2026-Q1", D("1000.00"), ("R0",))
    assert channel.decide(rotation("R1", {"X": 40})).status == "accepted"


def test_more_than_held() -> None:
    decision = rotations(rotation_allowance="1").decide(rotation("R1", {"X": 130}))
    assert (
        decision.reasons == ("more_than_held",)
        and decision.problems[0].detail == "returns 130, holds 120"
    )


def test_returned_units_are_the_oldest_held_and_must_be_old_enough() -> None:
    """Min age 60 on May 20: the 70 of Jan 15 are 125 days old, those of May 1 19 days."""
    channel = rotations(rotation_allowance="1", rotation_min_age_days=60)
    assert channel.decide(rotation("R1", {"X": 70})).status == "accepted"
    young = rotations(rotation_allowance="1", rotation_min_age_days=60).decide(
        rotation("R2", {"X": 80})
    )
    assert young.reasons == ("too_young",)


def test_returned_units_may_not_be_older_than_the_agreement_allows() -> None:
    decision = rotations(rotation_allowance="1", rotation_max_age_days=100).decide(
        rotation("R1", {"X": 5})
    )
    assert decision.reasons == ("too_old",) and decision.problems[0].sku == "X"


def test_unknown_skus_and_skus_without_a_cost() -> None:
    decision = rotations().decide(rotation("R1", {"Q": 1, "W": 1}, {"Q2": 1}))
    assert [(p.reason, p.side, p.sku) for p in decision.problems] == [
        ("unknown_sku", "returns", "Q"),
        ("more_than_held", "returns", "W"),  # none held
        ("no_cost", "returns", "W"),
        ("unknown_sku", "orders", "Q2"),
    ]


def test_values_in_another_currency_need_the_day_s_rate() -> None:
    """Y costs 25.00 EUR: without a EUR → USD rate it is unconverted; at 1.10 a unit is
    27.50 USD, and 10 ordered (275.00) do not offset 40 X returned (800.00)."""
    channel = rotations(rotation_requires_exchange=True)
    missing = channel.decide(rotation("R1", {"X": 40}, {"Y": 10}))
    assert missing.reasons == ("unconverted", "exchange_short")
    assert missing.problems[0].detail == "no EUR → USD rate on 2026-05-20"
    channel.rates = book(rate("EUR", "USD", "1.10", date(2026, 5, 18)))
    short = channel.decide(rotation("R1", {"X": 40}, {"Y": 10}))
    assert (short.reasons, short.order_value) == (("exchange_short",), D("275.00"))
    assert short.rate_event_ids == (rate("EUR", "USD", "1.10", date(2026, 5, 18)).event_id,)
    enough = channel.decide(rotation("R1", {"X": 40}, {"Y": 30}))
    assert enough.status == "accepted" and enough.order_value == D("825.00")
    assert enough.expected_exchange is not None and enough.expected_exchange.lines == (("Y", 30),)
    assert enough.expected_return is not None
    assert enough.expected_exchange.shipment_id != enough.expected_return.shipment_id


def test_unconverted_purchases_leave_the_allowance_unknown() -> None:
    channel = rotations()
    channel.purchases = MixedTotal(
        "USD", D("10000.00"), (), (Unconverted(D("50"), "GBP", "USD", MAY_20),)
    )
    decision = channel.decide(rotation("R1", {"X": 1}))
    assert decision.reasons == ("purchases_unconverted",) and decision.allowance is None


def test_no_agreement_in_effect() -> None:
    assert Rotations(None).decide(rotation("R1", {"X": 1})).reasons == ("no_agreement",)
    before = rotations().decide(rotation("R1", {"X": 1}, day=date(2025, 12, 20)))
    assert before.reasons == ("no_agreement",) and before.period is None


def test_every_problem_is_named_at_once() -> None:
    decision = rotations().decide(rotation("R1", {"X": 130, "Q": 1}))
    assert decision.reasons == ("unknown_sku", "more_than_held", "over_allowance")
    assert set(decision.reasons) <= set(REASONS)


def test_the_request_key() -> None:
    assert rotation_key("D1", "R1") == "rotation|D1|R1"


@given(st.lists(st.integers(1, 60), min_size=1, max_size=8))
def test_the_allowance_is_never_exceeded_and_a_replay_decides_alike(quantities: list[int]) -> None:
    requests = [rotation(f"R{n}", {"X": units}, n=n) for n, units in enumerate(quantities)]
    live, replay = rotations(), rotations()
    decided = [live.decide(request) for request in requests]
    assert [replay.decide(request) for request in requests] == decided
    accepted = sum((d.return_value for d in decided if d.status == "accepted"), D(0))
    ledger = live.ledgers.get("D1|2026-Q2")
    assert accepted == (ledger.used if ledger else 0) and accepted <= D("1000.00")
    for decision in decided:
        if decision.status == "rejected":
            assert "over_allowance" in decision.reasons or "more_than_held" in decision.reasons


def test_a_redelivered_request_is_counted_once() -> None:
    """The caller decides each request key once; should it come again, the ledger, which
    holds the request already, does not count it a second time."""
    channel = rotations()
    request = rotation("R1", {"X": 10})
    assert channel.decide(request).used_before == D("0.00")
    assert channel.decide(request).used_before == D("200.00")
    assert channel.ledgers["D1|2026-Q2"].used == D("200.00")


def test_units_an_accepted_rotation_returns_are_not_available_to_another() -> None:
    """R1 returns 100 of the 120 held: until they are shipped back, R2 finds 20."""
    channel = rotations(rotation_allowance="1")
    assert channel.decide(rotation("R1", {"X": 100})).status == "accepted"
    second = channel.decide(rotation("R2", {"X": 30}, n=2))
    assert (
        second.reasons == ("more_than_held",)
        and second.problems[0].detail == "returns 30, holds 20"
    )


@given(
    st.lists(st.integers(1, 60), min_size=1, max_size=6).flatmap(
        lambda drawn: st.tuples(st.just(drawn), st.permutations(range(len(drawn))))
    )
)
def test_requests_recorded_together_are_decided_by_request_id(
    drawn: tuple[list[int], list[int]],
) -> None:
    """Whatever order requests recorded at one time come in, the same ones are accepted."""
    quantities, order = drawn
    requests = [rotation(f"R{n}", {"X": units}, n=n) for n, units in enumerate(quantities)]
    in_order = rotations().decide_all(*requests)
    shuffled = rotations().decide_all(*(requests[i] for i in order))
    assert sorted(in_order, key=lambda d: d.request_id) == sorted(
        shuffled, key=lambda d: d.request_id
    )
    assert [d.request_id for d in shuffled] == sorted(d.request_id for d in shuffled)


def test_the_ledger_round_trips_through_json() -> None:
    channel = rotations()
    channel.decide(rotation("R1", {"X": 10}))
    ledger = channel.ledgers["D1|2026-Q2"]
    assert RotationLedger.from_json(ledger.to_json()) == ledger


def test_purchases_in_another_currency_than_the_agreement_are_a_caller_error() -> None:
    channel = rotations()
    channel.purchases = MixedTotal("EUR", D("10000.00"), (), ())
    with pytest.raises(ValueError, match="purchases in EUR, the agreement is in USD"):
        channel.decide(rotation("R1", {"X": 1}))
