"""What a stock figure is valued at: the distributor cost in effect, and money as rows
carry it (a decimal string). Read by the inventory rows (`projections.snapshot`), the
aging rows (`projections.aging_reads`), the obligations, the scorecard's margin and a claim
line's book cost alike."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from domain.agreements import AgreementVersion, discount_for
from domain.timeutil import utc
from projections.price_book import PriceEntry, PriceHistory, cost_in_effect
from projections.stores import ChannelStores
from schemas.agreements import AgreementTerms


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def unit_cost(
    stores: ChannelStores,
    sku: str,
    distributor_id: str,
    at: datetime | None,
    known_at: datetime | None = None,
) -> tuple[Decimal | None, str | None]:
    """The distributor cost in effect for the distributor at `at` and its currency (None,
    None when no price). A price of the distributor's own is its cost; the list price is
    its cost less the group discount of the agreement version governing `at`'s day (as
    recorded by `known_at`; None: all), when one gives the sku's group a discount
    (docs/AGREEMENTS.md, "The distributor's cost under an agreement"). The list price is
    the first named list of that version with a price in effect, else the standard one."""
    found = None if at is None else cost_entry(stores, sku, distributor_id, at, known_at)
    return (None, None) if found is None else (found[0], found[1].currency)


class DistributorCost(NamedTuple):
    """`unit_cost`'s cost, the price entry it comes from, and the agreement version whose
    terms priced it (they bound the named list of `entry`, or discounted its list price;
    None: no version did)."""

    cost: Decimal
    entry: PriceEntry
    version: AgreementVersion | None


def cost_entry(
    stores: ChannelStores,
    sku: str,
    distributor_id: str,
    at: datetime,
    known_at: datetime | None = None,
) -> DistributorCost | None:
    """`unit_cost`'s cost, with the price entry and agreement version behind it (None: no
    price)."""
    history = stores.prices.get(sku)
    if history is None:
        return None
    version = governing_version(stores, distributor_id, at, known_at)
    terms = None if version is None else version.terms
    found = cost_in_effect(history, at, distributor_id, terms)
    if found is None:
        return None
    cost, entry = found
    return DistributorCost(cost, entry, version if _priced_by(terms, entry, sku) else None)


def _priced_by(terms: AgreementTerms | None, entry: PriceEntry, sku: str) -> bool:
    """Whether an agreement's terms priced `entry`'s cost: it is a list price, of a named
    list they bind or discounted for the sku's group."""
    if terms is None or entry.distributor_id is not None:
        return False
    return entry.price_list is not None or bool(discount_for(terms, sku))


def governing_version(
    stores: ChannelStores, distributor_id: str, at: datetime, known_at: datetime | None = None
) -> AgreementVersion | None:
    """The distributor's agreement version governing `at`'s day (as recorded by `known_at`;
    None: all), one keyed read; None when no version governs it."""
    timeline = stores.agreements.get(distributor_id)
    return None if timeline is None else timeline.on(utc(at).date(), known_at)


def terms_on(
    stores: ChannelStores, distributor_id: str, at: datetime, known_at: datetime | None = None
) -> AgreementTerms | None:
    """The terms of `governing_version`'s version (None: no version governs `at`'s day)."""
    version = governing_version(stores, distributor_id, at, known_at)
    return None if version is None else version.terms


def bound_lists(
    stores: ChannelStores,
    history: PriceHistory | None,
    distributor_id: str,
    at: datetime,
    known_at: datetime | None = None,
) -> Sequence[str]:
    """The named price lists the agreement governing `at`'s day (as recorded by `known_at`)
    binds the distributor to, in its order. The agreement is read only when the SKU has a
    price on a named list, so a sale of any other SKU reads nothing more."""
    if history is None or not history.named_lists:
        return ()
    terms = terms_on(stores, distributor_id, at, known_at)
    return () if terms is None else terms.price_lists
