"""Special price authorizations as state: their terms, amendments, expiry and the cap taken.

One `AuthorizationState` per authorization_id, small and bounded: the terms as they stand
now, which amendments were applied, and how many units accepted claim lines have taken
from the quantity cap (across every claim and every distributor). Pure: functions return
new values and never touch the ones passed in; an input at or below the state's applied
position changes nothing (`projections.positions`).

An authorization also governs pricing: `covering` finds the one a sale is sold under, and
`projections.price_rules.judge_sale` judges the sale against its floor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from domain.claim_rules import AuthorizationTerms
from domain.identity import content_fingerprint
from projections.positions import Position, advance
from schemas.claims import SpecialPriceAmended, SpecialPriceAuthorized, SpecialPriceExpired

T = TypeVar("T")


class AuthorizationProblem(ValueError):
    """An authorization event that cannot apply; `reason` is the dead-letter reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AuthorizationState:
    """One authorization: its current terms and the units its cap has given out."""

    terms: AuthorizationTerms
    #: content fingerprint of the SpecialPriceAuthorized (a resend is a duplicate)
    fingerprint: str
    units_taken: int = 0
    amendments: tuple[str, ...] = ()
    #: the last valid date an expiry set (None: never expired early)
    expired_after: date | None = None
    applied: dict[str, int] = field(default_factory=dict)

    @property
    def cap_left(self) -> int | None:
        """Units the cap still allows (None: no cap; never below zero)."""
        cap = self.terms.quantity_cap
        return None if cap is None else max(cap - self.units_taken, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            **terms_to_json(self.terms),
            "fp": self.fingerprint,
            "taken": self.units_taken,
            "amended": list(self.amendments),
            "expired": None if self.expired_after is None else self.expired_after.isoformat(),
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuthorizationState:
        expired = None if data["expired"] is None else date.fromisoformat(data["expired"])
        amended = tuple(data["amended"])
        terms = terms_from_json(data)
        return cls(terms, data["fp"], data["taken"], amended, expired, dict(data["applied"]))


def terms_to_json(terms: AuthorizationTerms) -> dict[str, Any]:
    return {
        "id": terms.authorization_id,
        "d": sorted(terms.distributor_ids),
        "s": sorted(terms.skus),
        "r": terms.reseller_id,
        "ec": terms.end_customer,
        "cost": str(terms.authorized_cost),
        "floor": None if terms.floor_price is None else str(terms.floor_price),
        "from": terms.valid_from.isoformat(),
        "to": terms.valid_to.isoformat(),
        "cap": terms.quantity_cap,
        "cur": terms.currency,
        "ev": str(terms.event_id),
    }


def terms_from_json(data: dict[str, Any]) -> AuthorizationTerms:
    return AuthorizationTerms(
        authorization_id=data["id"],
        distributor_ids=frozenset(data["d"]),
        skus=frozenset(data["s"]),
        reseller_id=data["r"],
        end_customer=data["ec"],
        authorized_cost=Decimal(data["cost"]),
        floor_price=None if data["floor"] is None else Decimal(data["floor"]),
        valid_from=date.fromisoformat(data["from"]),
        valid_to=date.fromisoformat(data["to"]),
        quantity_cap=data["cap"],
        currency=data["cur"],
        event_id=UUID(data["ev"]),
    )


def terms_of(event: SpecialPriceAuthorized) -> AuthorizationTerms:
    return AuthorizationTerms(
        authorization_id=event.authorization_id,
        distributor_ids=frozenset(event.distributor_ids),
        skus=frozenset(event.skus),
        reseller_id=event.reseller_id,
        end_customer=event.end_customer,
        authorized_cost=event.authorized_cost,
        floor_price=event.floor_price,
        valid_from=event.valid_from,
        valid_to=event.valid_to,
        quantity_cap=event.quantity_cap,
        currency=event.currency,
        event_id=event.event_id,
    )


def authorize(
    state: AuthorizationState | None, event: SpecialPriceAuthorized, position: Position | None
) -> AuthorizationState:
    """A new authorization; the same content again is a duplicate (nothing changes), other
    content under the same authorization_id a `conflicting_duplicate`."""
    fingerprint = content_fingerprint(event)
    if state is None:
        return AuthorizationState(terms_of(event), fingerprint, applied=advance({}, position) or {})
    if state.fingerprint != fingerprint:
        raise AuthorizationProblem(
            "conflicting_duplicate",
            f"authorization {event.authorization_id!r} exists with other terms: "
            "change it with a SpecialPriceAmended",
        )
    return _moved(state, position) or state


def amend(
    state: AuthorizationState | None, event: SpecialPriceAmended, position: Position | None
) -> AuthorizationState:
    """The terms with the amendment's fields replaced (an amendment already applied, or an
    input already applied, changes nothing)."""
    if state is None:
        raise AuthorizationProblem(
            "unknown_authorization",
            f"amendment of unknown authorization {event.authorization_id!r}",
        )
    moved = _moved(state, position)
    if moved is None or event.amendment_id in state.amendments:
        return state
    terms = state.terms
    if event.valid_to is not None and event.valid_to < terms.valid_from:
        raise AuthorizationProblem(
            "invalid_amendment", f"amendment {event.amendment_id!r}: valid_to before valid_from"
        )
    new_terms = replace(
        terms,
        authorized_cost=_given(event.authorized_cost, terms.authorized_cost),
        floor_price=_given(event.floor_price, terms.floor_price),
        valid_to=_capped(_given(event.valid_to, terms.valid_to), state.expired_after),
        quantity_cap=_given(event.quantity_cap, terms.quantity_cap),
        event_id=event.event_id,
    )
    return replace(moved, terms=new_terms, amendments=(*state.amendments, event.amendment_id))


def expire(
    state: AuthorizationState | None, event: SpecialPriceExpired, position: Position | None
) -> AuthorizationState:
    """Sales after `last_valid_date` no longer covered (an expiry never extends validity)."""
    if state is None:
        raise AuthorizationProblem(
            "unknown_authorization", f"expiry of unknown authorization {event.authorization_id!r}"
        )
    moved = _moved(state, position)
    if moved is None:
        return state
    last = event.last_valid_date
    if state.expired_after is not None:
        last = min(last, state.expired_after)
    terms = replace(state.terms, valid_to=min(state.terms.valid_to, last), event_id=event.event_id)
    return replace(moved, terms=terms, expired_after=last)


def take_units(state: AuthorizationState, units: int) -> AuthorizationState:
    """The cap with `units` more given out to an accepted claim line."""
    return replace(state, units_taken=state.units_taken + units)


def release_units(state: AuthorizationState, units: int) -> AuthorizationState:
    """The cap with `units` given back (a reopened claim line)."""
    return replace(state, units_taken=max(state.units_taken - units, 0))


def covering(
    authorizations: Iterable[AuthorizationTerms],
    distributor_id: str,
    sku: str,
    reseller_id: str,
    end_customer: str | None,
    sold_at: datetime,
    currency: str,
    master_id: str | None = None,
    customer_master: str | None = None,
) -> AuthorizationTerms | None:
    """The authorization a sale is sold under, or None (`master_id` / `customer_master`:
    the masters the sale's reseller and end customer mean, see `AuthorizationTerms.covers`).

    Among several covering it, one without a floor wins (the vendor set none), else the
    lowest floor, then the smallest authorization_id: the most permissive deal, the same
    whatever order they are given in.
    """
    found = [
        terms
        for terms in authorizations
        if terms.covers(
            distributor_id,
            sku,
            reseller_id,
            end_customer,
            sold_at,
            currency,
            master_id,
            customer_master,
        )
    ]
    if not found:
        return None
    return min(found, key=_permissiveness)


def _permissiveness(terms: AuthorizationTerms) -> tuple[bool, Decimal, str]:
    floor = terms.floor_price
    return (floor is not None, floor if floor is not None else Decimal(0), terms.authorization_id)


def _moved(state: AuthorizationState, position: Position | None) -> AuthorizationState | None:
    applied = advance(state.applied, position)
    return None if applied is None else replace(state, applied=applied)


def _given(value: T | None, current: T) -> T:
    return current if value is None else value


def _capped(valid_to: date, expired_after: date | None) -> date:
    """An amended end date never reaches past an early expiry."""
    return valid_to if expired_after is None else min(valid_to, expired_after)
