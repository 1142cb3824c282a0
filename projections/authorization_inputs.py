"""Special price authorizations as the channel projection applies them (docs/CLAIMS.md).

The `authorizations` topic is reference data, read whole by every worker and replay like
the price book: pricing needs the deal a sale is sold under whatever partition the sale
is in. An event updates the authorization's state (`projections.authorizations`:
authorize, amend, expire) and, for a new one, the index of the authorizations naming each
sku, which `covering_sale` reads: the few deals of one sku, never all of them. A refusal
(`conflicting_duplicate`, `unknown_authorization`, `invalid_amendment`) is the input's
dead-letter reason, counted under the topic like an agreement's.
"""

from __future__ import annotations

from collections.abc import Callable
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
from projections.outcome import Outcome
from projections.positions import Position, already_applied
from projections.rejections import reject_input
from projections.stores import ChannelStores
from schemas.claims import SpecialPriceAmended, SpecialPriceAuthorized, SpecialPriceExpired
from schemas.events import SaleReported

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
            named = stores.sku_authorizations.get(sku) or ()
            stores.sku_authorizations.put(sku, tuple(sorted({*named, event.authorization_id})))
        return Outcome(Verdict.ACCEPTED)
    unchanged = (updated.terms, updated.amendments, updated.expired_after) == (
        state.terms,
        state.amendments,
        state.expired_after,
    )
    return Outcome(Verdict.DUPLICATE if unchanged else Verdict.ACCEPTED)


def covering_sale(stores: ChannelStores, sale: SaleReported) -> AuthorizationTerms | None:
    """The authorization a sale line is sold under (`covering`: the most permissive), among
    those naming its sku; None when none covers it."""
    named = stores.sku_authorizations.get(sale.sku)
    if not named:
        return None
    found = (stores.authorizations.get(authorization_id) for authorization_id in named)
    return covering(
        [state.terms for state in found if state is not None],
        sale.distributor_id, sale.sku, sale.reseller_id, sale.end_customer, sale.sold_at,
        sale.currency,
    )  # fmt: skip
