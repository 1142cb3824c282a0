"""A distributor's agreement, stock, prices and rates for the stock rotation tests:
`Rotations` decides requests as a worker would and keeps the ledgers they update."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from domain.currency import MixedTotal
from domain.stock_rotation import RotationDecision
from projections.agreement_timeline import AgreementTimeline, sign
from projections.exchange_rates import RateMonth
from projections.inventory_aging import AgingState, Basis, apply_move
from projections.price_book import PriceHistory, apply_price
from projections.stock_rotations import RotationLedger, RotationView, decide_requests, ledger_key
from schemas.agreements import StockRotationRequested
from schemas.events import PriceChanged
from tests.unit.agreement_events import SIGNED, signed, uid

D = Decimal
MAY_20 = date(2026, 5, 20)
PURCHASES = MixedTotal("USD", D("10000.00"), (), ())


def price(sku: str, cost: str, currency: str = "USD") -> PriceChanged:
    return PriceChanged(
        event_id=uid(600 + sum(map(ord, sku))),
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        source="erp",
        sku=sku,
        distributor_cost=D(cost),
        floor_price=D(cost) * 2,
        currency=currency,
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
    )


@dataclass
class Rotations:
    """The state a worker would hold, and the ledgers the accepted requests update.

    X: 100 received Jan 15 and 50 May 1, 30 sold: 120 held (70 of Jan 15, 50 of May 1),
    at 20.00 USD. Y: 25.00 EUR. W: in the catalog, no price. Q2's purchases: 10,000.00 USD,
    so a 10 % allowance is 1,000.00.
    """

    timeline: AgreementTimeline | None
    rates: dict[str, RateMonth] = field(default_factory=dict)
    purchases: MixedTotal = PURCHASES
    ledgers: dict[str, RotationLedger] = field(default_factory=dict)

    reserved: dict[str, int] = field(default_factory=dict)

    def view(self) -> RotationView:
        aging = AgingState("D1", "X")
        moves: tuple[tuple[Basis, int, date], ...] = (
            ("sell_in", 100, date(2026, 1, 15)),
            ("sell_in", 50, date(2026, 5, 1)),
            ("sell_through", 30, date(2026, 5, 5)),
        )
        for basis, units, day in moves:
            aging = apply_move(aging, basis, units, day, None)
        prices = {
            sku: apply_price(PriceHistory(sku), price(sku, cost, cur), None, None)[0]
            for sku, cost, cur in (("X", "20.00", "USD"), ("Y", "25.00", "EUR"))
        }
        return RotationView(
            timeline=self.timeline,
            known_skus={"X", "Y", "W"},
            aging={"X": aging},
            prices=prices,
            rates=self.rates,
            purchases={"2026-Q2": self.purchases},
            ledgers=self.ledgers,
            reserved=self.reserved,
        )

    def decide_all(self, *requests: StockRotationRequested) -> list[RotationDecision]:
        """Decide requests recorded at one time; keep the ledgers and reservations."""
        moment = datetime(2026, 5, 20, 18, 0, tzinfo=UTC)
        outcomes = decide_requests(self.view(), [(request, moment) for request in requests])
        for outcome in outcomes:
            if outcome.ledger is not None:
                self.ledgers[ledger_key("D1", outcome.ledger.period)] = outcome.ledger
            if outcome.decision.status == "accepted":
                for line in next(
                    r for r in requests if r.request_id == outcome.decision.request_id
                ).returns:
                    self.reserved[line.sku] = self.reserved.get(line.sku, 0) + line.quantity
        return [outcome.decision for outcome in outcomes]

    def decide(self, request: StockRotationRequested) -> RotationDecision:
        return self.decide_all(request)[0]


def rotations(**inventory: Any) -> Rotations:
    obligations = {"rotation_allowance": "0.10", **inventory}
    terms = signed(inventory=obligations, discounts=[])  # values at the list cost
    return Rotations(sign(None, terms, SIGNED, None))
