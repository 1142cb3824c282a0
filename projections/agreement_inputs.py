"""Agreements and exchange rates as the channel projection applies them.

An agreement event updates its distributor's timeline (`projections.agreement_timeline`:
sign, amend, terminate); a problem it raises is the input's dead-letter reason
(`invalid_agreement`, `unknown_agreement`, `overlapping_agreement`,
`conflicting_duplicate`), counted under the topic like an invalid program's (an agreement
is the vendor's input, not the distributor's data). A rate publication goes into its
pair's month (`projections.exchange_rates`). Each event is applied at its recorded time
(the broker's append time), so a worker, the embedded runner and a replay agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from projections.agreement_timeline import (
    AgreementProblem,
    AgreementTimeline,
    amend,
    sign,
    terminate,
)
from projections.dedup import Verdict
from projections.exchange_rates import apply_rate, rate_key
from projections.outcome import Outcome
from projections.positions import Position, already_applied
from projections.rejections import reject_input
from projections.stores import ChannelStores
from schemas.agreements import (
    DistributorAgreementAmended,
    DistributorAgreementSigned,
    DistributorAgreementTerminated,
    ExchangeRatePublished,
)

AgreementEvent = (
    DistributorAgreementSigned | DistributorAgreementAmended | DistributorAgreementTerminated
)

#: event type -> the timeline step that applies it
_STEPS: Final[dict[type[Any], Callable[..., AgreementTimeline]]] = {
    DistributorAgreementSigned: sign,
    DistributorAgreementAmended: amend,
    DistributorAgreementTerminated: terminate,
}


def apply_agreement(
    stores: ChannelStores, event: AgreementEvent, position: Position | None
) -> Outcome:
    """Sign, amend or terminate: the distributor's timeline, or the reason it is refused."""
    timeline = stores.agreements.get(event.distributor_id)
    if timeline is not None and already_applied(timeline.applied, position):
        return Outcome(Verdict.REDELIVERY)
    try:
        updated = _STEPS[type(event)](timeline, event, _recorded(event), position)
    except AgreementProblem as problem:
        return reject_input(stores, problem.reason, None, position, detail=str(problem))
    if updated is timeline:
        return Outcome(Verdict.DUPLICATE)
    stores.agreements.put(event.distributor_id, updated)
    return Outcome(Verdict.ACCEPTED)


def apply_rate_event(
    stores: ChannelStores, event: ExchangeRatePublished, position: Position | None
) -> Outcome:
    """One rate publication into its pair's month (the same publication again: a duplicate)."""
    key = rate_key(event.from_currency, event.to_currency, event.effective_date)
    month = stores.rates.get(key)
    if month is not None and already_applied(month.applied, position):
        return Outcome(Verdict.REDELIVERY)
    updated = apply_rate(month, event, _recorded(event), position)
    if updated is month:
        return Outcome(Verdict.DUPLICATE)
    stores.rates.put(key, updated)
    return Outcome(Verdict.ACCEPTED)


def _recorded(event: AgreementEvent | ExchangeRatePublished) -> datetime:
    """When the system recorded it (a file's event without one: its business time)."""
    return event.recorded_at or event.business_time
