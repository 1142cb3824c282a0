"""Price protection, pure: what a drop of distributor_cost owes each distributor it governs.

When a distributor_cost drops (`price_book.CostDrop`), each distributor it governs is owed
(old − new) × its expected on-hand at the drop's effective_from (`price_protection_claims`).
A drop governs a distributor when the price it buys at then, under the agreement version
governing that day, is in the drop's scope (`price_book.cost_in_effect`, the rule the
stock value reads): a distributor-specific drop governs that distributor only; a drop on a
named list, the distributors whose agreement binds that list and has no earlier bound list
pricing the SKU; a standard list drop, every other distributor holding the SKU (not one
with its own price in effect, nor one a bound named list prices). A list drop's old and
new costs are the distributor's: the list's less its agreement's group discount. The
on-hand as of that instant is `on_hand_at_drop`: the state's count-rebased expected
on-hand less every movement dated after the instant.

When to call it is the caller's decision: the claim is exact once the inventory state
holds every movement dated up to effective_from (prices are published before the dates
they govern, so a drop effective in the future must wait until business time reaches it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.agreements import AgreementVersion, distributor_cost, version_label
from domain.currency import round_money
from domain.identity import derived_id
from domain.timeutil import iso_z, utc
from projections.inventory import InventoryState
from projections.price_book import CostDrop, PriceHistory, cost_in_effect
from schemas.agreements import AgreementTerms


@dataclass(frozen=True, slots=True)
class PriceProtectionClaim:
    """Audit fact: a distributor is owed (old − new cost) × units on hand at effective_from."""

    claim_id: UUID
    distributor_id: str
    sku: str
    effective_from: datetime
    units: int
    old_cost: Decimal
    new_cost: Decimal
    amount: Decimal
    currency: str
    #: the PriceChanged whose cost drop gave rise to the claim
    price_event_id: UUID
    #: a zero claim of a distributor the (list) drop does not govern: its agreement
    #: version governing the drop's day puts another list (or its own price) first, so a
    #: claim recorded before that version was is withdrawn, naming it
    off_list: bool = False
    #: that version (`version_label`; None: no agreement governs the day) and the
    #: event that made it
    agreement_version: str | None = None
    agreement_event_id: UUID | None = None


def claim_id_for(distributor_id: str, sku: str, effective_from: datetime) -> UUID:
    return derived_id("price-protection", distributor_id, sku, utc(effective_from).isoformat())


#: (state, instant) -> (sell_in, sell_through) of the state's movements dated after it
MovedAfter = Callable[[InventoryState, datetime], tuple[int, int]]


def expected_on_hand_at(state: InventoryState, at: datetime, moved_after: MovedAfter) -> int:
    """Expected on-hand of (distributor, sku) as of `at`: every movement dated <= `at`.

    The state's expected on-hand (the last count plus what moved after it, or Σ sell_in −
    Σ sell_through with no count) less what moved after `at`. Before the last count this
    back-projects from that count (count − net movements in (at, count]): the physical
    count is the nearest truth, as a finance team would reckon it. It is exact unless an
    earlier count, which the state does not keep, rebased stock in between.
    """
    moved_in, moved_out = moved_after(state, utc(at))
    return state.expected_on_hand - moved_in + moved_out


def on_hand_at_drop(state: InventoryState, drop: CostDrop, moved_after: MovedAfter) -> int:
    """`expected_on_hand_at` the drop's effective_from, without reading history: what
    moved after the drop is tracked in the state from when the drop was known
    (`InventoryState.since_drops`), and a state that has not moved since the drop has
    nothing after it; only a drop that became known after movements dated after it (a
    rare late price) asks `moved_after`, which reads the day history."""
    at = drop.effective_from
    tracked = state.since_drops.get(str(drop.event_id))
    if tracked is not None:
        return state.expected_on_hand - tracked[0] + tracked[1]
    if state.latest is None or state.latest <= at:
        return state.expected_on_hand
    return expected_on_hand_at(state, at, moved_after)


#: distributor id -> its agreement version governing the drop's day (None: none)
VersionOf = Callable[[str], AgreementVersion | None]


def costs_across(
    drop: CostDrop, history: PriceHistory, distributor_id: str, terms: AgreementTerms | None
) -> tuple[Decimal, Decimal] | None:
    """The distributor's (old, new) cost across `drop` when the drop governs it: the price
    it buys at the drop's effective_from under `terms` is in the drop's scope. None when
    another price is its cost then (its own, or an earlier bound list's)."""
    found = cost_in_effect(history, utc(drop.effective_from), distributor_id, terms)
    if found is None or found[1].scope != drop.scope:
        return None
    listed = drop.distributor_id is None
    return (
        distributor_cost(drop.old_cost, drop.currency, listed, terms, drop.sku),
        distributor_cost(drop.new_cost, drop.currency, listed, terms, drop.sku),
    )


def price_protection_claims(
    drop: CostDrop,
    positions: Iterable[InventoryState],
    history: PriceHistory,
    moved_after: MovedAfter,
    version_of: VersionOf,
    withdrawn: bool = False,
) -> list[PriceProtectionClaim]:
    """The claims a distributor_cost drop gives rise to, sorted by distributor_id.

    `positions` may hold any (distributor, sku) states; only the drop's SKU counts (and for
    a distributor-specific drop, only its distributor). `history` is the SKU's price
    history (with the dropped price applied); `version_of` is read, for a list drop only,
    for each distributor holding the SKU (`costs_across` decides, under its terms, whether
    it is owed, and at what costs). Distributors with expected on-hand <= 0 at
    effective_from get no claim; with `withdrawn`, they get a zero claim instead, so a
    claim recorded while their stock looked positive (a count arrived later) is revised to
    nothing rather than left standing; and so do the distributors holding the SKU that a
    list drop does not govern, naming their agreement version (`off_list`): a claim
    recorded before an agreement that moved the distributor to another list is withdrawn.
    """
    if history.sku != drop.sku:
        raise ValueError(f"cost drop of {drop.sku!r} judged with the prices of {history.sku!r}")
    at = utc(drop.effective_from)
    claims: dict[str, PriceProtectionClaim] = {}
    for state in positions:
        if state.sku != drop.sku:
            continue
        if drop.distributor_id is not None and state.distributor_id != drop.distributor_id:
            continue
        version = None if drop.distributor_id is not None else version_of(state.distributor_id)
        terms = None if version is None else version.terms
        costs = costs_across(drop, history, state.distributor_id, terms)
        if costs is None:
            if withdrawn and drop.distributor_id is None:
                claims[state.distributor_id] = off_list(drop, state.distributor_id, version)
            continue
        units = max(on_hand_at_drop(state, drop, moved_after), 0)
        if units == 0 and not withdrawn:
            continue
        old_cost, new_cost = costs
        claims[state.distributor_id] = PriceProtectionClaim(
            claim_id=claim_id_for(state.distributor_id, drop.sku, at),
            distributor_id=state.distributor_id,
            sku=drop.sku,
            effective_from=at,
            units=units,
            old_cost=old_cost,
            new_cost=new_cost,
            amount=price_protection_amount(old_cost, new_cost, units, drop.currency),
            currency=drop.currency,
            price_event_id=drop.event_id,
        )
    return [claims[distributor] for distributor in sorted(claims)]


def off_list(
    drop: CostDrop, distributor_id: str, version: AgreementVersion | None
) -> PriceProtectionClaim:
    """The zero claim of a distributor a list drop does not govern under `version`."""
    at = utc(drop.effective_from)
    return PriceProtectionClaim(
        claim_id=claim_id_for(distributor_id, drop.sku, at),
        distributor_id=distributor_id,
        sku=drop.sku,
        effective_from=at,
        units=0,
        old_cost=drop.old_cost,
        new_cost=drop.new_cost,
        amount=round_money(Decimal(0), drop.currency),
        currency=drop.currency,
        price_event_id=drop.event_id,
        off_list=True,
        agreement_version=None if version is None else version_label(version),
        agreement_event_id=None if version is None else version.event_id,
    )


def price_protection_amount(
    old_cost: Decimal, new_cost: Decimal, units: int, currency: str
) -> Decimal:
    """(old − new) × units in `currency`, rounded half-up to its minor unit; zero for units
    <= 0 or no drop."""
    amount = (old_cost - new_cost) * units if units > 0 and new_cost < old_cost else 0
    return round_money(Decimal(amount), currency)


def claim_row(claim: PriceProtectionClaim) -> dict[str, Any]:
    """One `price_protection` row of the projection snapshot."""
    return {
        "distributor_id": claim.distributor_id,
        "sku": claim.sku,
        "effective_from": iso_z(claim.effective_from),
        "units": claim.units,
        "old_cost": str(claim.old_cost),
        "new_cost": str(claim.new_cost),
        "amount": str(claim.amount),
    }


def claim_rows(claims: Iterable[PriceProtectionClaim]) -> list[dict[str, Any]]:
    """Rows of the claims standing (withdrawn ones left out), sorted by their key fields
    (distributor_id, sku, effective_from)."""
    standing = (claim for claim in claims if claim.units > 0)
    ordered = sorted(standing, key=lambda c: (c.distributor_id, c.sku, utc(c.effective_from)))
    return [claim_row(claim) for claim in ordered]
