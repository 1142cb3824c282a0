"""Stock rotation requests decided against the state they read and the ledger they update.

The state read: the distributor's `AgreementTimeline`, an `AgingState` per sku, the price
histories (the distributor cost in effect), the rate months, and the purchases of the
rotation period (a `MixedTotal`, summed by the caller). The state written: one
`RotationLedger` per (distributor, rotation period): the value of the rotations accepted
in it, which later requests of the period count against the allowance. Units of accepted
rotations that have not been shipped back yet (`RotationView.reserved`) are no longer
available to another request. Requests take the allowance and the stock in decision
order: recorded time, then request id (`decide_requests`). Pure; "now" is the request's
own business day, never a clock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.aging import Lot, newest_units
from domain.agreements import AgreementVersion, distributor_cost
from domain.currency import Converted, MixedTotal, Unconverted, convert, round_money
from domain.stock_rotation import (
    RotationDecision,
    RotationInputs,
    decide_rotation,
    rotation_period,
)
from domain.timeutil import utc
from projections.agreement_timeline import AgreementTimeline
from projections.exchange_rates import RateBook, RateMonth
from projections.inventory_aging import AgingState, held_lots
from projections.positions import Position, advance
from projections.price_book import PriceHistory, price_in_effect
from schemas.agreements import StockRotationRequested


@dataclass(frozen=True, slots=True)
class RotationLedger:
    """The rotations accepted in one distributor's rotation period, and their value."""

    distributor_id: str
    period: str
    #: in the agreement's currency
    used: Decimal
    requests: tuple[str, ...] = ()
    applied: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "k": [self.distributor_id, self.period],
            "used": str(self.used),
            "requests": list(self.requests),
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RotationLedger:
        distributor_id, period = data["k"]
        used, requests = Decimal(data["used"]), tuple(data["requests"])
        return cls(distributor_id, period, used, requests, dict(data["applied"]))


def ledger_key(distributor_id: str, period: str) -> str:
    return f"{distributor_id}|{period}"


@dataclass(frozen=True, slots=True)
class RotationView:
    """What deciding a request reads (mappings the caller fills from its stores)."""

    timeline: AgreementTimeline | None
    known_skus: Collection[str]
    aging: Mapping[str, AgingState]
    prices: Mapping[str, PriceHistory]
    rates: Mapping[str, RateMonth]
    #: the purchases of each rotation period (key as `domain.stock_rotation.rotation_period`)
    purchases: Mapping[str, MixedTotal]
    ledgers: Mapping[str, RotationLedger]
    #: the stock per sku when the caller knows better than received − issued (a count)
    on_hand: Mapping[str, int] = field(default_factory=dict)
    #: per sku, units of accepted rotations not shipped back yet: no longer available
    reserved: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RotationOutcome:
    decision: RotationDecision
    #: the ledger with the accepted request counted (None: nothing to write)
    ledger: RotationLedger | None


def decide_request(
    view: RotationView, request: StockRotationRequested, position: Position | None = None
) -> RotationOutcome:
    """Decide one request; the caller gives each request key once (`rotation_key`)."""
    day = request.requested_at.date()
    version = None if view.timeline is None else view.timeline.on(day)
    currency = "" if version is None else version.currency
    period = "" if version is None else rotation_period(version.terms.inventory, day)
    ledger = view.ledgers.get(ledger_key(request.distributor_id, period))
    zero = round_money(Decimal(0), currency)  # no version: "" has the cent
    used = zero if ledger is None else ledger.used
    skus = {line.sku for line in (*request.returns, *request.orders)}
    unit_values, cost_events = _unit_values(view, request, skus, version)
    inputs = RotationInputs(
        request=request,
        version=version,
        known_skus=view.known_skus,
        held={sku: _held(view, sku) for sku in skus},
        unit_values=unit_values,
        cost_event_ids=cost_events,
        purchases=view.purchases.get(period, MixedTotal(currency, zero, (), ())),
        used=used,
    )
    decision = decide_rotation(inputs)
    if decision.status != "accepted":
        return RotationOutcome(decision, None)
    current = ledger or RotationLedger(request.distributor_id, period, zero)
    applied = advance(current.applied, position)
    if applied is None or request.request_id in current.requests:
        return RotationOutcome(decision, None)
    counted = replace(
        current,
        used=current.used + decision.return_value,
        requests=(*current.requests, request.request_id),
        applied=applied,
    )
    return RotationOutcome(decision, counted)


def decide_requests(
    view: RotationView, requests: Iterable[tuple[StockRotationRequested, datetime]]
) -> list[RotationOutcome]:
    """Decide one distributor's requests in decision order: recorded time, then request id
    (the same whatever order they come in); each sees the allowance used and the units
    reserved by those accepted before it."""
    ledgers, reserved = dict(view.ledgers), dict(view.reserved)
    outcomes = []
    for request, _ in sorted(requests, key=lambda pair: (utc(pair[1]), pair[0].request_id)):
        outcome = decide_request(replace(view, ledgers=ledgers, reserved=reserved), request)
        if outcome.ledger is not None:
            ledger = outcome.ledger
            ledgers[ledger_key(ledger.distributor_id, ledger.period)] = ledger
        if outcome.decision.status == "accepted":
            for line in request.returns:
                reserved[line.sku] = reserved.get(line.sku, 0) + line.quantity
        outcomes.append(outcome)
    return outcomes


def _held(view: RotationView, sku: str) -> tuple[Lot, ...]:
    """The lots held, less the oldest units already reserved by accepted rotations."""
    state = view.aging.get(sku)
    if state is None:
        return ()
    lots = held_lots(state, view.on_hand.get(sku))
    available = sum(lot.quantity for lot in lots) - view.reserved.get(sku, 0)
    return newest_units(lots, max(available, 0))


def _unit_values(
    view: RotationView,
    request: StockRotationRequested,
    skus: set[str],
    version: AgreementVersion | None,
) -> tuple[dict[str, Converted | Unconverted], dict[str, UUID]]:
    """Each sku's distributor cost in effect on the request (the list's, the first named
    list the agreement binds with a price before the standard one, less the agreement's
    group discount: `domain.agreements.distributor_cost`), in the agreement's
    currency, and the price events that set them."""
    values: dict[str, Converted | Unconverted] = {}
    events: dict[str, UUID] = {}
    if version is None:
        return values, events
    currency, lists = version.currency, version.terms.price_lists
    rates, day = RateBook(view.rates), request.requested_at.date()
    for sku in sorted(skus):
        history = view.prices.get(sku)
        entry = None
        if history is not None:
            entry = price_in_effect(
                history, request.requested_at, request.distributor_id, None, lists=lists
            )
        if entry is not None:
            listed = entry.distributor_id is None
            cost = distributor_cost(
                entry.distributor_cost, entry.currency, listed, version.terms, sku
            )
            values[sku] = convert(cost, entry.currency, currency, day, rates)
            events[sku] = entry.event_id
    return values, events
