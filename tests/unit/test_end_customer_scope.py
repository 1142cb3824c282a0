"""Special price authorizations for an end customer, by identity (docs/IDENTITY.md, "End
customers"): an authorization naming an end customer's master covers the sales to every
alias of it, at each distributor it lists, as the sale's end customer is looked up once
where the sale is judged; a claim line under it is checked against the master its POS line
meant (`wrong_end_customer` otherwise)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.identity import sale_key
from projections.authorizations import terms_of
from projections.channel import apply_event
from projections.claims import pos_from_json, pos_line_of, pos_to_json
from projections.outcome import Outcome
from projections.positions import Position
from projections.price_rules import ViolationDetected
from projections.stores import ChannelStores
from tests.unit.claim_events import authorization, claim, line, line_checked, sale
from tests.unit.party_events import customer_mapped, customer_registered, customer_unmapped
from tests.unit.test_aging_wiring import priced_stores, sold
from tests.unit.test_authorization_wiring import deal
from tests.unit.test_claim_wiring import Feed, decided

D = Decimal

# --- pure --------------------------------------------------------------------------------


def decision_for(end_customer: str | None, master: str | None) -> tuple[str, tuple[str, ...]]:
    """Line 1 claims 10 units of T1, sold to `end_customer` meaning `master`, under A3 for
    end customer EC-M1 (any reseller)."""
    pos = pos_line_of(sale("T1", 10, end_customer=end_customer), None, master)
    return line_checked(authorization("A3", reseller_id=None, end_customer="EC-M1"), pos)


@pytest.mark.parametrize(
    ("end_customer", "master", "expected"),
    [
        ("EC-7", "EC-M1", ("accepted", ())),  # an alias of the master named
        ("EC-8", None, ("rejected", ("wrong_end_customer",))),  # unmapped
        ("EC-7", "EC-M2", ("rejected", ("wrong_end_customer",))),  # another master's alias
        (None, None, ("rejected", ("wrong_end_customer",))),  # names no end customer
        ("EC-M1", None, ("accepted", ())),  # the master's own id
    ],
)
def test_the_line_is_checked_by_the_end_customer_master_the_pos_line_meant(
    end_customer: str | None, master: str | None, expected: tuple[str, tuple[str, ...]]
) -> None:
    assert decision_for(end_customer, master) == expected


def test_a_pos_line_keeps_its_end_customers_master_stored() -> None:
    pos = pos_line_of(sale("T1", 10, end_customer="EC-7"), "M1", "EC-M1")
    assert pos_from_json(pos_to_json(pos)) == pos
    assert pos_from_json(pos_to_json(pos)[:10]) == replace(pos, customer_master=None)


def test_an_authorization_for_an_end_customer_master_covers_its_aliases() -> None:
    terms = terms_of(deal(reseller_id=None, end_customer="EC-M1"))
    sale_of = ("D01", "X", "R5", "EC-7", sold(1, 1, date(2026, 7, 10)).sold_at, "USD")
    assert terms.covers(*sale_of, None, "EC-M1")
    assert not terms.covers(*sale_of, None, None)
    assert not terms.covers(*sale_of, "EC-M1", None)  # a reseller's master is not the same


# --- through the projection --------------------------------------------------------------


def sale_to(stores: ChannelStores, n: int, price: str, end_customer: str, d: str) -> Outcome:
    event = sold(
        n, 1, date(2026, 7, 10), unit_price=D(price), end_customer=end_customer, distributor_id=d
    )
    return apply_event(stores, event, Position("sales:0", n))


def scope_of(outcome: Outcome) -> str | None:
    facts = [fact for fact in outcome.facts if isinstance(fact, ViolationDetected)]
    return str(facts[0].scope) if facts else None


def test_both_distributors_sales_to_the_master_are_judged_under_its_authorization() -> None:
    """X listed at 20.00; SPA-1 lets D01 and D02 sell X to end customer EC-M1 down to 15.00;
    D01's EC-7 and D02's EC-9 mean EC-M1, D01's EC-8 nothing."""
    stores = priced_stores()
    grant = deal(reseller_id=None, end_customer="EC-M1", distributor_ids=["D01", "D02"])
    apply_event(stores, grant, Position("authorizations:0", 0))
    apply_event(stores, customer_registered("EC-M1", "erased"), Position("masters:0", 0))
    assert scope_of(sale_to(stores, 1, "16.00", "EC-7", "D01")) == "list"  # not mapped yet
    apply_event(stores, customer_mapped("D01", "EC-7", "EC-M1"), Position("identity:0", 0))
    apply_event(stores, customer_mapped("D02", "EC-9", "EC-M1", n=101), Position("identity:0", 1))
    assert scope_of(sale_to(stores, 2, "16.00", "EC-7", "D01")) is None  # within the deal
    assert scope_of(sale_to(stores, 3, "16.00", "EC-9", "D02")) is None  # at D02 too
    assert scope_of(sale_to(stores, 4, "14.00", "EC-9", "D02")) == "authorization"
    assert scope_of(sale_to(stores, 5, "16.00", "EC-8", "D01")) == "list"  # unmapped
    stored = stores.pos_lines.get(sale_key("D02", "T3"))
    assert stored is not None and stored.customer_master == "EC-M1"


@pytest.fixture
def feed() -> Feed:
    """A3 for end customer EC-M1 (any reseller), EC-M1 registered, D1's EC-7 mapped to it."""
    feed = Feed()
    feed.send("authorizations", authorization("A3", n=3, reseller_id=None, end_customer="EC-M1"))
    feed.send("masters", customer_registered("EC-M1", "erased"))
    feed.send("identity", customer_mapped("D1", "EC-7", "EC-M1"))
    return feed


def claimed(feed: Feed, claim_id: str, transaction_id: str, units: int) -> list[Any]:
    return decided(
        feed.claim(claim(claim_id, line(1, transaction_id, units, authorization_id="A3")))
    )


def test_a_sale_to_a_mapped_end_customer_is_claimed_under_its_masters_authorization(
    feed: Feed,
) -> None:
    feed.sell(sale("T1", 60, end_customer="EC-7"), sale("T2", 10, end_customer="EC-8"))
    assert claimed(feed, "C1", "T1", 60) == [("accepted", (), 60, D("1800.00"))]
    assert claimed(feed, "C2", "T2", 10) == [("rejected", ("wrong_end_customer",), 0, D("0.00"))]


def test_the_unmapping_is_refused_while_the_authorization_covers_it() -> None:
    """A3 running to the year's end: unmapping EC-7 on July 1 is refused (A3 of the
    fixture, to June 30, lets it go: the test below)."""
    feed = Feed()
    grant = authorization(
        "A3", n=3, reseller_id=None, end_customer="EC-M1", valid_to=date(2026, 12, 31)
    )
    feed.send("authorizations", grant)
    feed.send("masters", customer_registered("EC-M1", "erased"))
    feed.send("identity", customer_mapped("D1", "EC-7", "EC-M1"))
    refused = feed.send("identity", customer_unmapped("D1", "EC-7", "EC-M1"))
    assert refused.dead_letter_reason == "master_referenced"


def test_the_unmapping_after_the_authorization_ran_out_is_taken(feed: Feed) -> None:
    assert feed.send("identity", customer_unmapped("D1", "EC-7", "EC-M1")).verdict
