"""Which decision document a stored audit event becomes: one place, pure, used by the relay
that publishes them (streams/runners/decisions_relay.py) and by the tests that check them.

A document is built from the stored event and its record's creation event (version 1): a
step of a violation or a statement carries only what changed, and the creation event adds
what the step's document needs besides (the distributor, the sale key, the program and
period, a claim's SKU). The same stored event always gives the same document, with a
`decision_id` derived from the record id and the event's version.

An aggregate with no entry here (the ship-and-debit `DebitClaim` until it is wired in) is
not published: adding its events to `DOCUMENTS` is all it takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

from domain.identity import derived_id
from domain.price_protection import PriceProtection
from domain.rebate_statement import RebateStatement
from domain.reconciliation import InventoryReconciliation
from domain.violation import PricingViolation
from schemas.decisions import (
    ClaimRecorded,
    ClaimRevised,
    DecisionHead,
    ReconciliationRecorded,
    StatementAdjusted,
    StatementApproved,
    StatementCalculated,
    StatementPaid,
    ViolationAcknowledged,
    ViolationDetected,
    ViolationDisputed,
    ViolationResolved,
    ViolationRevised,
)

_SALE: Final = {"event_id": "sale_event_id"}
_TRIGGER: Final = {"event_id": "trigger_event_id"}
_V: Any = PricingViolation  # the step events are made by `@event`: unknown to mypy
_S: Any = RebateStatement

#: stored event class -> (its document, the event fields the document names otherwise)
DOCUMENTS: Final[dict[type[Any], tuple[type[DecisionHead], Mapping[str, str]]]] = {
    _V.Detected: (ViolationDetected, _SALE),
    _V.Revised: (ViolationRevised, _SALE),
    _V.Acknowledged: (ViolationAcknowledged, {}),
    _V.Disputed: (ViolationDisputed, {}),
    _V.Resolved: (ViolationResolved, {}),
    InventoryReconciliation.Created: (ReconciliationRecorded, {}),
    PriceProtection.Created: (ClaimRecorded, {}),
    PriceProtection.Revised: (ClaimRevised, {}),  # type: ignore[attr-defined]
    _S.RebateCalculated: (StatementCalculated, {}),
    _S.RebateAdjusted: (StatementAdjusted, _TRIGGER),
    _S.RebateApproved: (StatementApproved, {}),
    _S.RebatePaid: (StatementPaid, {}),
}


def decision_id(record_id: UUID, version: int) -> UUID:
    """The id of the document of a record's event: the same stored event, the same id."""
    return derived_id("decision", str(record_id), str(version))


def publishes(event: object) -> bool:
    """Whether a stored event becomes a decision document."""
    return type(event) in DOCUMENTS


def decision_of(position: int, event: object, origin: object) -> DecisionHead | None:
    """The document of `event`, stored at `position`, whose record was created by `origin`
    (the event itself when it is the creation); None for an event that is not published.

    Raises pydantic's ValidationError when the stored fields do not make a document: a
    record of another kind than its creation event, a field missing.
    """
    entry = DOCUMENTS.get(type(event))
    if entry is None:
        return None
    model, renamed = entry
    fields = {renamed.get(name, name): value for name, value in vars(origin).items()}
    fields.update((renamed.get(name, name), value) for name, value in vars(event).items())
    record_id = fields["originator_id"]
    version = int(fields["originator_version"])
    document = {name: fields[name] for name in model.model_fields if name in fields}
    document.update(
        decision_id=decision_id(record_id, version),
        record_id=record_id,
        record_version=version,
        position=position,
        recorded_at=fields["timestamp"],
    )
    return model.model_validate(document)
