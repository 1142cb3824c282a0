"""Channel inventory per (distributor, sku), in business time.

`apply_movement` takes shipments (sell-in) and sales (sell-through); `apply_count` takes a
physical count and returns the reconciliation it gives rise to. Both are pure: they return
a new state and never touch the one passed in.

The position state keeps one bucket per business day. A count is reconciled to the
second, so the movements of each day are also kept with their timestamps in a separate
`DayDetail` value (one per distributor, SKU and day): the count reads only its own day's.
Keeping them apart keeps the per-SKU value small, whatever the history's length.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, NamedTuple

from projections.positions import Position, advance


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


@dataclass(frozen=True, slots=True)
class InventoryState:
    distributor_id: str
    sku: str
    sell_in: int = 0
    sell_through: int = 0
    #: ISO day -> [sell_in, sell_through] of that business day
    days: dict[str, list[int]] = field(default_factory=dict)
    latest: datetime | None = None
    count_on_hand: int | None = None
    counted_at: datetime | None = None
    last_variance: int | None = None
    #: movements dated after `counted_at` (the count already holds the earlier ones)
    after_in: int = 0
    after_through: int = 0
    late_after_count: int = 0
    applied: dict[str, int] = field(default_factory=dict)

    @property
    def expected_on_hand(self) -> int:
        if self.count_on_hand is None:
            return self.sell_in - self.sell_through
        return self.count_on_hand + self.after_in - self.after_through

    def sold_between(self, start: date, end: date) -> int:
        """Sell-through of the business days in [start, end)."""
        total = 0
        for day, (_, through) in self.days.items():
            if start.isoformat() <= day < end.isoformat():
                total += through
        return total

    def to_json(self) -> dict[str, Any]:
        return {
            "d": self.distributor_id,
            "s": self.sku,
            "in": self.sell_in,
            "out": self.sell_through,
            "days": self.days,
            "latest": self.latest.isoformat() if self.latest else None,
            "count": [self.count_on_hand, self.counted_at.isoformat(), self.last_variance]
            if self.counted_at is not None
            else None,
            "after": [self.after_in, self.after_through],
            "late": self.late_after_count,
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
            days=data["days"],
            latest=datetime.fromisoformat(data["latest"]) if data["latest"] else None,
            count_on_hand=count[0] if count else None,
            counted_at=datetime.fromisoformat(count[1]) if count else None,
            last_variance=count[2] if count else None,
            after_in=data["after"][0],
            after_through=data["after"][1],
            late_after_count=data["late"],
            applied=data["applied"],
        )


def inventory_key(distributor_id: str, sku: str) -> str:
    """The key of a (distributor, sku) state in the channel projection's `inventory` store."""
    return f"{distributor_id}|{sku}"


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
) -> InventoryState:
    """Add several (at, sell_in, sell_through) movements that one input caused, together
    under its one position (a second call at that position would be skipped)."""
    applied = advance(state.applied, position)
    if applied is None:
        return state
    days = dict(state.days)
    latest = state.latest
    counted_at = state.counted_at
    sell_in_total, sell_through_total = state.sell_in, state.sell_through
    after_in, after_through = state.after_in, state.after_through
    late_count = state.late_after_count
    for at, sell_in, sell_through in movements:
        day = at.date().isoformat()  # day_of(at), inlined: once per movement
        bucket = days.get(day)
        days[day] = (
            [sell_in, sell_through]
            if bucket is None
            else [bucket[0] + sell_in, bucket[1] + sell_through]
        )
        if latest is None or at > latest:
            latest = at
        sell_in_total += sell_in
        sell_through_total += sell_through
        if counted_at is not None and at <= counted_at:
            late_count += 1
        else:
            after_in += sell_in
            after_through += sell_through
    # built directly, not with dataclasses.replace: this runs once per movement
    return InventoryState(
        distributor_id=state.distributor_id,
        sku=state.sku,
        sell_in=sell_in_total,
        sell_through=sell_through_total,
        days=days,
        latest=latest,
        count_on_hand=state.count_on_hand,
        counted_at=counted_at,
        last_variance=state.last_variance,
        after_in=after_in,
        after_through=after_through,
        late_after_count=late_count,
        applied=applied,
    )


def apply_count(
    state: InventoryState,
    counted_at: datetime,
    on_hand: int,
    position: Position | None = None,
    count_day: DayDetail | None = None,
) -> tuple[InventoryState, Reconciliation | None]:
    """Reconcile a physical count with the expected on-hand as of `counted_at`.

    `count_day` holds the timestamped movements of the count's business day (None: none).
    """
    applied = advance(state.applied, position)
    if applied is None:
        return state, None
    moved_in, moved_out = movements_after(state, counted_at, count_day)
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
    new_state = InventoryState(  # built directly, not with dataclasses.replace (hot path)
        distributor_id=state.distributor_id,
        sku=state.sku,
        sell_in=state.sell_in,
        sell_through=state.sell_through,
        days=state.days,
        latest=state.latest,
        count_on_hand=on_hand,
        counted_at=counted_at,
        last_variance=variance,
        after_in=moved_in,
        after_through=moved_out,
        late_after_count=state.late_after_count,
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
    #: transaction_id and reseller_id of a reported line, so a replacement can release its
    #: idempotency key and take it off its reseller (set only with report_id)
    line: str | None = None
    reseller_id: str | None = None
    #: event_id of the move this one reverses
    reverses: str | None = None

    def to_json(self) -> list[object]:
        """A list without trailing Nones: values stored before the optional fields existed
        read back the same, and ordinary moves stay as small as they were."""
        fields: list[object] = list(self)
        while fields[-1] is None:
            fields.pop()
        return fields


@dataclass(frozen=True, slots=True)
class DayDetail:
    """The movements of one (distributor, sku) on one business day."""

    distributor_id: str
    sku: str
    day: str
    moves: tuple[Move, ...] = ()
    applied: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "d": self.distributor_id,
            "s": self.sku,
            "day": self.day,
            "moves": [move.to_json() for move in self.moves],
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DayDetail:
        moves = tuple(Move(*m) for m in data["moves"])
        return cls(data["d"], data["s"], data["day"], moves, data["applied"])


def day_of(moment: datetime) -> str:
    return moment.date().isoformat()


def record_intraday(detail: DayDetail, move: Move, position: Position | None = None) -> DayDetail:
    return record_intraday_moves(detail, (move,), position)


def record_intraday_moves(
    detail: DayDetail, moves: Sequence[Move], position: Position | None = None
) -> DayDetail:
    """Append the moves one input caused on this day, together under its one position."""
    applied = advance(detail.applied, position)
    if applied is None:
        return detail
    # built directly, not with dataclasses.replace: this runs once per movement
    appended = (*detail.moves, *moves)
    return DayDetail(detail.distributor_id, detail.sku, detail.day, appended, applied)


def movements_after(
    state: InventoryState, at: datetime, count_day: DayDetail | None
) -> tuple[int, int]:
    """Sell-in and sell-through already received with business time after `at`."""
    day = day_of(at)
    moved_in = moved_out = 0
    for bucket_day, (qty_in, qty_out) in state.days.items():
        if bucket_day > day:
            moved_in += qty_in
            moved_out += qty_out
    if count_day is not None:
        stamp = at.isoformat()
        for move in count_day.moves:
            if move.at > stamp:
                moved_in += move.sell_in
                moved_out += move.sell_through
    return moved_in, moved_out
