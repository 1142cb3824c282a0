"""Ship-and-debit decisions: the worked example and every reason, computed by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.claim_rules import (
    ADJUSTMENTS,
    REJECTIONS,
    LineDecision,
    claim_aggregate_id,
    claim_fingerprint,
    claim_key,
    debit_amount,
)
from domain.identity import sale_key
from tests.unit.claim_events import (
    RECORDED,
    SOLD,
    Channel,
    authorization,
    book_price,
    claim,
    example_channel,
    line,
    outcome_of,
    sale,
    uid,
)

D = Decimal


def only(decisions: list[LineDecision]) -> LineDecision:
    assert len(decisions) == 1
    return decisions[0]


def test_worked_example() -> None:
    """C1: T1 60 → accepted 1,800.00; T2 50 → 40 units, 1,200.00 (cap_partial); T3 10 →
    wrong_reseller. A second claim of T1 → already_claimed."""
    channel = example_channel()
    first = channel.claim(claim("C1", line(1, "T1", 60), line(2, "T2", 50), line(3, "T3", 10)))
    assert [outcome_of(d) for d in first] == [
        ("accepted", (), 60, D("1800.00")),
        ("adjusted", ("cap_partial",), 40, D("1200.00")),
        ("rejected", ("wrong_reseller",), 0, D("0.00")),
    ]
    again = only(channel.claim(claim("C2", line(1, "T1", 60))))
    assert outcome_of(again) == ("rejected", ("already_claimed",), 0, D("0.00"))
    assert channel.authorizations["A1"].units_taken == 100
    assert channel.authorizations["A1"].cap_left == 0


def test_the_decision_names_what_decided_it() -> None:
    channel = example_channel()
    decision = only(channel.claim(claim("C1", line(1, "T1", 60))))
    assert decision.book_cost == D("100.00") and decision.authorized_cost == D("70.00")
    assert decision.authorization_event_id == uid(1001)
    assert decision.price_event_id == channel.prices["X"].entries[0].event_id
    assert decision.pos_event_id == channel.sales[sale_key("D1", "T1")].event_id


def test_unknown_authorization() -> None:
    decision = only(example_channel().claim(claim("C1", line(1, "T1", 60, authorization_id="A9"))))
    assert outcome_of(decision) == ("rejected", ("unknown_authorization",), 0, D("0.00"))


def test_a_line_not_covered_is_decided_by_the_authorization_alone() -> None:
    """Whether its POS line has arrived is no part of it: the same decision, no POS or
    price lineage, whenever the line is checked (a two-phase line held back is checked
    after the POS line may have come)."""
    claimed = claim("C1", line(1, "T9", 5, authorization_id="A9"))
    before = only(example_channel().claim(claimed))
    sold = example_channel()
    sold.sell(sale("T9", 5))
    after = only(sold.claim(claimed))
    assert before == after
    assert (after.pos_event_id, after.price_event_id, after.book_cost) == (None, None, None)


def test_distributor_not_covered() -> None:
    channel = example_channel()
    channel.sell(sale("T1", 60, distributor_id="D2"))
    decision = only(channel.claim(claim("C1", line(1, "T1", 60), distributor_id="D2")))
    assert decision.reasons == ("wrong_distributor",)


def test_sku_not_covered() -> None:
    decision = only(example_channel().claim(claim("C1", line(1, "T1", 60, sku="Y"))))
    assert decision.reasons == ("wrong_sku",)


def test_sku_differs_from_the_pos_line() -> None:
    channel = Channel().authorize(authorization(skus=["X", "Y"])).price(book_price())
    channel.sell(sale("T1", 60, sku="Y"))
    decision = only(channel.claim(claim("C1", line(1, "T1", 60))))
    assert decision.reasons == ("sku_mismatch",)


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "reason"),
    [
        (date(2026, 4, 7), date(2026, 6, 30), "not_yet_valid"),
        (date(2026, 3, 1), date(2026, 4, 5), "expired"),
    ],
)
def test_sold_outside_validity(valid_from: date, valid_to: date, reason: str) -> None:
    channel = Channel().authorize(authorization(valid_from=valid_from, valid_to=valid_to))
    channel.price(book_price()).sell(sale("T1", 60))
    assert only(channel.claim(claim("C1", line(1, "T1", 60)))).reasons == (reason,)


def test_validity_days_are_inclusive() -> None:
    day = SOLD.date()
    channel = Channel().authorize(authorization(valid_from=day, valid_to=day))
    channel.price(book_price()).sell(sale("T1", 60))
    assert only(channel.claim(claim("C1", line(1, "T1", 60)))).status == "accepted"


def test_end_customer_differs() -> None:
    channel = Channel().authorize(authorization(reseller_id=None, end_customer="EC-1"))
    channel.price(book_price()).sell(sale("T1", 60, end_customer="EC-2"), sale("T2", 5))
    decisions = channel.claim(claim("C1", line(1, "T1", 60), line(2, "T2", 5)))
    assert [d.reasons for d in decisions] == [("wrong_end_customer",), ("wrong_end_customer",)]


def test_a_return_line_is_never_claimed() -> None:
    channel = Channel().authorize(authorization()).price(book_price())
    channel.sell(sale("T1", -5))
    assert only(channel.claim(claim("C1", line(1, "T1", 5)))).reasons == ("return_line",)


@pytest.mark.parametrize("where", ["line", "pos"])
def test_currency_differs(where: str) -> None:
    channel = Channel().authorize(authorization()).price(book_price())
    channel.sell(sale("T1", 60, currency="EUR" if where == "pos" else "USD"))
    currency = "EUR" if where == "line" else "USD"
    decision = only(channel.claim(claim("C1", line(1, "T1", 60, currency=currency))))
    assert decision.reasons == ("currency_mismatch",)


def test_no_book_cost_in_effect() -> None:
    channel = Channel().authorize(authorization()).price(book_price(currency="EUR"))
    channel.sell(sale("T1", 60))
    assert only(channel.claim(claim("C1", line(1, "T1", 60)))).reasons == ("no_book_cost",)


def test_the_distributor_cost_is_the_book_cost() -> None:
    """A distributor-specific cost governs its claims; a reseller-specific one does not."""
    channel = (
        Channel()
        .authorize(authorization())
        .price(
            book_price(),
            book_price("90.00", event_id=uid(9001), distributor_id="D1"),
            book_price("80.00", event_id=uid(9002), distributor_id="D1", reseller_id="R9"),
        )
    )
    channel.sell(sale("T1", 10))
    decision = only(
        channel.claim(claim("C1", line(1, "T1", 10, amount="200.00", cost_paid=D("90.00"))))
    )
    assert outcome_of(decision) == ("accepted", (), 10, D("200.00"))


def test_quantity_above_the_pos_line_is_reduced() -> None:
    decision = only(example_channel().claim(claim("C1", line(1, "T3", 15, sku="X"))))
    assert decision.reasons == ("wrong_reseller",)  # the order: reseller before quantity
    channel = example_channel()
    decision = only(channel.claim(claim("C1", line(1, "T1", 70))))
    assert outcome_of(decision) == ("adjusted", ("quantity_reduced",), 60, D("1800.00"))


def test_two_lines_of_one_claim_share_the_pos_line() -> None:
    channel = example_channel()
    decisions = channel.claim(claim("C1", line(1, "T1", 40), line(2, "T1", 40)))
    assert [outcome_of(d) for d in decisions] == [
        ("accepted", (), 40, D("1200.00")),
        ("adjusted", ("quantity_reduced",), 20, D("600.00")),
    ]


def test_cap_exhausted() -> None:
    channel = Channel().authorize(authorization(quantity_cap=60)).price(book_price())
    channel.sell(sale("T1", 60), sale("T2", 50))
    decisions = channel.claim(claim("C1", line(1, "T1", 60), line(2, "T2", 50)))
    assert [d.reasons for d in decisions] == [(), ("cap_exhausted",)]


def test_cap_counted_across_distributors() -> None:
    channel = Channel().authorize(authorization(distributor_ids=["D1", "D2"], quantity_cap=80))
    channel.price(book_price()).sell(sale("T1", 60), sale("T1", 60, distributor_id="D2"))
    first = only(channel.claim(claim("C1", line(1, "T1", 60))))
    second = only(channel.claim(claim("C1", line(1, "T1", 60), distributor_id="D2")))
    assert outcome_of(first) == ("accepted", (), 60, D("1800.00"))
    assert outcome_of(second) == ("adjusted", ("cap_partial",), 20, D("600.00"))


def test_no_cap_means_no_limit() -> None:
    channel = Channel().authorize(authorization(quantity_cap=None)).price(book_price())
    channel.sell(sale("T1", 60), sale("T2", 50))
    decisions = channel.claim(claim("C1", line(1, "T1", 60), line(2, "T2", 50)))
    assert [d.status for d in decisions] == ["accepted", "accepted"]
    assert channel.authorizations["A1"].cap_left is None


def test_no_debit_due() -> None:
    channel = Channel().authorize(authorization()).price(book_price("70.00"))
    channel.sell(sale("T1", 10))
    decision = only(channel.claim(claim("C1", line(1, "T1", 10))))
    assert outcome_of(decision) == ("rejected", ("no_debit_due",), 0, D("0.00"))
    assert channel.authorizations["A1"].units_taken == 0


def test_cost_corrected() -> None:
    """Claimed 105.00 paid against 70.00: the book says 100.00, so 10 × 30.00."""
    channel = example_channel()
    claimed = line(1, "T1", 10, amount="350.00", cost_paid=D("105.00"))
    decision = only(channel.claim(claim("C1", claimed)))
    assert outcome_of(decision) == ("adjusted", ("cost_corrected",), 10, D("300.00"))


def test_amount_corrected() -> None:
    decision = only(example_channel().claim(claim("C1", line(1, "T1", 10, amount="310.00"))))
    assert outcome_of(decision) == ("adjusted", ("amount_corrected",), 10, D("300.00"))


def test_pending_until_the_pos_line_arrives() -> None:
    channel = Channel().authorize(authorization()).price(book_price())
    pending = only(channel.claim(claim("C1", line(1, "T1", 60))))
    assert (pending.status, pending.reasons) == ("pending_pos", ("pending_pos",))
    assert channel.authorizations["A1"].units_taken == 0
    decided = only(channel.sell(sale("T1", 60)))
    assert outcome_of(decided) == ("accepted", (), 60, D("1800.00"))
    assert channel.pos_claims[sale_key("D1", "T1")].pending == ()


def test_pending_lines_take_the_cap_when_their_pos_line_arrives() -> None:
    """C1's line waits; C2's line is decided first and takes the cap."""
    channel = Channel().authorize(authorization(quantity_cap=60)).price(book_price())
    channel.sell(sale("T2", 50))
    assert only(channel.claim(claim("C1", line(1, "T1", 30)))).status == "pending_pos"
    assert only(channel.claim(claim("C2", line(1, "T2", 50)))).status == "accepted"
    late = only(channel.sell(sale("T1", 60)))
    assert outcome_of(late) == ("adjusted", ("cap_partial",), 10, D("300.00"))


def test_pending_expires_after_the_wait() -> None:
    channel = Channel().authorize(authorization()).price(book_price())
    channel.claim(claim("C1", line(1, "T1", 60)))
    assert channel.expire("D1", "T1", RECORDED + timedelta(days=29, hours=23)) == []
    expired = only(channel.expire("D1", "T1", RECORDED + timedelta(days=30)))
    assert outcome_of(expired) == ("rejected", ("no_pos_line",), 0, D("0.00"))
    assert channel.sell(sale("T1", 60)) == []  # nothing waits any more


def test_the_wait_is_configurable() -> None:
    channel = Channel().authorize(authorization()).price(book_price())
    channel.claim(claim("C1", line(1, "T1", 60)))
    expired = channel.expire("D1", "T1", RECORDED + timedelta(days=2), wait=timedelta(days=2))
    assert only(expired).reasons == ("no_pos_line",)


def test_a_reversed_pos_line_reopens_its_claim_line() -> None:
    channel = example_channel()
    channel.claim(claim("C1", line(1, "T1", 60)))
    outcome = channel.reverse("D1", "T1")
    assert [(ref.claim_id, ref.line.line_no) for ref in outcome.reopened] == [("C1", 1)]
    assert channel.authorizations["A1"].units_taken == 0
    corrected = only(channel.sell(sale("T1", 55, n=1)))
    assert outcome_of(corrected) == ("adjusted", ("quantity_reduced",), 55, D("1650.00"))


def test_reversing_a_line_nobody_claimed_reopens_nothing() -> None:
    channel = example_channel()
    assert channel.reverse("D1", "T2").reopened == []


def test_a_later_claim_never_revises_a_decision() -> None:
    channel = example_channel()
    first = channel.claim(claim("C1", line(1, "T1", 60)))
    channel.claim(claim("C2", line(1, "T1", 60)))
    assert channel.decisions[0] == first[0] and first[0].status == "accepted"


def test_claims_recorded_together_are_decided_by_claim_id() -> None:
    channel = Channel().authorize(authorization(quantity_cap=50)).price(book_price())
    channel.sell(sale("T1", 60), sale("T2", 50))
    decisions = channel.claim(claim("C2", line(1, "T2", 50)), claim("C1", line(1, "T1", 50)))
    assert [(d.claim_id, d.status) for d in decisions] == [("C1", "accepted"), ("C2", "rejected")]


def test_amounts_round_half_up_to_the_currencys_minor_unit() -> None:
    assert debit_amount(D("10.005"), D("0"), 1, "USD") == D("10.01")
    assert debit_amount(D("100.00"), D("70.00"), 3, "USD") == D("90.00")
    assert str(debit_amount(D("10.50"), D("0"), 1, "JPY")) == "11"
    assert str(debit_amount(D("1.0005"), D("0"), 1, "KWD")) == "1.001"


def test_claim_keys_and_resends() -> None:
    first = claim("C1", line(1, "T1", 60))
    resent = claim("C1", line(1, "T1", 60), n=5)
    assert first.event_id != resent.event_id
    later = resent.model_copy(update={"submitted_at": RECORDED + timedelta(days=1)})
    assert claim_fingerprint(first) == claim_fingerprint(resent) == claim_fingerprint(later)
    written_otherwise = claim("C1", line(1, "T1", 60, amount="1800.0"))
    assert claim_fingerprint(written_otherwise) == claim_fingerprint(first)
    reordered = claim("C1", line(2, "T2", 5), line(1, "T1", 60))
    assert claim_fingerprint(reordered) == claim_fingerprint(
        claim("C1", line(1, "T1", 60), line(2, "T2", 5))
    )
    for other in (claim("C1", line(1, "T1", 61)), claim("C2", line(1, "T1", 60)),
                  claim("C1", line(1, "T1", 60), distributor_id="D2")):  # fmt: skip
        assert claim_fingerprint(other) != claim_fingerprint(first)
    assert claim_key("D1", "C1") == "claim|D1|C1"
    assert claim_aggregate_id("D1", "C1") == claim_aggregate_id("D1", "C1")
    assert claim_aggregate_id("D1", "C1") != claim_aggregate_id("D2", "C1")


def test_reason_lists_are_the_documented_ones() -> None:
    assert REJECTIONS[:3] == ("unknown_authorization", "wrong_distributor", "wrong_sku")
    assert REJECTIONS[-3:] == ("already_claimed", "cap_exhausted", "no_debit_due")
    assert set(ADJUSTMENTS) == {
        "quantity_reduced",
        "cap_partial",
        "cost_corrected",
        "amount_corrected",
    }
