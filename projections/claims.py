"""Deciding debit claims against the state they read and update, pure (docs/CLAIMS.md).

The state is small values under keys: an `AuthorizationState` per authorization (its cap
taken), and a `PosClaims` per POS line (sale key): the claim lines holding units of it and
those waiting for it (`pending_pos`). A function here reads a `ClaimsView` (mappings the
caller fills from its stores) and returns an `Outcome`: the decisions, and the values it
changed for the caller to write. Nothing is read from a clock: "now" is a recorded time
passed in.

Order. Claim lines take POS units and the cap in the order they are decided: claims by
(recorded_at, claim_id), a claim's lines by line_no; a pending line when its POS line
arrives. A decision given is never revised by a later claim: only a replacement report
reversing the POS line reopens a line holding it (its units given back, the line pending
again until the corrected line arrives or the wait runs out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from domain.business_time import TimeRules
from domain.claim_rules import (
    AuthorizationTerms,
    BookCost,
    LineDecision,
    LineInputs,
    PosLine,
    decide_line,
    no_pos_line,
)
from domain.frozen import quick_init
from domain.timeutil import utc
from projections.authorizations import (
    AuthorizationState,
    release_units,
    take_units,
    terms_from_json,
    terms_to_json,
)
from projections.claim_caps import CapGrant
from projections.claim_refs import LineRef
from projections.price_book import PriceHistory, cost_in_effect
from schemas.claims import DebitClaimSubmitted
from schemas.events import SaleReported

#: how long a line waits for its POS line, in recorded time, before `no_pos_line`
DEFAULT_PENDING_WAIT: Final = TimeRules().claim_wait


def pos_to_json(pos: PosLine) -> list[Any]:
    data = pos_to_changelog(pos)
    data[6], data[8] = pos.sold_at.isoformat(), str(pos.event_id)
    return data


def pos_to_changelog(pos: PosLine) -> list[Any]:
    """`pos_to_json` with the sale time and event id left to orjson, which writes the
    same text (ISO with "+00:00" for a UTC time, the UUID's hex with hyphens) in C: what
    the worker's changelog encodes (`streams.worker.stores.store_layouts`)."""
    return [
        pos.distributor_id,
        pos.transaction_id,
        pos.sku,
        pos.quantity,
        pos.reseller_id,
        pos.end_customer,
        pos.sold_at,
        pos.currency,
        pos.event_id,
        pos.master_id,
        pos.customer_master,
    ]


def pos_from_json(data: list[Any]) -> PosLine:
    """A stored POS line; one stored before POS lines kept their masters has none."""
    dist, transaction, sku, quantity, reseller, customer, sold_at, currency, event = data[:9]
    at = datetime.fromisoformat(sold_at)
    master, customer_master = (*data[9:11], None, None)[:2]
    fields = (dist, transaction, sku, quantity, reseller, customer, at, currency, UUID(event))
    return PosLine(*fields, master, customer_master)


@quick_init
@dataclass(frozen=True, slots=True)
class Awaiting:
    """A line that passed checks 1. to 10. and reserved `units` of its POS line, waiting
    for the cap's ledger (deciding in two phases, `projections.claim_phases`); it is
    finished against the figures it was checked with."""

    ref: LineRef
    units: int
    terms: AuthorizationTerms
    pos: PosLine
    book: BookCost
    #: the number of its request (`PosClaims.asked`): only the grant of that number
    #: finishes it (None: asked before requests were numbered)
    seq: int | None = None

    def inputs(self) -> LineInputs:
        ref = self.ref
        return LineInputs(
            ref.distributor_id, ref.claim_id, ref.line, self.terms, self.pos, self.book, 0, None
        )

    def to_json(self) -> dict[str, Any]:
        book = self.book
        return {
            "ref": self.ref.to_json(),
            "units": self.units,
            "terms": terms_to_json(self.terms),
            "pos": pos_to_json(self.pos),
            "book": [str(book.cost), book.currency, str(book.price_event_id)]
            + ([] if book.agreement_event_id is None else [str(book.agreement_event_id)]),
            "seq": self.seq,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Awaiting:
        pos = pos_from_json(data["pos"])
        cost, book_currency, price_event, *agreement = data["book"]  # no agreement: none
        named = UUID(agreement[0]) if agreement else None
        book = BookCost(Decimal(cost), book_currency, UUID(price_event), named)
        ref = LineRef.from_json(data["ref"])
        terms = terms_from_json(data["terms"])
        return cls(ref, data["units"], terms, pos, book, data.get("seq"))


@quick_init
@dataclass(frozen=True, slots=True)
class PosClaims:
    """The claim lines of one POS line: those holding units of it, those waiting for it.

    Deciding in two phases adds the line that reserved units and waits for the cap's
    ledger (`awaiting`, at most one: the lines naming this POS line after it queue in its
    distributor's `Blocked`)."""

    held: tuple[tuple[LineRef, int], ...] = ()
    pending: tuple[LineRef, ...] = ()
    awaiting: tuple[Awaiting, ...] = ()
    #: the grants applied, by position (a redelivered grant changes nothing)
    applied: dict[str, int] = field(default_factory=dict)
    #: the highest number of a cap request of its lines (or of a grant read early given
    #: back): the next request is numbered above it; a grant numbered above it was read
    #: before the input that asked for it was applied again (`early`)
    asked: int = 0
    #: grants read early: numbered above `asked`, read after a restart before the input
    #: that asked for them was applied again; each finishes its line when it asks again
    #: with the same number (or goes back whole once a request passes its number)
    early: tuple[CapGrant, ...] = ()

    @property
    def units_taken(self) -> int:
        if not (self.held or self.awaiting):  # most POS lines are claimed once
            return 0
        held = sum(units for _, units in self.held)
        return held + sum(line.units for line in self.awaiting)

    def holding(self, ref: LineRef, units: int) -> tuple[tuple[LineRef, int], ...]:
        """`held` with the line's units, in decision order: the same state whether a line
        was decided at once or finished when its grant came back, later than lines after
        it."""
        if not self.held:
            return ((ref, units),)
        return tuple(sorted((*self.held, (ref, units)), key=lambda held: held[0].order))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "held": [[ref.to_json(), units] for ref, units in self.held],
            "pending": [ref.to_json() for ref in self.pending],
        }
        if self.awaiting:
            data["awaiting"] = [line.to_json() for line in self.awaiting]
        if self.applied:
            data["applied"] = self.applied
        if self.asked:
            data["asked"] = self.asked
        if self.early:
            data["early"] = [answer.to_json() for answer in self.early]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PosClaims:
        held = tuple((LineRef.from_json(ref), units) for ref, units in data["held"])
        pending = tuple(LineRef.from_json(ref) for ref in data["pending"])
        awaiting = tuple(Awaiting.from_json(line) for line in data.get("awaiting", ()))
        applied = dict(data.get("applied", {}))
        early = tuple(CapGrant.from_json(answer) for answer in data.get("early", ()))
        return cls(held, pending, awaiting, applied, data.get("asked", 0), early)


@quick_init
@dataclass(frozen=True, slots=True)
class Blocked:
    """A distributor's claim lines held back, in decision order, while deciding in two
    phases: each names a POS line whose units wait for a grant, or a POS line or an
    authorization of a line before it here. Checked again when a grant comes back, so a
    distributor's lines take POS units and ask the cap in its decision order."""

    lines: tuple[LineRef, ...] = ()

    def to_json(self) -> list[Any]:
        return [ref.to_json() for ref in self.lines]

    @classmethod
    def from_json(cls, data: list[Any]) -> Blocked:
        return cls(tuple(LineRef.from_json(ref) for ref in data))


@dataclass(frozen=True, slots=True)
class ClaimsView:
    """What deciding reads: authorizations by id, POS lines and their claims by sale key,
    price histories by sku (and, deciding in two phases, the lines blocked by distributor).
    `book`, when given, is the book cost of a POS line (else `book_cost` of `prices`)."""

    authorizations: Mapping[str, AuthorizationState]
    sales: Mapping[str, PosLine]
    prices: Mapping[str, PriceHistory]
    pos_claims: Mapping[str, PosClaims]
    blocked: Mapping[str, Blocked] = field(default_factory=dict)
    book: Callable[[PosLine], BookCost | None] | None = None


@dataclass(slots=True)
class Outcome:
    """Decisions in the order given, and the values that changed (to be written)."""

    decisions: list[LineDecision] = field(default_factory=list)
    authorizations: dict[str, AuthorizationState] = field(default_factory=dict)
    pos_claims: dict[str, PosClaims] = field(default_factory=dict)
    #: lines a reversed POS line reopened (pending again)
    reopened: list[LineRef] = field(default_factory=list)


def pos_line_of(
    sale: SaleReported, master_id: str | None = None, customer_master: str | None = None
) -> PosLine:
    """The POS line of an accepted sale, with the masters its reseller and end customer mean
    as it is judged."""
    # by position, in the fields' order (distributor_id, transaction_id, sku, quantity,
    # reseller_id, end_customer, sold_at, currency, event_id, master_id, customer_master):
    # once per line
    return PosLine(
        sale.distributor_id, sale.transaction_id, sale.sku, sale.quantity, sale.reseller_id,
        sale.end_customer, utc(sale.sold_at), sale.currency, sale.event_id, master_id,
        customer_master,
    )  # fmt: skip


def line_refs(claim: DebitClaimSubmitted, recorded_at: datetime) -> list[LineRef]:
    """A claim's lines in decision order (by line_no)."""
    at = utc(recorded_at, "recorded_at")
    lines = sorted(claim.lines, key=lambda line: line.line_no)
    return [LineRef(claim.distributor_id, claim.claim_id, at, line) for line in lines]


def decide_claims(
    view: ClaimsView, claims: Iterable[tuple[DebitClaimSubmitted, datetime]]
) -> Outcome:
    """Decide every line of `claims` (each with its recorded time), in decision order.

    Claims recorded at the same time are decided by claim_id, whatever order they are
    given in. The caller gives each claim once (a resend is a duplicate: `claim_key`).
    """
    refs = [ref for claim, at in claims for ref in line_refs(claim, at)]
    decider = _Decider(view)
    for ref in sorted(refs, key=lambda ref: ref.order):
        decider.decide(ref)
    return decider.outcome


def decide_pending(view: ClaimsView, key: str) -> Outcome:
    """Re-decide the lines waiting for the POS line under `key`, now in `view.sales`."""
    decider = _Decider(view)
    waiting = decider.pos_claims(key).pending
    decider.put_pos(key, replace(decider.pos_claims(key), pending=()))
    for ref in sorted(waiting, key=lambda ref: ref.order):
        decider.decide(ref)
    return decider.outcome


def expire_pending(
    view: ClaimsView, key: str, now: datetime, wait: timedelta = DEFAULT_PENDING_WAIT
) -> Outcome:
    """Reject as `no_pos_line` the lines under `key` that waited `wait` of recorded time."""
    decider = _Decider(view)
    claims = decider.pos_claims(key)
    moment = utc(now, "now")
    due = [ref for ref in claims.pending if ref.recorded_at + wait <= moment]
    if not due:
        return decider.outcome
    kept = tuple(ref for ref in claims.pending if ref.recorded_at + wait > moment)
    decider.put_pos(key, replace(claims, pending=kept))
    for ref in sorted(due, key=lambda ref: ref.order):
        decider.outcome.decisions.append(decider.timed_out(ref))
    return decider.outcome


def reopen_reversed(view: ClaimsView, key: str) -> Outcome:
    """A replacement report reversed the POS line under `key`: the lines holding it give
    their units back (POS line and cap) and wait for the corrected line."""
    decider = _Decider(view)
    claims = decider.pos_claims(key)
    if not claims.held:
        return decider.outcome
    for ref, units in claims.held:
        state = decider.authorization(ref.line.authorization_id)
        if state is not None:
            decider.put_authorization(release_units(state, units))
        decider.outcome.reopened.append(ref)
    waiting = (*claims.pending, *(ref for ref, _ in claims.held))
    pending = tuple(sorted(waiting, key=lambda ref: ref.order))
    decider.put_pos(key, replace(claims, held=(), pending=pending))
    return decider.outcome


class _Decider:
    """Decides lines one after the other, each seeing what the ones before it changed."""

    def __init__(self, view: ClaimsView) -> None:
        self.view = view
        self.outcome = Outcome()

    def authorization(self, authorization_id: str) -> AuthorizationState | None:
        changed = self.outcome.authorizations.get(authorization_id)
        return changed if changed is not None else self.view.authorizations.get(authorization_id)

    def pos_claims(self, key: str) -> PosClaims:
        changed = self.outcome.pos_claims.get(key)
        if changed is not None:
            return changed
        return self.view.pos_claims.get(key) or PosClaims()

    def put_authorization(self, state: AuthorizationState) -> None:
        self.outcome.authorizations[state.terms.authorization_id] = state

    def put_pos(self, key: str, claims: PosClaims) -> None:
        self.outcome.pos_claims[key] = claims

    def decide(self, ref: LineRef) -> None:
        key = ref.sale_key
        state = self.authorization(ref.line.authorization_id)
        claims = self.pos_claims(key)
        terms = None if state is None else state.terms
        cap_left = None if state is None else state.cap_left
        decision = decide_line(line_inputs(self.view, ref, terms, claims.units_taken, cap_left))
        if decision.status == "pending_pos":
            self.put_pos(key, replace(claims, pending=(*claims.pending, ref)))
        elif decision.takes_units and state is not None:
            units = decision.quantity_accepted
            self.put_authorization(take_units(state, units))
            self.put_pos(key, replace(claims, held=claims.holding(ref, units)))
        self.outcome.decisions.append(decision)

    def timed_out(self, ref: LineRef) -> LineDecision:
        """A pending line whose wait ran out: `no_pos_line`."""
        state = self.authorization(ref.line.authorization_id)
        terms = None if state is None else state.terms
        return no_pos_line(ref.distributor_id, ref.claim_id, ref.line, terms)


def line_inputs(
    view: ClaimsView,
    ref: LineRef,
    terms: AuthorizationTerms | None,
    pos_units_taken: int,
    cap_left: int | None,
) -> LineInputs:
    """What deciding `ref` reads: its POS line and the book cost at its sale from `view`."""
    pos = view.sales.get(ref.sale_key)
    if pos is None:
        book = None
    else:
        book = book_cost(view.prices, pos) if view.book is None else view.book(pos)
    return LineInputs(
        ref.distributor_id, ref.claim_id, ref.line, terms, pos, book, pos_units_taken, cap_left
    )


def book_cost(prices: Mapping[str, PriceHistory], pos: PosLine) -> BookCost | None:
    """The distributor_cost in effect for (sku, distributor) at the sale, read as if no
    agreement governed it (`ClaimsView.book` gives the agreement's)."""
    history = prices.get(pos.sku)
    if history is None:
        return None
    found = cost_in_effect(history, pos.sold_at, pos.distributor_id, None)
    if found is None:
        return None
    cost, entry = found
    return BookCost(cost, entry.currency, entry.event_id)
