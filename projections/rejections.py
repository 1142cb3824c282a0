"""Inputs that cannot be applied: counted per distributor (or source) and reason, once."""

from __future__ import annotations

from projections.dedup import Verdict, classify, remember
from projections.outcome import Outcome
from projections.pending_moves import PendingMoves
from projections.positions import Position
from projections.quality import DeadLetterCount, QualityState, count_dead_letter, record_rejection
from projections.scorecard_feed import judged, record_cards
from projections.stores import ChannelStores
from schemas.envelope import Envelope
from schemas.events import InventoryCounted, LineRejected, SaleReported, ShipmentRecorded


def reject_input(
    stores: ChannelStores,
    reason: str,
    distributor: str | None,
    position: Position | None,
    pending: PendingMoves | None = None,
    sent: Envelope | None = None,
    detail: str | None = None,
) -> Outcome:
    """Count an input that could not be applied (bad JSON, schema violation, ...) and give
    its outcome (dead-lettered for `reason`, with `detail`); what `pending` keeps is
    recorded first (it may hold the distributor's counts). A rejected event `sent` by a
    distributor counts in its scorecard too."""
    if pending is not None:
        pending.flush(stores)
    if distributor is not None:
        quality = stores.quality.get(distributor) or QualityState(distributor)
        stores.quality.put(distributor, record_rejection(quality, reason, position))
        if sent is not None:
            record_cards(stores, judged(sent, distributor, "rejected", None), position)
    count_dead_letter_of(stores, distributor, reason, position)
    return Outcome(None, reason, detail=detail)


def first_rejection(
    stores: ChannelStores,
    event: SaleReported | ShipmentRecorded | InventoryCounted | LineRejected,
    position: Position | None,
) -> bool:
    """Whether this is the first arrival of a rejected event (or its redelivery from the
    very position, after a crash); rejections are keyed by event_id so none counts twice."""
    key = f"rejection|{event.distributor_id}|{event.event_id}"
    event_id = str(event.event_id)
    seen = stores.seen.get(key)
    verdict = classify(seen, event_id, "", position)
    remember(stores.seen, key, seen, verdict, event_id, "", position)
    return verdict is not Verdict.REDELIVERY


def count_dead_letter_of(
    stores: ChannelStores, distributor: str | None, reason: str, position: Position | None
) -> None:
    """Count one dead letter under its distributor (or, without one, its source)."""
    scope = distributor or (position.source if position else "-")
    key = f"{scope}|{reason}"
    state = stores.dead_letters.get(key) or DeadLetterCount(scope, reason)
    stores.dead_letters.put(key, count_dead_letter(state, position))
