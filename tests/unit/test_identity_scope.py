"""Reseller-scoped prices and authorizations compared by identity (docs/IDENTITY.md,
"Prices and authorizations by identity"): a price or an authorization naming a master
covers the sales to every alias mapped to it when the sale is judged; unmapping an alias
is refused while a valid authorization names its master for the alias's distributor.

X is listed at a floor of 20.00; D01's R5 and R6 are aliases of master M1."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.claim_rules import AuthorizationTerms
from projections.channel import apply_event
from projections.outcome import Outcome
from projections.positions import Position
from projections.price_book import price_in_effect
from projections.price_rules import ViolationDetected
from projections.stores import ChannelStores
from schemas.claims import SpecialPriceExpired
from schemas.events import Envelope
from tests.unit.channel_cases import uid
from tests.unit.party_events import mapped, registered, unmapped
from tests.unit.price_events import T0, history_of, price
from tests.unit.test_aging_wiring import priced_stores
from tests.unit.test_authorization_wiring import deal, sale_at

JULY_1 = datetime(2026, 7, 1, tzinfo=UTC)
JULY_20 = datetime(2026, 7, 20, 9, tzinfo=UTC)


# --- pure --------------------------------------------------------------------------------


def floor_of(master: str | None, reseller: str = "R5") -> str | None:
    history = history_of(
        price(1, floor="20.00"),
        price(2, floor="15.00", distributor_id="D01", reseller_id="M1"),
        price(3, floor="12.00", distributor_id="D01", reseller_id="R6"),
        price(4, floor="11.00", distributor_id="D02", reseller_id="M1"),
    )
    entry = price_in_effect(history, T0, "D01", reseller, master)
    return None if entry is None else str(entry.floor_price)


def test_a_price_for_a_master_covers_its_alias() -> None:
    assert floor_of("M1") == "15.00"
    assert floor_of(None) == "20.00"  # unmapped: the list
    assert floor_of("M2") == "20.00"  # another master: the list


def test_a_price_for_the_alias_itself_is_more_specific_than_its_masters() -> None:
    assert floor_of("M1", reseller="R6") == "12.00"


def terms(reseller: str | None) -> AuthorizationTerms:
    return AuthorizationTerms(
        "SPA-1", frozenset({"D01"}), frozenset({"X"}), reseller, None, Decimal("9.00"),
        Decimal("15.00"), date(2026, 7, 1), date(2026, 7, 31), None, "USD", uid(1),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("named", "master", "covered"),
    [("M1", "M1", True), ("M1", None, False), ("M1", "M2", False), ("R5", "M1", True)],
)
def test_an_authorization_for_a_master_covers_its_aliases_sales(
    named: str, master: str | None, covered: bool
) -> None:
    sale = ("D01", "X", "R5", None, JULY_20, "USD")
    assert terms(named).covers(*sale, master) is covered


# --- through the projection --------------------------------------------------------------


def run(stores: ChannelStores, event: Envelope, offset: int) -> Outcome:
    return apply_event(stores, event, Position("identity:0", offset))


def scope_of(outcome: Outcome) -> str | None:
    facts = [fact for fact in outcome.facts if isinstance(fact, ViolationDetected)]
    return str(facts[0].scope) if facts else None


def listed() -> ChannelStores:
    """X listed at 20.00; M1 registered."""
    stores = priced_stores()
    run(stores, registered("M1", "Acme Tools Inc."), 0)
    return stores


@pytest.fixture
def stores() -> ChannelStores:
    """`listed`, and SPA-1 lets D01 sell X to M1 down to 15.00 in July."""
    stores = listed()
    apply_event(stores, deal(reseller_id="M1"), Position("authorizations:0", 0))
    return stores


def test_a_sale_to_an_alias_is_judged_under_its_masters_authorization(
    stores: ChannelStores,
) -> None:
    assert scope_of(sale_at(stores, 1, "16.00", 10, reseller="R5")) == "list"  # not mapped yet
    run(stores, mapped("D01", "R5", "M1"), 1)
    assert scope_of(sale_at(stores, 2, "16.00", 10, reseller="R5")) is None  # within the deal
    assert scope_of(sale_at(stores, 3, "14.00", 10, reseller="R5")) == "authorization"
    assert scope_of(sale_at(stores, 4, "16.00", 10, reseller="R6")) == "list"  # not mapped
    # the mapping did not judge the sale made before it again
    assert stores.violations.get("D01|T1") is not None


def test_a_price_for_a_master_applies_to_its_alias() -> None:
    stores = listed()
    special = price(9, "9.00", "14.00", JULY_1, "D01", "M1", sku="X")
    apply_event(stores, special, Position("prices:0", 5))
    run(stores, mapped("D01", "R6", "M1"), 1)
    assert scope_of(sale_at(stores, 1, "14.50", 10, reseller="R6")) is None
    assert scope_of(sale_at(stores, 2, "13.00", 10, reseller="R6")) == "reseller"
    assert scope_of(sale_at(stores, 3, "14.50", 10, reseller="R7")) == "list"


def test_unmapping_is_refused_while_an_authorization_names_the_master(
    stores: ChannelStores,
) -> None:
    run(stores, mapped("D01", "R5", "M1"), 1)
    refused = run(stores, unmapped("D01", "R5", "M1", changed_at=JULY_20), 2)
    assert refused.dead_letter_reason == "master_referenced"
    assert refused.detail is not None and "authorization 'SPA-1'" in refused.detail
    assert stores.party_aliases.get("id|D01|R5").master_id == "M1"  # type: ignore[union-attr]
    expiry = SpecialPriceExpired(
        event_id=uid(900), occurred_at=JULY_1, recorded_at=JULY_1, source="erp",
        authorization_id="SPA-1", last_valid_date=date(2026, 7, 15), reason="deal moved",
    )  # fmt: skip
    apply_event(stores, expiry, Position("authorizations:0", 1))
    assert run(stores, unmapped("D01", "R5", "M1", n=201, changed_at=JULY_20), 3).verdict
    assert stores.party_aliases.get("id|D01|R5").master_id is None  # type: ignore[union-attr]


def test_an_authorization_of_another_distributor_does_not_hold_the_alias(
    stores: ChannelStores,
) -> None:
    run(stores, mapped("D02", "R5", "M1"), 1)
    assert run(stores, unmapped("D02", "R5", "M1", changed_at=JULY_20), 2).verdict
