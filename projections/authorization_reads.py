"""Special price authorization rows: one per authorization and distributor it names, with
its terms as they stand after amendments and expiry (docs/CLAIMS.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from projections.authorizations import AuthorizationState
from projections.stores import ChannelStores

Row = dict[str, Any]


def authorization_rows(stores: ChannelStores, today: date | None, wanted: str | None) -> list[Row]:
    """Every authorization naming `wanted` (None: every distributor), by id then
    distributor; `in_effect` when `today` is within its validity."""
    return [
        _row(state, distributor, today)
        for _, state in stores.authorizations.scan()
        for distributor in sorted(state.terms.distributor_ids)
        if wanted is None or distributor == wanted
    ]


def _row(state: AuthorizationState, distributor_id: str, today: date | None) -> Row:
    terms = state.terms
    money = {
        "authorized_cost": str(terms.authorized_cost),
        "floor_price": None if terms.floor_price is None else str(terms.floor_price),
    }
    return {
        "authorization_id": terms.authorization_id,
        "distributor_id": distributor_id,
        "skus": sorted(terms.skus),
        "reseller_id": terms.reseller_id,
        "end_customer": terms.end_customer,
        **money,
        "currency": terms.currency,
        "valid_from": terms.valid_from.isoformat(),
        "valid_to": terms.valid_to.isoformat(),
        "quantity_cap": terms.quantity_cap,
        "amendments": list(state.amendments),
        "expired_early": state.expired_after is not None,
        "in_effect": today is not None and terms.valid_from <= today <= terms.valid_to,
        "event_id": str(terms.event_id),
    }
