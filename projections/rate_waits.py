"""Sales waiting for a rate (docs/DESIGN.md, "Late rates"): a sale whose floor is in another
currency, judged before a rate for its day was known, is judged once one is, by the floor
that decided it then.

A rate is reference data; the sale lives in its distributor's partition. So, as re-matching
does (`projections.rematch`), the waiting sales are judged there, on the distributor's
recorded clock: each input of the distributor recorded at `t` first judges its waiting
sales whose day has a rate known by `t` (recorded at or before it), at that rate. That
depends on the inputs alone: a replay, which reads every rate first, judges them at the
same input and at the same rate as live did.

A waiting sale is filed under `distributor|FROM>TO|day|transaction_id` (the floor's
currency, the sale's, the sale's day); the distributor's `rate_wait_days` lists its
(pair, day) groups with how many sales wait in each, so an input reads one value and a
rate lookup per group, and only the sales of a group that has its rate. A distributor
keeps at most `MAX_WAITING` sales waiting, in at most `MAX_WAITING_DAYS` groups: beyond
either a sale stays unpriced, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from domain.currency import RateLookup
from domain.timeutil import utc
from projections.exchange_rates import RateBook
from projections.price_rules import Floor
from schemas.codec import event_of, event_to_dict
from schemas.events import SaleReported

if TYPE_CHECKING:  # the stores hold the waiting sales
    from projections.stores import ChannelStores

#: at most this many sales of one distributor wait for a rate
MAX_WAITING: Final = 1000
#: in at most this many (pair, day) groups: what each of its inputs looks a rate up for
MAX_WAITING_DAYS: Final = 64


@dataclass(frozen=True, slots=True)
class RateWait:
    """A sale judged unpriced for want of its day's rate, and the floor that decided it."""

    sale: SaleReported
    floor: Floor

    def to_json(self) -> dict[str, Any]:
        floor = self.floor
        alias = None if floor.alias_event_id is None else str(floor.alias_event_id)
        return {
            "sale": event_to_dict(self.sale),
            "floor": [str(floor.floor_price), floor.currency, floor.scope,
                      str(floor.price_event_id), alias],
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RateWait:
        sale = event_of(data["sale"])
        assert isinstance(sale, SaleReported)
        price, currency, scope, price_event_id, alias = data["floor"]
        floor = Floor(
            Decimal(price), currency, scope, UUID(price_event_id),
            None if alias is None else UUID(alias),
        )  # fmt: skip
        return cls(sale, floor)


def group_of(sale: SaleReported, floor: Floor) -> str:
    """The (pair, day) a waiting sale needs a rate for: `FROM>TO|day`."""
    return f"{floor.currency}>{sale.currency}|{utc(sale.sold_at).date().isoformat()}"


def wait_for_rate(stores: ChannelStores, sale: SaleReported, floor: Floor) -> bool:
    """File the sale to be judged once its day's rate is known; False when the
    distributor has as many sales or groups waiting as it may (it stays unpriced)."""
    group = group_of(sale, floor)
    key = f"{sale.distributor_id}|{group}|{sale.transaction_id}"
    if stores.rate_waits.get(key) is not None:  # a corrected line of the same sale
        stores.rate_waits.put(key, RateWait(sale, floor))
        return True
    days = dict(stores.rate_wait_days.get(sale.distributor_id) or {})
    if sum(days.values()) >= MAX_WAITING or (group not in days and len(days) >= MAX_WAITING_DAYS):
        return False
    days[group] = days.get(group, 0) + 1
    stores.rate_wait_days.put(sale.distributor_id, days)
    stores.rate_waits.put(key, RateWait(sale, floor))
    return True


def due(
    stores: ChannelStores, distributor_id: str, recorded: datetime
) -> tuple[tuple[RateWait, RateLookup], ...]:
    """Take out the distributor's waiting sales whose day has a rate known by `recorded`,
    with the rates known then (by group, then transaction id)."""
    days = stores.rate_wait_days.get(distributor_id)
    if not days:
        return ()
    rates = RateBook(stores.rates, recorded)
    found: list[tuple[RateWait, RateLookup]] = []
    taken: dict[str, int] = {}
    for group in sorted(days):
        pair, day = group.split("|")
        source, target = pair.split(">")
        if rates(source, target, date.fromisoformat(day)) is None:
            continue
        for key, waiting in list(stores.rate_waits.scan(f"{distributor_id}|{group}|")):
            found.append((waiting, rates))
            stores.rate_waits.delete(key)
        taken[group] = days[group]
    if taken:
        _forget(stores, distributor_id, taken)
    return tuple(found)


def _forget(stores: ChannelStores, distributor_id: str, taken: dict[str, int]) -> None:
    days = dict(stores.rate_wait_days.get(distributor_id) or {})
    for group, n in taken.items():
        left = days.get(group, 0) - n
        if left > 0:
            days[group] = left
        else:
            days.pop(group, None)
    if days:
        stores.rate_wait_days.put(distributor_id, days)
    else:
        stores.rate_wait_days.delete(distributor_id)
