"""Sales waiting for a rate (docs/DESIGN.md, "Late rates"): a sale whose floor is in another
currency, judged before a rate for its day was known, is judged once one is, by the floor
that decided it then; or, when no rate came within the wait (`TimeRules.rate_wait`, of
recorded time from the sale's own), it is final as unpriced.

A rate is reference data; the sale lives in its distributor's partition. So, as re-matching
does (`projections.rematch`), the waiting sales are judged there, on the distributor's
recorded clock: each input of the distributor recorded at `t` first judges its waiting
sales whose day has a rate known by `t` (recorded at or before it, and at or before the
end of the sale's wait), at that rate, and ends the waits that ran out by `t`. That
depends on the inputs alone: a replay, which reads every rate first, judges them at the
same input and at the same rate as live did.

A waiting sale is filed under `distributor|FROM>TO|day|transaction_id` (the floor's
currency, the sale's, the sale's day); the distributor's `rate_wait_days` lists its
(pair, day) groups with how many sales wait in each and the earliest time one of them was
recorded, so an input reads one value and a rate lookup per group, and only the sales of
a group that has its rate or whose earliest wait ran out. A distributor keeps at most
`MAX_WAITING` sales waiting, in at most `MAX_WAITING_DAYS` groups: beyond either a sale
stays unpriced, and says why (`wait_for_rate`: its unpriced row, and a metric).

A sale a replacement report reverses waits no longer (`stop_waiting`): its corrected line,
judged on its own, waits under its own day if it needs to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, NamedTuple
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
#: why a sale could not wait for its rate: its distributor had `MAX_WAITING` sales waiting,
#: or `MAX_WAITING_DAYS` (pair, day) groups and the sale's day is not one of them
TOO_MANY_WAITING: Final = "too_many_waiting"
TOO_MANY_DAYS: Final = "too_many_days"
#: the earliest recorded time of a group stored before the groups kept it: read as long
#: ago, so the distributor's next input reads the group's sales and keeps their own
_UNKNOWN: Final = datetime(2000, 1, 1, tzinfo=UTC)


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


def recorded_at(sale: SaleReported) -> datetime:
    """When the sale was recorded (a file's without a recorded time: its business time)."""
    return sale.recorded_at or sale.business_time


#: a distributor's (pair, day) groups -> (sales waiting, the earliest recorded time of them)
Groups = dict[str, tuple[int, datetime]]


def groups_of(data: dict[str, Any]) -> Groups:
    """The stored groups (`rate_wait_days`); a count alone (stored before the groups kept
    their earliest time) as waiting since long ago."""
    return {
        group: (value, _UNKNOWN)
        if isinstance(value, int)
        else (value[0], datetime.fromisoformat(value[1]))
        for group, value in data.items()
    }


def groups_json(groups: Groups) -> dict[str, Any]:
    return {group: [n, first.isoformat()] for group, (n, first) in groups.items()}


def wait_for_rate(stores: ChannelStores, sale: SaleReported, floor: Floor) -> str | None:
    """File the sale to be judged once its day's rate is known; None when it is, else why
    not (`TOO_MANY_WAITING`, `TOO_MANY_DAYS`: the distributor has as many sales or groups
    waiting as it may, and the sale stays unpriced)."""
    group = group_of(sale, floor)
    key = f"{sale.distributor_id}|{group}|{sale.transaction_id}"
    if stores.rate_waits.get(key) is not None:  # the same sale judged again (a redelivery)
        stores.rate_waits.put(key, RateWait(sale, floor))
        return None
    groups = dict(stores.rate_wait_days.get(sale.distributor_id) or {})
    if sum(n for n, _ in groups.values()) >= MAX_WAITING:
        return TOO_MANY_WAITING
    if group not in groups and len(groups) >= MAX_WAITING_DAYS:
        return TOO_MANY_DAYS
    n, first = groups.get(group, (0, recorded_at(sale)))
    groups[group] = (n + 1, min(first, recorded_at(sale)))
    stores.rate_wait_days.put(sale.distributor_id, groups)
    stores.rate_waits.put(key, RateWait(sale, floor))
    return None


def stop_waiting(
    stores: ChannelStores, distributor_id: str, transaction_id: str, sold_at: datetime,
    currency: str,
) -> None:  # fmt: skip
    """A sale (sold at `sold_at` in `currency`) a replacement report reversed waits no
    longer: its wait leaves its group, and the group goes with its last sale. Reads the
    distributor's groups and the waits of those of the sale's day and currency (one, but
    for a floor in several currencies)."""
    groups = stores.rate_wait_days.get(distributor_id)
    if not groups:
        return
    ends = f">{currency}|{utc(sold_at).date().isoformat()}"
    for group in [group for group in groups if group.endswith(ends)]:
        key = f"{distributor_id}|{group}|{transaction_id}"
        if stores.rate_waits.get(key) is None:
            continue
        stores.rate_waits.delete(key)
        kept = dict(groups)
        n, first = kept.pop(group)
        if n > 1:  # its earliest time may be the sale's: read early once, then stored anew
            kept[group] = (n - 1, first)
        if kept:
            stores.rate_wait_days.put(distributor_id, kept)
        else:
            stores.rate_wait_days.delete(distributor_id)
        return


class Due(NamedTuple):
    """What an input of the distributor ends: the sales to judge, each with the rates
    known when it is judged, and the sales whose wait ran out, each with when it did."""

    priced: tuple[tuple[RateWait, RateLookup], ...]
    expired: tuple[tuple[RateWait, datetime], ...]


#: what a distributor without waiting sales has due (nearly every sale line asks)
NOTHING_DUE: Final = Due((), ())


def due(stores: ChannelStores, distributor_id: str, recorded: datetime, wait: timedelta) -> Due:
    """Take out the distributor's waiting sales whose day has a rate known by `recorded`
    and by the end of their wait (`wait` after the sale was recorded), with the rates
    known then, and those whose wait ran out by `recorded` without one (by group, then
    transaction id). A group is read only when it has its rate or its earliest wait ran
    out."""
    groups = stores.rate_wait_days.get(distributor_id)
    if not groups:
        return NOTHING_DUE
    rates = RateBook(stores.rates, recorded)
    priced: list[tuple[RateWait, RateLookup]] = []
    expired: list[tuple[RateWait, datetime]] = []
    kept: Groups = {}
    for group in sorted(groups):
        n, first = groups[group]
        pair, day_text = group.split("|")
        source, target = pair.split(">")
        day = date.fromisoformat(day_text)
        has_rate = rates(source, target, day) is not None
        if not has_rate and recorded < first + wait:
            kept[group] = (n, first)  # nothing of it is due: its sales are not read
            continue
        left: list[datetime] = []
        for key, waiting in list(stores.rate_waits.scan(f"{distributor_id}|{group}|")):
            ends = recorded_at(waiting.sale) + wait
            known = rates if recorded < ends else RateBook(stores.rates, ends)
            if has_rate and known(source, target, day) is not None:
                priced.append((waiting, known))
            elif recorded >= ends:
                expired.append((waiting, ends))
            else:
                left.append(recorded_at(waiting.sale))
                continue
            stores.rate_waits.delete(key)
        if left:
            kept[group] = (len(left), min(left))
    if kept != groups:
        if kept:
            stores.rate_wait_days.put(distributor_id, kept)
        else:
            stores.rate_wait_days.delete(distributor_id)
    return Due(tuple(priced), tuple(expired))
