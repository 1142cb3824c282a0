"""A claim line's book cost: the distributor's cost at its POS line's sale, remembered
by (distributor, sku, day) while what it was read from stands.

Every claim line reads the cost of its POS line (`projections.costs.cost_entry`: the
sku's price history, the distributor's agreement version, the price entry in effect);
the lines of a history share few (distributor, sku, day)s. The cost is a pure function
of the sku's `PriceHistory` and the distributor's `AgreementTimeline` as they stand, and
of the sale's day, unless a price of the sku takes effect during that day (then it is read
by the sale's time, never remembered). The stores replace those values and never change one
in place, so a cost kept with the very objects it was read from is the one a new read
would give while the stores hold those same objects; any change (a price, an agreement)
is a new object, and the next read of that key reads again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final, NamedTuple

from domain.claim_rules import BookCost, PosLine
from domain.timeutil import utc
from projections.agreement_timeline import AgreementTimeline
from projections.costs import cost_entry
from projections.price_book import PriceHistory
from projections.stores import ChannelStores

#: the most costs kept; emptied whole when full (a history's few distributors × skus × days)
KEPT: Final = 100_000


class _Known(NamedTuple):
    history: PriceHistory | None
    timeline: AgreementTimeline | None
    book: BookCost | None


#: pure memo (the objects read are in the key's check): the same for every store holding them
_known: dict[tuple[str, str, date], _Known] = {}


def distributor_book(stores: ChannelStores, pos: PosLine) -> BookCost | None:
    """The distributor's cost at the sale: its own price, else the list price less its
    agreement's group discount (`projections.costs.unit_cost`), the price entry, and the
    agreement version when its terms priced it."""
    history = stores.prices.get(pos.sku)
    timeline = stores.agreements.get(pos.distributor_id)
    sold_at = utc(pos.sold_at)
    key = (pos.distributor_id, pos.sku, sold_at.date())
    known = _known.get(key)
    if known is not None and known.history is history and known.timeline is timeline:
        return known.book
    found = cost_entry(stores, pos.sku, pos.distributor_id, sold_at)
    version = None if found is None else found.version
    book = None
    if found is not None:
        agreement = None if version is None else version.event_id
        book = BookCost(found.cost, found.entry.currency, found.entry.event_id, agreement)
    if history is None or not _priced_during(history, key[2]):
        if len(_known) >= KEPT:
            _known.clear()
        _known[key] = _Known(history, timeline, book)
    return book


def _priced_during(history: PriceHistory, day: date) -> bool:
    """Whether a price of the sku takes effect during `day` after its first instant."""
    start = datetime.combine(day, time(), UTC)
    end = start + timedelta(days=1)
    return any(start < entry.effective_from < end for entry in history.entries)
