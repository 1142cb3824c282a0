"""Channel inventory per (distributor, sku), in business time.

`apply_movements` takes shipments (sell-in) and sales (sell-through); `apply_count` takes
a physical count and returns the reconciliation it gives rise to. Both are pure: they
return a new state and never touch the one passed in.

The state holds only what does not grow with history: totals, the last count, the
movements of the last few weeks by day (what weeks of supply reads), and per cost drop
of its SKU what moved after the drop (what price protection reads). The full history
lives elsewhere, one key each: every movement with its timestamp (`Move`, by day) and
each day's totals (`projections.tallies.InOut`), so a count reconciles to the second by
reading only the days after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from domain.frozen import quick_init
from projections.positions import Position, advance

#: days of movements kept in the state, counted back from its latest business day: the
#: 28 days weeks of supply reads, and a week's margin for "now" running ahead of it
RECENT_DAYS = 35


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """An audit fact: a count compared with the expected on-hand as of its time."""

    distributor_id: str
    sku: str
    counted_at: datetime
    on_hand: int
    expected: int
    variance: int
    stale: bool  # dated before the count already in force: history only, not rebased


@quick_init
@dataclass(frozen=True, slots=True)
class InventoryState:
    distributor_id: str
    sku: str
    sell_in: int = 0
    sell_through: int = 0
    #: ISO day -> [sell_in, sell_through] of the last RECENT_DAYS business days
    recent: dict[str, list[int]] = field(default_factory=dict)
    latest: datetime | None = None
    count_on_hand: int | None = None
    counted_at: datetime | None = None
    last_variance: int | None = None
    #: movements dated after `counted_at` (the count already holds the earlier ones)
    after_in: int = 0
    after_through: int = 0
    late_after_count: int = 0
    #: cost drop (its price event id) -> [sell_in, sell_through] dated after its
    #: effective_from, counted from when the drop was known (see `drop_trackers`)
    since_drops: dict[str, list[int]] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)

    @property
    def expected_on_hand(self) -> int:
        if self.count_on_hand is None:
            return self.sell_in - self.sell_through
        return self.count_on_hand + self.after_in - self.after_through

    def to_json(self) -> dict[str, Any]:
        return {
            "d": self.distributor_id,
            "s": self.sku,
            "in": self.sell_in,
            "out": self.sell_through,
            "recent": self.recent,
            "latest": self.latest.isoformat() if self.latest else None,
            "count": [self.count_on_hand, self.counted_at.isoformat(), self.last_variance]
            if self.counted_at is not None
            else None,
            "after": [self.after_in, self.after_through],
            "late": self.late_after_count,
            "drops": self.since_drops,
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InventoryState:
        count = data["count"]
        return cls(
            distributor_id=data["d"],
            sku=data["s"],
            sell_in=data["in"],
            sell_through=data["out"],
            recent=data["recent"],
            latest=datetime.fromisoformat(data["latest"]) if data["latest"] else None,
            count_on_hand=count[0] if count else None,
            counted_at=datetime.fromisoformat(count[1]) if count else None,
            last_variance=count[2] if count else None,
            after_in=data["after"][0],
            after_through=data["after"][1],
            late_after_count=data["late"],
            since_drops=data["drops"],
            applied=data["applied"],
        )


def inventory_key(distributor_id: str, sku: str) -> str:
    """The key of a (distributor, sku) state in the channel projection's `inventory` store."""
    return f"{distributor_id}|{sku}"


def day_of(moment: datetime) -> str:
    return moment.date().isoformat()


def apply_movement(
    state: InventoryState,
    at: datetime,
    sell_in: int,
    sell_through: int,
    position: Position | None = None,
) -> InventoryState:
    """Add a shipment (sell_in) or a sale (sell_through) dated `at`; returns may be negative."""
    return apply_movements(state, ((at, sell_in, sell_through),), position)


def apply_movements(
    state: InventoryState,
    movements: Iterable[tuple[datetime, int, int]],
    position: Position | None = None,
    drops: dict[str, tuple[datetime, list[int]]] | None = None,
) -> InventoryState:
    """Add several (at, sell_in, sell_through) movements that one input caused, together
    under its one position (a second call at that position would be skipped).

    `drops` (see `drop_trackers`): the SKU's cost drops with what had moved after each
    before these movements; each movement dated after a drop's effective_from adds to it.
    """
    applied = advance(state.applied, position)
    if applied is None:
        return state
    recent = dict(state.recent)
    latest = state.latest
    counted_at = state.counted_at
    totals = [state.sell_in, state.sell_through]
    after = [state.after_in, state.after_through]
    late_count = state.late_after_count
    trackers = {key: (effective, list(moved)) for key, (effective, moved) in (drops or {}).items()}
    for at, sell_in, sell_through in movements:
        day = at.date().isoformat()  # day_of(at), inlined: once per movement
        bucket = recent.get(day)
        recent[day] = (
            [sell_in, sell_through]
            if bucket is None
            else [bucket[0] + sell_in, bucket[1] + sell_through]
        )
        if latest is None or at > latest:
            latest = at
        totals[0] += sell_in
        totals[1] += sell_through
        if counted_at is not None and at <= counted_at:
            late_count += 1
        else:
            after[0] += sell_in
            after[1] += sell_through
        for effective, moved in trackers.values():
            if at > effective:
                moved[0] += sell_in
                moved[1] += sell_through
    since_drops = state.since_drops
    if trackers:
        since_drops = {**since_drops, **{key: moved for key, (_, moved) in trackers.items()}}
    # built directly, not with dataclasses.replace: this runs once per input and SKU
    return InventoryState(
        state.distributor_id, state.sku, totals[0], totals[1], _recent_days(recent, latest),
        latest, state.count_on_hand, counted_at, state.last_variance, after[0], after[1],
        late_count, since_drops, applied,
    )  # fmt: skip


