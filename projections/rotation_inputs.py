"""Stock rotation requests and their return shipments as the channel projection applies them.

A request (`StockRotationRequested`, on the `rotations` topic keyed by distributor) is
decided through `projections.stock_rotations.decide_requests` against what the stores hold
when it is applied: the agreement in effect on its day, each sku's aging state and
count-aware on-hand, the price histories, the rate months, the rotation period's purchases
(the distributor's sell-in tallies, other currencies converted at each day's rate),
its period's ledger and the units reserved by accepted
rotations not shipped back yet. It writes a bounded amount: its own `RotationRecord`, its
period's ledger and, when accepted, its `ExpectedReturn` (by shipment id) and its units
in the distributor's `Reservations` (per sku). The decision is an audit fact (`RotationDecided`).

A request key (distributor_id, request_id) is decided once: the same request again is a
duplicate; different lines or day under the same key are `conflicting_duplicate`.

A negative `ShipmentRecorded` under an accepted rotation's expected return shipment id is
received (`RotationReturned`, up to the units still due per sku; more counts as an
ordinary return to the vendor), and releases that many reserved units. A positive one
under its expected exchange shipment id ships its exchange order (`RotationExchanged`, up
to the units ordered per sku; more is an ordinary shipment).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar
from uuid import UUID

from domain.calendar_periods import PeriodKind
from domain.currency import MixedTotal
from domain.rebate_programs import period_bounds
from domain.rotation_lifecycle import decision_summary, rotation_aggregate_id
from domain.stock_rotation import (
    RotationDecision,
    is_exchange_shipment,
    is_return_shipment,
    rotation_period,
)
from projections.dedup import Verdict
from projections.exchange_rates import RateBook
from projections.inventory import inventory_key
from projections.keyvalue import KeyValue
from projections.outcome import Outcome
from projections.period_revenue import period_revenue
from projections.positions import Position, advance, already_applied
from projections.rejections import reject_input
from projections.rotation_facts import RotationDecided, RotationExchanged, RotationReturned
from projections.rotation_state import ExpectedReturn, Reservations, RotationRecord, record_key
from projections.stock_rotations import RotationView, decide_requests, ledger_key
from projections.stores import ChannelStores
from schemas.agreements import StockRotationRequested
from schemas.events import ShipmentRecorded

CONFLICTING_DUPLICATE = "conflicting_duplicate"
V = TypeVar("V")


def apply_request(
    stores: ChannelStores, event: StockRotationRequested, position: Position | None
) -> Outcome:
    """Decide a request once per key; the decision is the outcome's audit fact."""
    key = record_key(event.distributor_id, event.request_id)
    known = stores.rotations.get(key)
    if known is not None:
        if already_applied(known.applied, position):
            return Outcome(Verdict.REDELIVERY)
        if known.content == _content(event):
            return Outcome(Verdict.DUPLICATE)
        reject_input(stores, CONFLICTING_DUPLICATE, event.distributor_id, position)
        detail = f"request_id: {event.request_id!r} was requested before with other lines or day"
        return Outcome(None, CONFLICTING_DUPLICATE, detail=detail)
    recorded = event.recorded_at or event.business_time
    [outcome] = decide_requests(rotation_view(stores, event), [(event, recorded)])
    decision = outcome.decision
    if outcome.ledger is not None:
        ledger = outcome.ledger
        stores.rotation_ledgers.put(ledger_key(ledger.distributor_id, ledger.period), ledger)
    if decision.expected_return is not None:
        _expect_shipments(stores, event.distributor_id, event.request_id, decision)
    requested_at, returns, orders = _content(event)
    record = RotationRecord(
        event.distributor_id, event.request_id, str(event.event_id), requested_at,
        recorded.isoformat(), returns, orders, jsonable(decision_summary(decision)),
        applied=advance({}, position) or {},
    )  # fmt: skip
    stores.rotations.put(key, record)
    fact = RotationDecided(event.distributor_id, event.request_id, event, recorded, decision)
    return Outcome(Verdict.ACCEPTED, facts=(fact,))


def receive_shipment(
    stores: ChannelStores, event: ShipmentRecorded, position: Position | None, outcome: Outcome
) -> Outcome:
    """A shipment line an accepted rotation awaits, by its shipment id: its return (a
    negative line under `ROT-RET-…`) or its exchange order (a positive line under
    `ROT-EXC-…`). The units still due of its sku are taken, the rest is an ordinary
    movement (the same position again: nothing). Any other line costs no read."""
    if event.quantity < 0 and is_return_shipment(event.shipment_id):
        returning = True
    elif event.quantity > 0 and is_exchange_shipment(event.shipment_id):
        returning = False
    else:
        return outcome
    where = return_key(event.distributor_id, event.shipment_id)
    expected = stores.rotation_returns.get(where)
    if expected is None:
        return outcome
    request_id, due = expected.request_id, expected.due
    units = min(abs(event.quantity), due.get(event.sku, 0))
    applied = advance(expected.applied, position)
    if units <= 0 or applied is None:
        return outcome
    left = {sku: n for sku, n in {**due, event.sku: due[event.sku] - units}.items() if n > 0}
    if left:
        stores.rotation_returns.put(
            where, ExpectedReturn(event.distributor_id, request_id, left, applied)
        )
    else:
        stores.rotation_returns.delete(where)
    if returning:
        reserve(stores, event.distributor_id, {event.sku: -units})
    key = record_key(event.distributor_id, request_id)
    record = stores.rotations.get(key)
    if record is not None:
        stores.rotations.put(key, record.with_units(not returning, event.sku, units))
    fact = (RotationReturned if returning else RotationExchanged)(
        event.distributor_id, request_id, event.event_id, {event.sku: units}, event.shipped_at
    )
    return Outcome(outcome.verdict, outcome.dead_letter_reason, (*outcome.facts, fact))


