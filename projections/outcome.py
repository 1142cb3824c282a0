"""What became of one input, and the audit facts the projection gives rise to."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.frozen import quick_init
from projections.alias_facts import AliasStepTaken
from projections.claim_facts import ClaimFact
from projections.dedup import Verdict
from projections.inventory import Reconciliation
from projections.price_protection_claims import PriceProtectionClaim
from projections.price_rules import ViolationDetected
from projections.rotation_facts import (
    RotationCancelled,
    RotationDecided,
    RotationExchanged,
    RotationReturned,
)
from schemas.events import Envelope

#: Facts the projection gives rise to, recorded idempotently in the audit event store.
AuditFact = (
    Reconciliation
    | ViolationDetected
    | PriceProtectionClaim
    | RotationDecided
    | RotationReturned
    | AliasStepTaken
    | RotationExchanged
    | RotationCancelled
    | ClaimFact
)


@quick_init
@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one input: its verdict, why it was dead-lettered, the facts to record."""

    verdict: Verdict | None
    dead_letter_reason: str | None = None
    facts: tuple[AuditFact, ...] = field(default=())
    detail: str | None = None
    event: Envelope | None = None
    #: what to dead-letter instead of the input: the line a `LineRejected` carries, or
    #: the event of a bundle
    original: bytes | None = None
    #: the event's place in its bundle (None: a message of one event)
    index: int | None = None
    #: a sale that stays unpriced because its distributor had as many sales waiting for a
    #: rate as it may: why (`projections.rate_waits.wait_for_rate`), for the metrics
    rate_wait_refused: str | None = None


def letter_detail(outcome: Outcome, reason: str) -> str:
    """The detail of the dead letter of `outcome`: why, and where the line was read when its
    event says (`source_ref`: `w14.edi 867 R-17 segment 20`, `weekly.csv:42`, `api[3]`), so
    that a sender finds the line to fix. A `LineRejected`'s detail names it already."""
    detail = outcome.detail or reason
    event = outcome.event
    ref = None if event is None or event.event_type == "LineRejected" else event.source_ref
    return f"{ref}: {detail}" if ref else detail


#: `Outcome(verdict)`, built once (outcomes are immutable)
VERDICT_ONLY = {verdict: Outcome(verdict) for verdict in Verdict}