def _recent_days(recent: dict[str, list[int]], latest: datetime | None) -> dict[str, list[int]]:
    """The days of the last RECENT_DAYS business days up to `latest`. Mostly none has
    left the window: then `recent` itself, not a copy (`min` of the keys costs a fraction
    of a comprehension over them)."""
    if latest is None or not recent:
        return recent
    oldest = (latest.date() - timedelta(days=RECENT_DAYS - 1)).isoformat()
    if min(recent) >= oldest:
        return recent
    return {day: moved for day, moved in recent.items() if day >= oldest}


def drop_trackers(
    state: InventoryState,
    drops: Iterable[tuple[str, datetime]],
    moved_after: Any,
) -> dict[str, tuple[datetime, list[int]]]:
    """The state's movement trackers for the SKU's cost drops (price event id,
    effective_from), each with what already moved after the drop.

    A drop the state does not track yet starts at nothing when the state has not moved
    after its effective_from; otherwise (a drop that became known after movements dated
    after it) `moved_after(effective_from)` -> (sell_in, sell_through) reads the history.
    """
    found: dict[str, tuple[datetime, list[int]]] = {}
    for key, effective_from in drops:
        known = state.since_drops.get(key)
        if known is not None:
            found[key] = (effective_from, list(known))
        elif state.latest is None or state.latest <= effective_from:
            found[key] = (effective_from, [0, 0])
        else:
            found[key] = (effective_from, list(moved_after(effective_from)))
    return found


def apply_count(
    state: InventoryState,
    counted_at: datetime,
    on_hand: int,
    moved_after: tuple[int, int],
    position: Position | None = None,
) -> tuple[InventoryState, Reconciliation | None]:
    """Reconcile a physical count with the expected on-hand as of `counted_at`.

    `moved_after` is (sell_in, sell_through) already received with business time after
    `counted_at` (`movements_after`).
    """
    applied = advance(state.applied, position)
    if applied is None:
        return state, None
    moved_in, moved_out = moved_after
    stale = state.counted_at is not None and counted_at < state.counted_at
    if stale:
        expected = (state.sell_in - moved_in) - (state.sell_through - moved_out)
        fact = Reconciliation(
            state.distributor_id, state.sku, counted_at, on_hand, expected, on_hand - expected, True
        )
        return replace(state, applied=applied), fact
    expected = state.expected_on_hand - moved_in + moved_out
    variance = on_hand - expected
    fact = Reconciliation(
        state.distributor_id, state.sku, counted_at, on_hand, expected, variance, False
    )
    new_state = replace(
        state,
        count_on_hand=on_hand,
        counted_at=counted_at,
        last_variance=variance,
        after_in=moved_in,
        after_through=moved_out,
        applied=applied,
    )
    return new_state, fact


class Move(NamedTuple):
    """One movement as history keeps it: enough to reconcile counts, compute rebates and
    reverse the lines of a replaced report.

    A reversal (see projections/replacement.py) is a move of its own: the negated
    quantities of the move it `reverses`, at its business time and price, recorded when
    the replacing report (its `report_id`) arrived. The reversed move stays as it was.
    """

    at: str  # ISO business time (UTC)
    sell_in: int
    sell_through: int
    unit_price: str  # decimal string, per base unit
    currency: str
    event_id: str
    recorded: str  # ISO time it was recorded at ingest (business time when not given)
    #: the report the line came in (a reversal: the replacing report); None for the rest
    report_id: str | None = None
    #: transaction_id and reseller_id of a sale line (None for a shipment), so a
    #: replacement can release its idempotency key and take it off its reseller
    line: str | None = None
    reseller_id: str | None = None
    #: event_id of the move this one reverses
    reverses: str | None = None

    @property
    def basis(self) -> str:
        """Which rebate basis the move counts for: shipments sell-in, sales sell-through."""
        return "sell_in" if self.reseller_id is None else "sell_through"

    def to_json(self) -> list[object]:
        """A list without trailing Nones: ordinary moves stay small."""
        fields: list[object] = list(self)
        while fields[-1] is None:
            fields.pop()
        return fields

    @classmethod
    def from_json(cls, data: list[Any]) -> Move:
        return cls(*data)


def move_key(distributor_id: str, sku: str, move: Move) -> str:
    """Where a move is kept: by day, then time, then event id (a day's moves in order)."""
    return f"{distributor_id}|{sku}|{move.at[:10]}|{move.at}|{move.event_id}"


def day_prefix(distributor_id: str, sku: str, day: str) -> str:
    """The prefix of one (distributor, sku, day)'s moves, and of its day totals' key."""
    return f"{distributor_id}|{sku}|{day}|"


def movements_after(
    at: datetime, later_days: Iterable[tuple[int, int]], same_day: Iterable[Move]
) -> tuple[int, int]:
    """Sell-in and sell-through with business time after `at`: the totals of the days
    after its day, plus its own day's moves later than `at`."""
    moved_in = moved_out = 0
    for qty_in, qty_out in later_days:
        moved_in += qty_in
        moved_out += qty_out
    stamp = at.isoformat()
    for move in same_day:
        if move.at > stamp:
            moved_in += move.sell_in
            moved_out += move.sell_through
    return moved_in, moved_out


def sold_between(state: InventoryState, start: date, end: date) -> int | None:
    """Sell-through of the business days in [start, end) from the recent days, or None
    when the range reaches back past what the state keeps."""
    if state.latest is None:
        return 0
    oldest = state.latest.date() - timedelta(days=RECENT_DAYS - 1)
    if start < oldest and end > start:
        return None
    low, high = start.isoformat(), end.isoformat()
    return sum(moved[1] for day, moved in state.recent.items() if low <= day < high)
