"""Special price authorizations applied by the channel projection (docs/CLAIMS.md, "Pricing
under an authorization"): a sale within a deal is judged against the deal's floor, the list
floor otherwise; amendments and expiry change the sales judged after them; refusals are
dead-lettered with their reason. X is listed at a floor of 20.00."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from projections.channel import apply_event
from projections.outcome import Outcome
from projections.positions import Position
from projections.price_rules import ViolationDetected
from projections.stores import ChannelStores
from schemas.claims import SpecialPriceAmended, SpecialPriceAuthorized, SpecialPriceExpired
from tests.unit.channel_cases import uid
from tests.unit.test_aging_wiring import priced_stores, sold

JULY_1 = datetime(2026, 7, 1, tzinfo=UTC)


def deal(n: int = 1, **changes: Any) -> SpecialPriceAuthorized:
    """SPA-1: D01 may sell X to R9 down to 15.00 in July."""
    fields: dict[str, Any] = {
        "event_id": uid(700 + n), "occurred_at": JULY_1, "recorded_at": JULY_1, "source": "erp",
        "authorization_id": "SPA-1", "distributor_ids": ["D01"], "skus": ["X"],
        "reseller_id": "R9", "authorized_cost": Decimal("9.00"),
        "floor_price": Decimal("15.00"), "valid_from": date(2026, 7, 1),
        "valid_to": date(2026, 7, 31), "currency": "USD",
    }  # fmt: skip
    return SpecialPriceAuthorized(**{**fields, **changes})


def amendment(n: int, **terms: Any) -> SpecialPriceAmended:
    return SpecialPriceAmended(
        event_id=uid(800 + n), occurred_at=JULY_1, recorded_at=JULY_1, source="erp",
        authorization_id=terms.pop("authorization_id", "SPA-1"), amendment_id=f"A{n}", **terms,
    )  # fmt: skip


def at(offset: int) -> Position:
    return Position("authorizations:0", offset)


def sale_at(stores: ChannelStores, n: int, price: str, day: int, reseller: str = "R9") -> Outcome:
    event = sold(n, 1, date(2026, 7, day), unit_price=Decimal(price), reseller_id=reseller)
    return apply_event(stores, event, Position("sales:0", n))


def scope_of(outcome: Outcome) -> str | None:
    """The violation's scope, None when the sale was no violation."""
    facts = [fact for fact in outcome.facts if isinstance(fact, ViolationDetected)]
    return str(facts[0].scope) if facts else None


@pytest.fixture
def stores() -> ChannelStores:
    stores = priced_stores()
    assert apply_event(stores, deal(), at(0)).verdict is not None
    return stores


def test_a_sale_within_the_deal_is_judged_against_its_floor(stores: ChannelStores) -> None:
    assert scope_of(sale_at(stores, 1, "16.00", 10)) is None  # under the list's 20.00: allowed
    assert scope_of(sale_at(stores, 2, "14.00", 10)) == "authorization"  # under the deal's 15.00
    assert scope_of(sale_at(stores, 3, "16.00", 10, reseller="R5")) == "list"  # not R9's


def test_amendment_and_expiry_change_the_sales_judged_after_them(stores: ChannelStores) -> None:
    apply_event(stores, amendment(1, floor_price=Decimal("12.00")), at(1))
    assert scope_of(sale_at(stores, 1, "14.00", 10)) is None
    expiry = SpecialPriceExpired(
        event_id=uid(900), occurred_at=JULY_1, recorded_at=JULY_1, source="erp",
        authorization_id="SPA-1", last_valid_date=date(2026, 7, 15), reason="deal lost",
    )  # fmt: skip
    apply_event(stores, expiry, at(2))
    assert scope_of(sale_at(stores, 2, "14.00", 15)) is None  # the last valid day
    assert scope_of(sale_at(stores, 3, "14.00", 16)) == "list"  # after it: the list floor


def test_the_most_permissive_of_two_deals_decides(stores: ChannelStores) -> None:
    looser = deal(2, authorization_id="SPA-2", floor_price=Decimal("13.00"))
    apply_event(stores, looser, at(1))
    assert stores.sku_authorizations.get("X") == ("SPA-1", "SPA-2")
    assert scope_of(sale_at(stores, 1, "14.00", 10)) is None


def test_resends_and_refusals(stores: ChannelStores) -> None:
    again = apply_event(stores, deal(3), at(1))  # same terms, another envelope
    assert (again.verdict.value, again.dead_letter_reason) == ("duplicate", None)  # type: ignore[union-attr]
    assert apply_event(stores, deal(), at(1)).verdict.value == "redelivery"  # type: ignore[union-attr]
    other = apply_event(stores, deal(4, floor_price=Decimal("1.00")), at(2))
    assert other.dead_letter_reason == "conflicting_duplicate"
    unknown = apply_event(stores, amendment(2, authorization_id="SPA-9", quantity_cap=5), at(3))
    assert unknown.dead_letter_reason == "unknown_authorization"
    assert stores.authorizations.get("SPA-1").terms.floor_price == Decimal("15.00")  # type: ignore[union-attr]
