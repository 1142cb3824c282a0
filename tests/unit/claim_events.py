"""Authorizations, POS lines, prices and claims for the ship-and-debit tests.

`Channel` holds the state a worker would keep (authorizations, sales, prices, the claims
of each POS line) and applies an `Outcome` to it, so a test reads like the design's
worked example: authorize, sell, claim, look at the decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

from domain.claim_lifecycle import DebitClaim
from domain.claim_rules import (
    AuthorizationTerms,
    BookCost,
    LineDecision,
    LineInputs,
    PosLine,
    decide_line,
)
from domain.identity import sale_key
from projections.authorizations import AuthorizationState, authorize, terms_of
from projections.claim_caps import CapGrant, CapLedger, CapRequest, give_back, grant
from projections.claim_phases import (
    LocalLedger,
    Outbox,
    Sequencer,
    Steps,
    apply_grant,
    check_claims,
    check_pending,
    reopen,
)
from projections.claim_refs import LineRef
from projections.claims import (
    Blocked,
    ClaimsView,
    Outcome,
    PosClaims,
    decide_claims,
    decide_pending,
    expire_pending,
    pos_line_of,
    reopen_reversed,
)
from projections.positions import Position
from projections.price_book import PriceHistory, apply_price
from schemas.claims import ClaimLine, DebitClaimSubmitted, SpecialPriceAuthorized
from schemas.events import PriceChanged, SaleReported

SOLD = datetime(2026, 4, 6, 15, 0, tzinfo=UTC)
RECORDED = datetime(2026, 4, 20, 9, 0, tzinfo=UTC)
PRICED = datetime(2026, 1, 1, tzinfo=UTC)


def uid(n: int) -> UUID:
    return UUID(int=n, version=4)


def authorization(
    authorization_id: str = "A1", n: int = 1, **changes: Any
) -> SpecialPriceAuthorized:
    fields: dict[str, Any] = {
        "event_id": uid(1000 + n),
        "occurred_at": PRICED,
        "source": "erp",
        "authorization_id": authorization_id,
        "distributor_ids": ["D1"],
        "skus": ["X"],
        "reseller_id": "R9",
        "authorized_cost": Decimal("70.00"),
        "valid_from": date(2026, 4, 1),
        "valid_to": date(2026, 6, 30),
        "quantity_cap": 100,
        "currency": "USD",
    }
    fields.update(changes)
    return SpecialPriceAuthorized(**fields)


def sale(
    transaction_id: str, quantity: int, reseller_id: str = "R9", n: int = 0, **changes: Any
) -> SaleReported:
    fields: dict[str, Any] = {
        "event_id": uid(2000 + n + sum(map(ord, transaction_id)) * 7 + quantity),
        "occurred_at": SOLD,
        "source": "csv",
        "distributor_id": "D1",
        "transaction_id": transaction_id,
        "reseller_id": reseller_id,
        "sku": "X",
        "quantity": quantity,
        "unit_price": Decimal("95.00"),
        "currency": "USD",
        "sold_at": SOLD,
    }
    fields.update(changes)
    return SaleReported(**fields)


def book_price(cost: str = "100.00", sku: str = "X", **changes: Any) -> PriceChanged:
    fields: dict[str, Any] = {
        "event_id": uid(3000 + sum(map(ord, sku))),
        "occurred_at": PRICED,
        "source": "erp",
        "sku": sku,
        "distributor_cost": Decimal(cost),
        "floor_price": Decimal("120.00"),
        "currency": "USD",
        "effective_from": PRICED,
    }
    fields.update(changes)
    return PriceChanged(**fields)


def line(
    line_no: int,
    transaction_id: str,
    quantity: int,
    amount: str | None = None,
    authorization_id: str = "A1",
    **changes: Any,
) -> ClaimLine:
    fields: dict[str, Any] = {
        "line_no": line_no,
        "transaction_id": transaction_id,
        "sku": "X",
        "quantity": quantity,
        "authorization_id": authorization_id,
        "cost_paid": Decimal("100.00"),
        "authorized_cost": Decimal("70.00"),
        "amount_claimed": Decimal(amount) if amount else Decimal(30 * quantity),
        "currency": "USD",
    }
    fields.update(changes)
    return ClaimLine(**fields)


def claim(
    claim_id: str, *lines: ClaimLine, distributor_id: str = "D1", n: int = 0
) -> DebitClaimSubmitted:
    return DebitClaimSubmitted(
        event_id=uid(4000 + n + sum(map(ord, claim_id))),
        occurred_at=RECORDED,
        source="api",
        claim_id=claim_id,
        distributor_id=distributor_id,
        lines=list(lines),
        submitted_at=RECORDED,
    )


@dataclass
class Channel:
    """The state a worker keeps for claims, held in dicts."""

    authorizations: dict[str, AuthorizationState] = field(default_factory=dict)
    sales: dict[str, PosLine] = field(default_factory=dict)
    prices: dict[str, PriceHistory] = field(default_factory=dict)
    pos_claims: dict[str, PosClaims] = field(default_factory=dict)
    decisions: list[LineDecision] = field(default_factory=list)

    def view(self) -> ClaimsView:
        return ClaimsView(self.authorizations, self.sales, self.prices, self.pos_claims)

    def apply(self, outcome: Outcome) -> list[LineDecision]:
        self.authorizations.update(outcome.authorizations)
        self.pos_claims.update(outcome.pos_claims)
        self.decisions += outcome.decisions
        return outcome.decisions

    def authorize(self, *events: SpecialPriceAuthorized) -> Channel:
        for event in events:
            state = self.authorizations.get(event.authorization_id)
            self.authorizations[event.authorization_id] = authorize(state, event, None)
        return self

    def price(self, *events: PriceChanged) -> Channel:
        for event in events:
            history = self.prices.get(event.sku) or PriceHistory(event.sku)
            self.prices[event.sku], _ = apply_price(history, event, None, None)
        return self

    def sell(self, *sales: SaleReported) -> list[LineDecision]:
        """Record POS lines; the claim lines waiting for them are decided."""
        decided = []
        for event in sales:
            key = sale_key(event.distributor_id, event.transaction_id)
            self.sales[key] = pos_line_of(event)
            decided += self.apply(decide_pending(self.view(), key))
        return decided

    def claim(self, *claims: DebitClaimSubmitted, at: datetime = RECORDED) -> list[LineDecision]:
        return self.apply(decide_claims(self.view(), [(each, at) for each in claims]))

    def reverse(self, distributor_id: str, transaction_id: str) -> Outcome:
        key = sale_key(distributor_id, transaction_id)
        del self.sales[key]
        outcome = reopen_reversed(self.view(), key)
        self.apply(outcome)
        return outcome

    def expire(self, distributor_id: str, transaction_id: str, now: datetime,
               wait: timedelta = timedelta(days=30)) -> list[LineDecision]:  # fmt: skip
        key = sale_key(distributor_id, transaction_id)
        return self.apply(expire_pending(self.view(), key, now, wait))


@dataclass
class TwoPhaseChannel(Channel):
    """The same channel deciding in two phases: the authorizations hold terms only, the
    cap is counted in `ledgers`. `local`: each request granted as it is made (the
    embedded runner); else requests and releases wait in `outbox` for `deliver`."""

    ledgers: dict[str, CapLedger] = field(default_factory=dict)
    local: bool = True
    outbox: Outbox = field(default_factory=Outbox)
    blocked: dict[str, Blocked] = field(default_factory=dict)

    def view(self) -> ClaimsView:
        return ClaimsView(
            self.authorizations, self.sales, self.prices, self.pos_claims, self.blocked
        )

    def terms(self, authorization_id: str) -> AuthorizationTerms | None:
        state = self.authorizations.get(authorization_id)
        return None if state is None else state.terms

    def run(self, step: Callable[[Sequencer], Steps]) -> list[LineDecision]:
        sequencer = LocalLedger(self.ledgers, self.terms) if self.local else self.outbox
        steps = step(sequencer)
        self.pos_claims.update(steps.pos_claims)
        for distributor_id, blocked in steps.blocked.items():
            if blocked.lines:
                self.blocked[distributor_id] = blocked
            else:
                self.blocked.pop(distributor_id, None)
        if isinstance(sequencer, LocalLedger):
            self.ledgers.update(sequencer.changed)
        self.decisions += steps.decisions
        return steps.decisions

    def sell(self, *sales: SaleReported) -> list[LineDecision]:
        decided = []
        for event in sales:
            key = sale_key(event.distributor_id, event.transaction_id)
            self.sales[key] = pos_line_of(event)
            decided += self.run(partial(check_pending, self.view(), key))
        return decided

    def claim(self, *claims: DebitClaimSubmitted, at: datetime = RECORDED) -> list[LineDecision]:
        given = [(each, at) for each in claims]
        return self.run(lambda sequencer: check_claims(self.view(), given, sequencer))

    def reverse(self, distributor_id: str, transaction_id: str) -> Outcome:
        key = sale_key(distributor_id, transaction_id)
        del self.sales[key]
        reopened: list[LineRef] = []

        def step(sequencer: Sequencer) -> Steps:
            steps = reopen(self.view(), key, sequencer)
            reopened.extend(steps.reopened)
            return steps

        self.run(step)
        return Outcome(reopened=reopened)

    def grant_next(self, index: int = 0, at: Position | None = None) -> CapGrant | None:
        """The ledger takes the outbox's `index`-th request (the releases before it first)."""
        self.settle()
        request = self.outbox.requests[index]
        self.outbox.sent.remove(request)
        return self.take(request, at)

    def take(self, request: CapRequest, at: Position | None = None) -> CapGrant | None:
        name = request.authorization_id
        self.ledgers[name], answer = grant(self.ledgers.get(name), self.terms(name), request, at)
        return answer

    def answer(self, answer: CapGrant, at: Position | None = None) -> list[LineDecision]:
        return self.run(lambda sequencer: apply_grant(self.view(), answer, sequencer, at))

    def settle(self) -> None:
        """The releases still in the outbox reach their ledgers."""
        for release in self.outbox.releases:
            name = release.authorization_id
            self.ledgers[name] = give_back(self.ledgers.get(name), release, None)
        self.outbox.sent[:] = self.outbox.requests


