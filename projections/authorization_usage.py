"""How much of each special price authorization is used, and how long it has left
(docs/CLAIMS.md, "Cap use and expiry").

One row per authorization and distributor it names: its cap, the units its ledger has
given out to accepted claim lines (`projections.claim_caps.CapLedger`, read by its key:
`distributor|authorization_id` for a deal naming one distributor, `*|authorization_id`
for one naming several where one process keeps them), the units left and the share used,
its last valid day and the days left to the recorded "now". A deal is **near** its cap when
at least `cap_percent` of it is used, near its expiry when `expiry_days` or fewer are
left; one already past its last day is near nothing. Each authorization reads its terms
and one ledger: a read costs what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from projections.authorizations import AuthorizationState
from projections.claim_caps import CapLedger
from projections.claim_inputs import ledger_key
from projections.stores import ChannelStores

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class NearThresholds:
    """When a deal is flagged (`CHANNELFLOW_CAP_NEAR_PERCENT`, `CHANNELFLOW_EXPIRY_NEAR_DAYS`)."""

    cap_percent: float = 80.0
    expiry_days: int = 14


def usage_rows(
    stores: ChannelStores,
    today: date | None,
    wanted: str | None,
    near: NearThresholds = NearThresholds(),
) -> list[Row]:
    """One row per authorization and distributor it names (`wanted` only, if given), by
    id then distributor, as /api/authorizations lists them.
    The distributors an authorization names share its cap: their rows say the same."""
    rows = []
    for _, state in stores.authorizations.scan():
        names = sorted(state.terms.distributor_ids)
        if wanted is not None:
            names = [wanted] if wanted in names else []
        if not names:
            continue
        ledger = stores.cap_ledgers.get(ledger_key(state.terms))
        usage = usage_of(state, ledger, today, near)
        rows += [{"authorization_id": usage["authorization_id"], "distributor_id": name,
                  **usage} for name in names]  # fmt: skip
    return rows


def usage_of(
    state: AuthorizationState, ledger: CapLedger | None, today: date | None, near: NearThresholds
) -> Row:
    """An authorization's cap use and days left, and what it is near."""
    terms = state.terms
    given = 0 if ledger is None else ledger.units_taken
    cap = terms.quantity_cap
    left = None if cap is None else max(cap - given, 0)
    used = None if cap is None else (100.0 if cap <= 0 else round(100 * given / cap, 1))
    days_left = None if today is None else (terms.valid_to - today).days
    reasons = []
    if days_left is None or days_left >= 0:  # a deal past its last day is near nothing
        if used is not None and used >= near.cap_percent:
            reasons.append("cap")
        if days_left is not None and days_left <= near.expiry_days:
            reasons.append("expiry")
    return {
        "authorization_id": terms.authorization_id,
        "shared_by": len(terms.distributor_ids),
        "skus": sorted(terms.skus),
        "quantity_cap": cap,
        "units_given": given,
        "units_left": left,
        "percent_used": used,
        "valid_to": terms.valid_to.isoformat(),
        "days_left": days_left,
        "expired_early": state.expired_after is not None,
        "near": reasons,
    }
