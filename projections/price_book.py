"""The price book: every price per SKU, and the one place that answers "which price was in
effect when?".

Inventory valuation (distributor_cost in effect), the price rules (floor_price in effect:
`projections.price_rules`) and price protection (distributor_cost drops:
`projections.price_protection_claims`) all read the same `PriceHistory`. Everything here
is pure: functions return new values and never touch the ones passed in.

Specificity. A `PriceChanged` is a general list price (no distributor_id: the standard
list, or a named `price_list`), a special price authorization for one distributor
(distributor_id), or one for a reseller of that distributor (distributor_id and
reseller_id). The reseller may be the distributor's own id for it (an alias) or a master
id (docs/IDENTITY.md): a price for a master covers every alias of the distributor that
means the master when the sale is judged. For a lookup the most specific scope with an
entry in effect wins: the alias's, its master's, the distributor's, then each named list
the distributor's agreement binds (in the agreement's order), then the standard list;
within a scope the latest `effective_from <= at`, and among entries with the same
effective time the one that arrived last. Each named list is a scope of its own, with its
own history.

Late prices. Prices must be announced before the business dates they govern. One that
is announced after its effective time (`PriceChanged.published_at`, or when it was
recorded) is *not* back-dated over sales made before distributors could know it: it is
stored as effective from its announcement (`seen_until` here) and flagged
`arrived_late`; its declared effective time is kept in `declared_from` for the audit
trail. Both times are in the event itself, so the same history is built whatever order
the price and the sales arrive in, live or in a replay.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.agreements import distributor_cost
from domain.timeutil import utc
from projections.positions import Position, advance
from schemas.agreements import AgreementTerms
from schemas.events import PriceChanged

#: a price's scope: (distributor_id, reseller_id, price_list)
Scope = tuple[str | None, str | None, str | None]
STANDARD_LIST: Scope = (None, None, None)


@dataclass(frozen=True, slots=True)
class PriceEntry:
    """One applied price. `effective_from` is when it governs; `declared_from` what it said."""

    effective_from: datetime
    distributor_cost: Decimal
    floor_price: Decimal
    currency: str
    distributor_id: str | None
    reseller_id: str | None
    event_id: UUID
    arrived_late: bool = False
    #: the event's own effective_from (differs from effective_from only when arrived_late)
    declared_from: datetime | None = None
    #: the named list of a list price (None: the standard list, or a special price)
    price_list: str | None = None

    @property
    def scope(self) -> Scope:
        return (self.distributor_id, self.reseller_id, self.price_list)

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.effective_from.isoformat(),
            "declared": self.declared_from.isoformat() if self.declared_from else None,
            "cost": str(self.distributor_cost),
            "floor": str(self.floor_price),
            "cur": self.currency,
            "d": self.distributor_id,
            "r": self.reseller_id,
            "id": str(self.event_id),
            "late": self.arrived_late,
            **({"l": self.price_list} if self.price_list is not None else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PriceEntry:
        return cls(
            effective_from=datetime.fromisoformat(data["from"]),
            distributor_cost=Decimal(data["cost"]),
            floor_price=Decimal(data["floor"]),
            currency=data["cur"],
            distributor_id=data["d"],
            reseller_id=data["r"],
            event_id=UUID(data["id"]),
            arrived_late=data["late"],
            declared_from=datetime.fromisoformat(data["declared"]) if data["declared"] else None,
            price_list=data.get("l"),
        )


@dataclass(frozen=True, slots=True)
class PriceHistory:
    """Every price of one SKU, sorted by (effective_from, arrival order)."""

    sku: str
    entries: tuple[PriceEntry, ...] = ()
    #: the latest effective_from stored (None while empty)
    latest_effective: datetime | None = None
    applied: dict[str, int] = field(default_factory=dict)
    #: `cost_drops` of the entries, kept with them (movements read it)
    drops: tuple[CostDrop, ...] = ()

    @property
    def named_lists(self) -> bool:
        """Whether any price of the SKU is on a named list (else no agreement is read)."""
        return any(entry.price_list is not None for entry in self.entries)

    @property
    def late_entries(self) -> int:
        return sum(1 for entry in self.entries if entry.arrived_late)

    def has_event(self, event_id: UUID) -> bool:
        return any(entry.event_id == event_id for entry in self.entries)

    def to_json(self) -> dict[str, Any]:
        return {
            "s": self.sku,
            "entries": [entry.to_json() for entry in self.entries],
            "latest": self.latest_effective.isoformat() if self.latest_effective else None,
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PriceHistory:
        return cls(
            sku=data["s"],
            entries=tuple(PriceEntry.from_json(entry) for entry in data["entries"]),
            latest_effective=datetime.fromisoformat(data["latest"]) if data["latest"] else None,
            applied=dict(data["applied"]),
        ).with_drops()

    def with_drops(self) -> PriceHistory:
        return replace(self, drops=cost_drops(self.sku, self.entries))


@dataclass(frozen=True, slots=True)
class CostDrop:
    """distributor_cost fell in one scope; the caller turns it into price-protection claims.

    `event_id` is the PriceChanged that caused it, so claim ids can be derived from it.
    """

    sku: str
    distributor_id: str | None  # None: the general list dropped
    effective_from: datetime
    old_cost: Decimal
    new_cost: Decimal
    currency: str
    event_id: UUID
    #: the named list that dropped (None: the standard list, or a distributor's price)
    price_list: str | None = None

    @property
    def scope(self) -> Scope:
        return (self.distributor_id, None, self.price_list)


def apply_price(
    history: PriceHistory,
    event: PriceChanged,
    position: Position | None,
    seen_until: datetime | None,
) -> tuple[PriceHistory, CostDrop | None]:
    """Add one PriceChanged to the SKU's history.

    - An input at or below the history's applied position, or an event_id already in the
      history (a redelivery), changes nothing and triggers nothing.
    - `seen_until` is the latest business time of sales already judged (None: nothing
      judged yet). When it is later than the event's effective_from the price arrived
      late: it is stored effective from `seen_until` with `arrived_late=True` and its
      declared time in `declared_from`, never back-dated over verdicts already given.
      A price effective exactly at `seen_until` is not late.
    - A `CostDrop` is returned when distributor_cost is lower than the cost in effect,
      in the same scope, at the entry's (stored) effective time just before this entry:
      the general list is compared with the general list, a distributor's authorization
      with that distributor's earlier authorizations (no fallback to the list). The
      first price of a scope, a rise, an equal cost, a change of currency and any
      reseller-specific price never trigger one (price protection covers a
      distributor's whole stock, which a reseller-specific authorization does not govern).
      A named list's drop is compared with that list's earlier price; which distributors
      it concerns is price protection's decision (their agreements).
    - Only the step at the new entry is compared: a price inserted between two existing
      ones does not re-evaluate drops already reported for later entries.
    """
    if event.sku != history.sku:
        raise ValueError(f"price for {event.sku!r} applied to the history of {history.sku!r}")
    applied = advance(history.applied, position)
    if applied is None or history.has_event(event.event_id):
        return history, None
    declared = utc(event.effective_from)
    judged = None if seen_until is None else utc(seen_until)
    late = judged is not None and judged > declared
    effective = judged if late and judged is not None else declared
    entry = PriceEntry(
        effective_from=effective,
        distributor_cost=event.distributor_cost,
        floor_price=event.floor_price,
        currency=event.currency,
        distributor_id=event.distributor_id,
        reseller_id=event.reseller_id,
        event_id=event.event_id,
        arrived_late=late,
        declared_from=declared,
        price_list=event.price_list,
    )
    drop = _cost_drop(history, entry)
    index = bisect_right([existing.effective_from for existing in history.entries], effective)
    entries = (*history.entries[:index], entry, *history.entries[index:])
    latest = history.latest_effective
    new_history = replace(
        history,
        entries=entries,
        latest_effective=effective if latest is None or effective > latest else latest,
        applied=applied,
        drops=cost_drops(history.sku, entries),
    )
    return new_history, drop


def price_in_effect(
    history: PriceHistory,
    at: datetime,
    distributor_id: str | None,
    reseller_id: str | None,
    master_id: str | None = None,
    *,
    lists: Sequence[str] = (),
) -> PriceEntry | None:
    """The most specific entry in effect at `at` (effective_from <= at), or None.

    Reseller-specific entries need both distributor_id and reseller_id to match (a
    reseller's authorization through another distributor does not apply); then, when the
    reseller is an alias mapped to `master_id`, the distributor's entries for that master;
    then distributor-specific, then the named `lists` in their order (those the
    distributor's agreement binds), then the standard list.
    """
    at = utc(at)
    scopes: list[Scope] = []
    if distributor_id is not None and reseller_id is not None:
        scopes.append((distributor_id, reseller_id, None))
        if master_id is not None and master_id != reseller_id:
            scopes.append((distributor_id, master_id, None))
    if distributor_id is not None:
        scopes.append((distributor_id, None, None))
    scopes += [(None, None, name) for name in lists]
    scopes.append(STANDARD_LIST)
    for scope in scopes:
        found = _latest_in_scope(history.entries, at, scope)
        if found is not None:
            return found
    return None


def cost_in_effect(
    history: PriceHistory, at: datetime, distributor_id: str, terms: AgreementTerms | None
) -> tuple[Decimal, PriceEntry] | None:
    """The distributor's cost at `at` under `terms` (the agreement version governing that
    day; None: none does), with the price entry it comes from (None: no price). Its own
    price as it is; else the first list `terms` binds with a price in effect, else the
    standard list, less the discount `terms` gives the SKU's group (docs/AGREEMENTS.md,
    "The distributor's cost under an agreement")."""
    lists = () if terms is None else terms.price_lists
    entry = price_in_effect(history, at, distributor_id, None, lists=lists)
    if entry is None:
        return None
    listed = entry.distributor_id is None
    cost = distributor_cost(entry.distributor_cost, entry.currency, listed, terms, history.sku)
    return cost, entry


def _latest_in_scope(
    entries: tuple[PriceEntry, ...], at: datetime, scope: Scope
) -> PriceEntry | None:
    """Last entry of exactly this scope with effective_from <= at (entries are sorted)."""
    found = None
    for entry in entries:
        if entry.effective_from > at:
            break
        if entry.scope == scope:
            found = entry
    return found


def _cost_drop(history: PriceHistory, entry: PriceEntry) -> CostDrop | None:
    before = _latest_in_scope(history.entries, entry.effective_from, entry.scope)
    return _drop(history.sku, before, entry)


def _drop(sku: str, before: PriceEntry | None, entry: PriceEntry) -> CostDrop | None:
    """The drop from `before` to `entry` (same scope), if distributor_cost fell."""
    if (
        entry.reseller_id is not None
        or before is None
        or before.currency != entry.currency
        or entry.distributor_cost >= before.distributor_cost
    ):
        return None
    return CostDrop(
        sku=sku,
        distributor_id=entry.distributor_id,
        effective_from=entry.effective_from,
        old_cost=before.distributor_cost,
        new_cost=entry.distributor_cost,
        currency=entry.currency,
        event_id=entry.event_id,
        price_list=entry.price_list,
    )


def cost_drops(sku: str, entries: tuple[PriceEntry, ...]) -> tuple[CostDrop, ...]:
    """Every drop of distributor_cost in a SKU's entries, each against the price before it
    in its scope (the previous entry of that scope: entries are sorted by effective time)."""
    drops = []
    previous: dict[Scope, PriceEntry] = {}
    for entry in entries:
        drop = _drop(sku, previous.get(entry.scope), entry)
        previous[entry.scope] = entry
        if drop is not None:
            drops.append(drop)
    return tuple(drops)