def example_channel() -> Channel:
    """The worked example's channel: A1 for D1 and X to R9 at 70.00 (cap 100), book 100.00,
    POS T1 60 and T2 50 to R9, T3 10 to R5."""
    channel = Channel().authorize(authorization()).price(book_price())
    channel.sell(sale("T1", 60), sale("T2", 50), sale("T3", 10, reseller_id="R5"))
    return channel


def decided_claim(distributor_id: str = "D1", claim_id: str = "C1") -> DebitClaim:
    """The worked example's claim C1 (as `claim_id` of `distributor_id`), submitted and
    every line decided: T1 accepted, T2 adjusted (cap_partial), T3 rejected."""
    lines = (line(1, "T1", 60), line(2, "T2", 50), line(3, "T3", 10))
    example = example_channel().claim(claim("C1", *lines))
    submitted = claim(claim_id, *lines, distributor_id=distributor_id)
    aggregate = DebitClaim.submit(submitted, RECORDED)
    for decision in example:
        aggregate.record_decision(
            replace(decision, distributor_id=distributor_id, claim_id=claim_id)
        )
    return aggregate


def outcome_of(decision: LineDecision) -> tuple[str, tuple[str, ...], int, Decimal]:
    return (
        decision.status,
        decision.reasons,
        decision.quantity_accepted,
        decision.amount_accepted,
    )


def line_checked(deal: SpecialPriceAuthorized, pos: PosLine) -> tuple[str, tuple[str, ...]]:
    """The status and reasons of line 1 (10 units of T1, book cost 100.00) claimed under
    `deal` against the POS line `pos`."""
    book = BookCost(Decimal("100.00"), "USD", book_price().event_id)
    claimed = line(1, "T1", 10, authorization_id=deal.authorization_id)
    inputs = LineInputs("D1", "C1", claimed, terms_of(deal), pos, book, 0, None)
    status, reasons, _, _ = outcome_of(decide_line(inputs))
    return status, reasons
