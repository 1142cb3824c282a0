"""Claim lines by identity (docs/IDENTITY.md, "Claim lines by identity"): a claim line under
an authorization naming a master is checked against the master its POS line's reseller meant
when the sale was judged, as the sale was priced.

A2 lets D1 buy X at 70.00 for master M1 (book cost 100.00, cap 100, April to June): each
unit claimed is 100.00 − 70.00 = 30.00. D1's R5 is mapped to M1; R6 never is."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.identity import sale_key
from projections.claims import pos_from_json, pos_line_of, pos_to_json
from tests.unit.claim_events import authorization, claim, line, line_checked, sale
from tests.unit.party_events import mapped, registered, unmapped
from tests.unit.test_claim_wiring import Feed, decided

D = Decimal
JULY_15 = datetime(2026, 7, 15, tzinfo=UTC)


# --- pure --------------------------------------------------------------------------------


def decision_for(reseller_id: str, master_id: str | None) -> tuple[str, tuple[str, ...]]:
    """Line 1 claims 10 units of T1, sold to `reseller_id` meaning `master_id`."""
    pos = replace(pos_line_of(sale("T1", 10, reseller_id=reseller_id)), master_id=master_id)
    return line_checked(authorization("A2", reseller_id="M1"), pos)


@pytest.mark.parametrize(
    ("reseller", "master", "expected"),
    [
        ("R5", "M1", ("accepted", ())),  # an alias of the master named
        ("R6", None, ("rejected", ("wrong_reseller",))),  # unmapped
        ("R5", "M2", ("rejected", ("wrong_reseller",))),  # an alias of another master
        ("M1", None, ("accepted", ())),  # the master's own id
    ],
)
def test_the_line_is_checked_by_the_master_the_pos_line_meant(
    reseller: str, master: str | None, expected: tuple[str, tuple[str, ...]]
) -> None:
    assert decision_for(reseller, master) == expected


def test_a_pos_line_keeps_its_master_stored() -> None:
    pos = pos_line_of(sale("T1", 10, reseller_id="R5"), "M1")
    assert pos_from_json(pos_to_json(pos)) == pos
    assert pos_from_json(pos_to_json(pos)[:9]) == replace(pos, master_id=None)  # stored before


# --- through the projection --------------------------------------------------------------


@pytest.fixture
def feed() -> Feed:
    """A2 for master M1 beside the worked example's A1 for R9; M1 registered."""
    feed = Feed()
    feed.send("authorizations", authorization("A2", n=2, reseller_id="M1"))
    feed.send("masters", registered("M1", "Acme Tools Inc."))
    return feed


def claimed(feed: Feed, claim_id: str, transaction_id: str, units: int) -> list[Any]:
    return decided(
        feed.claim(claim(claim_id, line(1, transaction_id, units, authorization_id="A2")))
    )


def test_a_sale_to_a_mapped_alias_is_claimed_under_its_masters_authorization(
    feed: Feed,
) -> None:
    feed.send("identity", mapped("D1", "R5", "M1"))
    feed.sell(sale("T1", 60, reseller_id="R5"), sale("T2", 10, reseller_id="R6"))
    stored = feed.stores.pos_lines.get(sale_key("D1", "T1"))
    assert stored is not None and stored.master_id == "M1"
    assert claimed(feed, "C1", "T1", 60) == [("accepted", (), 60, D("1800.00"))]
    assert claimed(feed, "C2", "T2", 10) == [("rejected", ("wrong_reseller",), 0, D("0.00"))]


def test_a_mapping_made_after_the_sale_does_not_change_its_claim(feed: Feed) -> None:
    """R6's sale was judged unmapped: its claim stays `wrong_reseller` once R6 is mapped."""
    feed.sell(sale("T2", 10, reseller_id="R6"))
    feed.send("identity", mapped("D1", "R6", "M1"))
    assert claimed(feed, "C1", "T2", 10) == [("rejected", ("wrong_reseller",), 0, D("0.00"))]


def test_an_unmapping_after_the_sale_does_not_change_its_claim(feed: Feed) -> None:
    """R5's sale was judged mapped to M1; unmapped after A2 ran out (June 30), its claim
    is still decided as the sale was priced: 20 × 30.00."""
    feed.send("identity", mapped("D1", "R5", "M1"))
    feed.sell(sale("T1", 20, reseller_id="R5"))
    assert feed.send("identity", unmapped("D1", "R5", "M1", changed_at=JULY_15)).verdict
    assert claimed(feed, "C1", "T1", 20) == [("accepted", (), 20, D("600.00"))]


def test_a_pending_line_is_decided_by_the_master_its_pos_line_arrives_with(
    feed: Feed,
) -> None:
    feed.send("identity", mapped("D1", "R5", "M1"))
    assert [d[0] for d in claimed(feed, "C1", "T9", 5)] == ["pending_pos"]
    [arrived] = feed.sell(sale("T9", 5, reseller_id="R5"))
    assert decided(arrived) == [("accepted", (), 5, D("150.00"))]
