"""Price protection, pure: expected on-hand at an instant, and the claims a cost drop owes
(units held then, who is owed, the arithmetic, the rows)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.identity import derived_id
from projections.inventory import InventoryState, Move, apply_count, inventory_key
from projections.movements import moved_after, record_moves
from projections.price_book import CostDrop, PriceHistory
from projections.price_protection_claims import (
    PriceProtectionClaim,
    claim_row,
    claim_rows,
    costs_across,
    expected_on_hand_at,
    price_protection_claims,
)
from projections.stores import ChannelStores
from tests.unit.price_events import US, D, price, uid
from tests.unit.pricing_cases import H, drops_of

# --- expected on-hand at an instant --------------------------------------------------------

NOON = datetime(2026, 7, 6, 12, tzinfo=UTC)
#: the stores the channel projection keeps (moves, day totals), shared by the ledgers of a
#: test (reset before each)
STORES = ChannelStores()


@pytest.fixture(autouse=True)
def _fresh_stores() -> None:
    global STORES
    STORES = ChannelStores()


def history_after(state: InventoryState, at: datetime) -> tuple[int, int]:
    return moved_after(STORES, state.distributor_id, state.sku, at)


class Ledger:
    """An inventory state with its movement history, as the channel projection keeps them."""

    def __init__(self, distributor_id: str = "D01", sku: str = "SKU-1") -> None:
        self.key = inventory_key(distributor_id, sku)
        STORES.inventory.put(self.key, InventoryState(distributor_id, sku))

    @property
    def state(self) -> InventoryState:
        found = STORES.inventory.get(self.key)
        assert found is not None
        return found

    def move(self, at: datetime, sell_in: int = 0, sell_through: int = 0) -> Ledger:
        stamp = at.isoformat()
        reseller = "R1" if sell_through else None
        entry = Move(
            stamp, sell_in, sell_through, "1.00", "USD", f"e-{stamp}-{sell_in}-{sell_through}",
            stamp, None, None, reseller,
        )  # fmt: skip
        record_moves(STORES, self.state.distributor_id, ((self.state.sku, at, entry),), None)
        return self

    def count(self, at: datetime, on_hand: int) -> Ledger:
        after = history_after(self.state, at)
        STORES.inventory.put(self.key, apply_count(self.state, at, on_hand, after)[0])
        return self

    def at(self, moment: datetime) -> int:
        return expected_on_hand_at(self.state, moment, history_after)


def test_on_hand_without_counts_is_the_flow_up_to_the_instant() -> None:
    ledger = Ledger().move(NOON - D, sell_in=100).move(NOON, sell_through=10)
    ledger.move(NOON + 2 * H, sell_through=5).move(NOON + D, sell_in=50)
    assert ledger.at(NOON - D - US) == 0
    assert ledger.at(NOON - D) == 100
    assert ledger.at(NOON - US) == 100
    assert ledger.at(NOON) == 90  # a movement exactly at the instant counts
    assert ledger.at(NOON + H) == 90  # intra-day: the 14:00 sale is after
    assert ledger.at(NOON + 2 * H) == 85
    assert ledger.at(NOON + D - US) == 85
    assert ledger.at(NOON + 5 * D) == 135 == ledger.state.expected_on_hand


def test_on_hand_after_a_count_rebases_on_the_count() -> None:
    ledger = Ledger().move(NOON - D, sell_in=100).move(NOON, sell_through=10)
    ledger.count(NOON + H, 80)  # 10 short of the expected 90
    ledger.move(NOON + 2 * H, sell_through=5).move(NOON + D, sell_in=50)
    assert ledger.at(NOON + H) == 80
    assert ledger.at(NOON + 2 * H - US) == 80
    assert ledger.at(NOON + 2 * H) == 75
    assert ledger.at(NOON + 3 * D) == 125 == ledger.state.expected_on_hand


def test_on_hand_before_the_count_back_projects_from_it() -> None:
    ledger = Ledger().move(NOON - D, sell_in=100).move(NOON, sell_through=10)
    ledger.move(NOON + 2 * H, sell_through=5)
    ledger.count(NOON + D, 70)  # expected 85 then: 15 short
    # count − what moved in (instant, count]
    assert ledger.at(NOON + 3 * H) == 70
    assert ledger.at(NOON + H) == 75
    assert ledger.at(NOON - H) == 85


def test_a_late_movement_before_the_count_is_in_the_history_not_the_count() -> None:
    ledger = Ledger().move(NOON - D, sell_in=100).count(NOON, 100)
    ledger.move(NOON - H, sell_through=4)  # arrives after the count, dated before it
    assert ledger.state.late_after_count == 1
    assert ledger.at(NOON) == 100  # the count already holds it
    assert ledger.at(NOON - 2 * H) == 104  # back-projected across the late sale


def test_a_count_arriving_after_later_movements() -> None:
    ledger = Ledger().move(NOON - D, sell_in=100).move(NOON + 2 * H, sell_through=7)
    ledger.count(NOON + H, 90)
    assert ledger.at(NOON + H) == 90
    assert ledger.at(NOON + 3 * H) == 83 == ledger.state.expected_on_hand


def test_the_instant_may_be_in_any_timezone() -> None:
    ledger = Ledger().move(NOON, sell_in=10).move(NOON + 2 * H, sell_through=3)
    plus14 = timezone(timedelta(hours=14))
    local = (NOON + H).astimezone(plus14)  # the next calendar day in local time
    assert ledger.at(local) == 10


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        Ledger().at(datetime(2026, 7, 6))  # noqa: DTZ001


# --- price protection ----------------------------------------------------------------------

DROP_AT = datetime(2026, 7, 10, tzinfo=UTC)


def stocked(distributor_id: str, units: int, at: datetime = DROP_AT - D) -> Ledger:
    return Ledger(distributor_id).move(at, sell_in=units)


def no_agreement(distributor_id: str) -> None:
    return None


def claims_of(
    drop: CostDrop, ledgers: list[Ledger], history: PriceHistory, withdrawn: bool = False
) -> list[PriceProtectionClaim]:
    states = [ledger.state for ledger in ledgers]
    return price_protection_claims(drop, states, history, history_after, no_agreement, withdrawn)


def test_claim_arithmetic_in_decimal() -> None:
    history, drops = drops_of(price(1, cost="12.40"), price(2, cost="11.95", at=DROP_AT))
    ledger = stocked("D01", 37)
    claims = claims_of(drops[0], [ledger], history)
    assert claims == [
        PriceProtectionClaim(
            claim_id=derived_id("price-protection", "D01", "SKU-1", DROP_AT.isoformat()),
            distributor_id="D01",
            sku="SKU-1",
            effective_from=DROP_AT,
            units=37,
            old_cost=Decimal("12.40"),
            new_cost=Decimal("11.95"),
            amount=Decimal("16.65"),
            currency="USD",
            price_event_id=uid(2),
        )
    ]
    assert isinstance(claims[0].amount, Decimal)


def test_claims_round_half_up_to_the_cent() -> None:
    history, drops = drops_of(price(1, cost="10.005"), price(2, cost="10.000", at=DROP_AT))
    ledger = stocked("D01", 1)
    (claim,) = claims_of(drops[0], [ledger], history)
    assert claim.amount == Decimal("0.01")


def test_units_are_the_on_hand_at_effective_from_not_now() -> None:
    history, drops = drops_of(price(1, cost="12.40"), price(2, cost="11.95", at=DROP_AT))
    ledger = stocked("D01", 50).move(DROP_AT - H, sell_through=13)
    ledger.move(DROP_AT, sell_through=1)  # at the instant: counts
    ledger.move(DROP_AT + US, sell_through=20).move(DROP_AT + D, sell_in=500)
    (claim,) = claims_of(drops[0], [ledger], history)
    assert claim.units == 36
    assert claim.amount == Decimal("16.20")


@pytest.mark.parametrize("units", [0, -4])
def test_no_claim_for_no_or_negative_stock(units: int) -> None:
    history, drops = drops_of(price(1, cost="12.40"), price(2, cost="11.95", at=DROP_AT))
    ledger = Ledger().move(DROP_AT - D, sell_in=10).move(DROP_AT - H, sell_through=10 - units)
    assert ledger.at(DROP_AT) == units
    assert claims_of(drops[0], [ledger], history) == []


@pytest.mark.parametrize("units", [0, -4])
def test_without_stock_a_withdrawn_claim_is_zero_and_never_listed(units: int) -> None:
    history, drops = drops_of(price(1, cost="12.40"), price(2, cost="11.95", at=DROP_AT))
    ledger = Ledger().move(DROP_AT - D, sell_in=10).move(DROP_AT - H, sell_through=10 - units)
    found = claims_of(drops[0], [ledger], history, True)
    assert [(c.units, c.amount) for c in found] == [(0, Decimal("0.00"))]
    assert claim_rows(found) == []


def test_stock_received_after_the_drop_is_not_owed() -> None:
    history, drops = drops_of(price(1, cost="12.40"), price(2, cost="11.95", at=DROP_AT))
    ledger = Ledger().move(DROP_AT + H, sell_in=100)
    assert claims_of(drops[0], [ledger], history) == []


def test_a_list_drop_is_owed_to_every_distributor_holding_the_sku() -> None:
    history, drops = drops_of(price(1, cost="12.40"), price(2, cost="11.95", at=DROP_AT))
    d1, d2, d3 = stocked("D02", 10), stocked("D01", 37), stocked("D03", 0)
    other_sku = Ledger("D04", "SKU-2").move(DROP_AT - D, sell_in=99)
    positions = [d1, d2, d3, other_sku]
    claims = claims_of(drops[0], positions, history)
    assert [(c.distributor_id, c.units, c.amount) for c in claims] == [
        ("D01", 37, Decimal("16.65")),
        ("D02", 10, Decimal("4.50")),
    ]


def test_a_distributor_with_its_own_price_is_not_owed_a_list_drop() -> None:
    history, drops = drops_of(
        price(1, cost="12.40"),
        price(2, cost="11.00", distributor_id="D01"),
        price(3, cost="11.95", at=DROP_AT),
    )
    assert costs_across(drops[0], history, "D01", None) is None
    assert costs_across(drops[0], history, "D02", None) == (Decimal("12.40"), Decimal("11.95"))
    d1, d2 = stocked("D01", 37), stocked("D02", 10)
    claims = claims_of(drops[0], [d1, d2], history)
    assert [c.distributor_id for c in claims] == ["D02"]


def test_a_special_price_starting_after_the_drop_does_not_exempt() -> None:
    history, drops = drops_of(
        price(1, cost="12.40"),
        price(2, cost="11.00", at=DROP_AT + D, distributor_id="D01"),
        price(3, cost="11.95", at=DROP_AT),
    )
    assert [d.distributor_id for d in drops] == [None]
    ledger = stocked("D01", 37)
    claims = claims_of(drops[0], [ledger], history)
    assert [c.distributor_id for c in claims] == ["D01"]


def test_a_reseller_specific_price_does_not_exempt_a_distributor() -> None:
    history, drops = drops_of(
        price(1, cost="12.40"),
        price(2, cost="9.00", distributor_id="D01", reseller_id="R01"),
        price(3, cost="11.95", at=DROP_AT),
    )
    ledger = stocked("D01", 37)
    (claim,) = claims_of(drops[0], [ledger], history)
    assert claim.amount == Decimal("16.65")


def test_a_distributor_specific_drop_is_owed_to_that_distributor_only() -> None:
    history, drops = drops_of(
        price(1, cost="12.40"),
        price(2, cost="11.00", distributor_id="D01"),
        price(3, cost="10.50", at=DROP_AT, distributor_id="D01"),
    )
    assert [d.distributor_id for d in drops] == ["D01"]
    d1, d2 = stocked("D01", 10), stocked("D02", 10)
    (claim,) = claims_of(drops[0], [d1, d2], history)
    assert (claim.distributor_id, claim.old_cost, claim.new_cost, claim.amount) == (
        "D01",
        Decimal("11.00"),
        Decimal("10.50"),
        Decimal("5.00"),
    )


def test_intraday_moves_are_read_for_the_effective_day() -> None:
    drop_noon = DROP_AT + 12 * H
    history, drops = drops_of(price(1, cost="12.40"), price(2, cost="11.95", at=drop_noon))
    ledger = stocked("D01", 40).move(drop_noon - H, sell_through=3)
    ledger.move(drop_noon + H, sell_through=30)
    (claim,) = claims_of(drops[0], [ledger], history)
    assert claim.units == 37


def test_a_drop_known_before_the_movements_is_tracked_and_gives_the_same_claim() -> None:
    """The usual order (a price published before it governs) tracks what moves after the
    drop in the state; a drop known only afterwards reads the history: the same units."""
    drop_noon = DROP_AT + 12 * H
    history, drops = drops_of(price(1, cost="12.40"), price(2, cost="11.95", at=drop_noon))
    late = stocked("D01", 40).move(drop_noon - H, sell_through=3)
    late.move(drop_noon + H, sell_through=30).move(drop_noon + D, sell_in=8)
    STORES.prices.put("SKU-1", history)
    tracked = stocked("D02", 40).move(drop_noon - H, sell_through=3)
    tracked.move(drop_noon + H, sell_through=30).move(drop_noon + D, sell_in=8)
    assert tracked.state.since_drops == {str(drops[0].event_id): [8, 30]}
    assert late.state.since_drops == {}
    claims = claims_of(drops[0], [late, tracked], history)
    assert [(c.distributor_id, c.units) for c in claims] == [("D01", 37), ("D02", 37)]


def test_the_claim_id_is_stable_and_keyed() -> None:
    history, drops = drops_of(price(1, cost="12.40"), price(2, cost="11.95", at=DROP_AT))
    d1, d2 = stocked("D01", 5), stocked("D02", 5)
    first = claims_of(drops[0], [d1, d2], history)
    again = claims_of(drops[0], [d2, d1], history)
    assert first == again
    assert first[0].claim_id != first[1].claim_id


def test_history_of_another_sku_is_refused() -> None:
    _, drops = drops_of(price(1, cost="12.40"), price(2, cost="11.95", at=DROP_AT))
    with pytest.raises(ValueError, match="SKU-2"):
        price_protection_claims(drops[0], [], PriceHistory("SKU-2"), history_after, no_agreement)


def test_claim_row_format_and_order() -> None:
    history, drops = drops_of(price(1, cost="12.40"), price(2, cost="11.95", at=DROP_AT))
    d1, d2 = stocked("D02", 37), stocked("D01", 2)
    claims = claims_of(drops[0], [d1, d2], history)
    assert claim_row(claims[1]) == {
        "distributor_id": "D02",
        "sku": "SKU-1",
        "effective_from": "2026-07-10T00:00:00Z",
        "units": 37,
        "old_cost": "12.40",
        "new_cost": "11.95",
        "amount": "16.65",
    }
    later = dataclasses.replace(claims[0], effective_from=DROP_AT + D)
    rows = claim_rows([later, claims[1], claims[0]])
    assert [(r["distributor_id"], r["effective_from"]) for r in rows] == [
        ("D01", "2026-07-10T00:00:00Z"),
        ("D01", "2026-07-11T00:00:00Z"),
        ("D02", "2026-07-10T00:00:00Z"),
    ]