def rotation_view(stores: ChannelStores, event: StockRotationRequested) -> RotationView:
    """What deciding `event` reads: only its distributor's, its skus' and its period's."""
    distributor = event.distributor_id
    skus = {line.sku for line in (*event.returns, *event.orders)}
    timeline = stores.agreements.get(distributor)
    day = event.requested_at.date()
    version = None if timeline is None else timeline.on(day)
    aging, on_hand, prices = {}, {}, {}
    for sku in skus:
        key = inventory_key(distributor, sku)
        if (state := stores.aging.get(key)) is not None:
            aging[sku] = state
        if (inventory := stores.inventory.get(key)) is not None:
            on_hand[sku] = inventory.expected_on_hand
        if (history := stores.prices.get(sku)) is not None:
            prices[sku] = history
    purchases, ledgers = {}, {}
    if version is not None:
        period = rotation_period(version.terms.inventory, day)
        purchases[period] = period_purchases(
            stores, distributor, period, version.currency, event.recorded_at
        )
        ledger = stores.rotation_ledgers.get(ledger_key(distributor, period))
        if ledger is not None:
            ledgers[ledger_key(distributor, period)] = ledger
    reservations = stores.rotation_reserved.get(distributor)
    return RotationView(
        timeline=timeline,
        known_skus={sku for sku in skus if stores.products.get(sku) is not None},
        aging=aging,
        prices=prices,
        rates=StoreMapping(stores.rates),
        purchases=purchases,
        ledgers=ledgers,
        on_hand=on_hand,
        reserved={} if reservations is None else reservations.units,
    )


def period_purchases(
    stores: ChannelStores,
    distributor_id: str,
    period: str,
    currency: str,
    known_at: datetime | None,
) -> MixedTotal:
    """The rotation period's sell-in by value in the agreement's currency (a quarter or a
    year), other currencies converted at each day's rate as recorded by `known_at`
    (`projections.period_revenue`)."""
    start, end = period_bounds(period)
    kind: PeriodKind = "quarter" if "-Q" in period else "year"
    days = (start.date(), end.date() - timedelta(days=1))
    rates = RateBook(stores.rates, known_at)
    return period_revenue(stores, distributor_id, "sell_in", currency, kind, days, rates)


def jsonable(value: Any) -> Any:
    """A decision summary with its uuids as strings (a store value is JSON)."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    return value


def rotation_id(record: RotationRecord) -> UUID:
    return rotation_aggregate_id(record.distributor_id, record.request_id)


class StoreMapping(Mapping[str, V], Generic[V]):
    """A store as the read-only mapping the pure code takes; it reads by key only."""

    def __init__(self, store: KeyValue[V]) -> None:
        self._store = store

    def __getitem__(self, key: str) -> V:
        value = self._store.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """The store's read, without raising and catching KeyError for a missing key (the
        claims read a few keys a line, often absent)."""
        value = self._store.get(key)
        return default if value is None else value

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._store.scan())

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _content(event: StockRotationRequested) -> tuple[str, dict[str, int], dict[str, int]]:
    returns = {line.sku: line.quantity for line in event.returns}
    orders = {line.sku: line.quantity for line in event.orders}
    return event.requested_at.isoformat(), returns, orders


def return_key(distributor_id: str, shipment_id: str) -> str:
    return f"{distributor_id}|{shipment_id}"


def _expect_shipments(
    stores: ChannelStores, distributor_id: str, request_id: str, decision: RotationDecision
) -> None:
    """The return awaited and its units reserved; the exchange order, if any, awaited."""
    assert decision.expected_return is not None
    expected = decision.expected_return
    lines = {sku: -units for sku, units in expected.lines}
    where = return_key(distributor_id, expected.shipment_id)
    stores.rotation_returns.put(where, ExpectedReturn(distributor_id, request_id, lines))
    reserve(stores, distributor_id, lines)
    exchange = decision.expected_exchange
    if exchange is not None:
        ordered = dict(exchange.lines)
        where = return_key(distributor_id, exchange.shipment_id)
        stores.rotation_returns.put(where, ExpectedReturn(distributor_id, request_id, ordered))


def reserve(stores: ChannelStores, distributor_id: str, lines: dict[str, int]) -> None:
    """Add `lines` to the distributor's reserved units (negative: released)."""
    reservations = stores.rotation_reserved.get(distributor_id) or Reservations(distributor_id)
    stores.rotation_reserved.put(distributor_id, reservations.plus(lines))
