"""Special price authorizations as the channel projection applies them (docs/CLAIMS.md).

The `authorizations` topic is reference data, read whole by every worker and replay like
the price book: pricing needs the deal a sale is sold under whatever partition the sale
is in. An event updates the authorization's state (`projections.authorizations`:
authorize, amend, expire) and, for a new one, the index of the authorizations naming each
sku, which `covering_sale` reads: the few deals of one sku, never all of them, and the
index of those naming a reseller, which `naming` reads when an alias is unmapped. A refusal
(`conflicting_duplicate`, `unknown_authorization`, `invalid_amendment`) is the input's
dead-letter reason, counted under the topic like an agreement's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Final

from domain.claim_rules import AuthorizationTerms
from projections.authorizations import (
    AuthorizationProblem,
    AuthorizationState,
    amend,
    authorize,
    covering,
    expire,
)
from projections.dedup import Verdict
from projections.keyvalue import KeyValue
from projections.outcome import Outcome
from projections.positions import Position, already_applied
from projections.rejections import reject_input
from projections.stores import ChannelStores
from schemas.claims import SpecialPriceAmended, SpecialPriceAuthorized, SpecialPriceExpired
from schemas.events import SaleReported
from schemas.parties import PartyKind

AuthorizationEvent = SpecialPriceAuthorized | SpecialPriceAmended | SpecialPriceExpired

#: event type -> the step that applies it
_STEPS: Final[dict[type[Any], Callable[..., AuthorizationState]]] = {
    SpecialPriceAuthorized: authorize,
    SpecialPriceAmended: amend,
    SpecialPriceExpired: expire,
}


def apply_authorization(
    stores: ChannelStores, event: AuthorizationEvent, position: Position | None
) -> Outcome:
    """Authorize, amend or expire: the authorization's terms, or the reason it is refused."""
    state = stores.authorizations.get(event.authorization_id)
    if state is not None and already_applied(state.applied, position):
        return Outcome(Verdict.REDELIVERY)
    try:
        updated = _STEPS[type(event)](state, event, position)
    except AuthorizationProblem as problem:
        return reject_input(stores, problem.reason, None, position, detail=str(problem))
    stores.authorizations.put(event.authorization_id, updated)
    if state is None:
        for sku in sorted(updated.terms.skus):
            _index(stores.sku_authorizations, sku, event.authorization_id)
        parties: tuple[tuple[PartyKind, str | None], ...] = (
            ("reseller", updated.terms.reseller_id),
            ("end_customer", updated.terms.end_customer),
        )
        for party, named in parties:
            if named is not None:
                _index(stores.party(party).authorizations, named, event.authorization_id)
        return Outcome(Verdict.ACCEPTED)
    unchanged = (updated.terms, updated.amendments, updated.expired_after) == (
        state.terms,
        state.amendments,
        state.expired_after,
    )
    return Outcome(Verdict.DUPLICATE if unchanged else Verdict.ACCEPTED)


def _index(index: KeyValue[tuple[str, ...]], key: str, authorization_id: str) -> None:
    named = index.get(key) or ()
    index.put(key, tuple(sorted({*named, authorization_id})))


def naming(
    stores: ChannelStores, party: PartyKind, party_id: str, distributor_id: str, on: date
) -> AuthorizationTerms | None:
    """The first (by id) authorization naming `party_id` (an alias or a master, as its
    reseller or its end customer) for `distributor_id` that is still valid on `on` or later:
    what unmapping one of the distributor's aliases from that master would take its sales
    away from."""
    for authorization_id in stores.party(party).authorizations.get(party_id) or ():
        state = stores.authorizations.get(authorization_id)
        if (
            state is not None
            and distributor_id in state.terms.distributor_ids
            and state.terms.valid_to >= on
        ):
            return state.terms
    return None


def covering_sale(
    stores: ChannelStores,
    sale: SaleReported,
    master_id: str | None = None,
    customer_master: str | None = None,
) -> AuthorizationTerms | None:
    """The authorization a sale line is sold under (`covering`: the most permissive), among
    those naming its sku; None when none covers it. `master_id` / `customer_master`: the
    masters the sale's reseller and end customer mean (an authorization naming one covers
    the sale)."""
    named = stores.sku_authorizations.get(sale.sku)
    if not named:
        return None
    found = (stores.authorizations.get(authorization_id) for authorization_id in named)
    return covering(
        [state.terms for state in found if state is not None],
        sale.distributor_id, sale.sku, sale.reseller_id, sale.end_customer, sale.sold_at,
        sale.currency, master_id, customer_master,
    )  # fmt: skip
