"""Which decision document a stored audit event becomes: one place, pure, used by the relay
that publishes them (streams/runners/decisions_relay.py) and by the tests that check them.

A document is built from the stored event and its record's creation event (version 1): a
step of a violation or a statement carries only what changed, and the creation event adds
what the step's document needs besides (the distributor, the sale key, the program and
period, a claim's SKU). The same stored event always gives the same document, with a
`decision_id` derived from the record id and the event's version. An erasure gives one
document per distributor it concerns (the subject is one distributor's end customer), each
id derived from the distributor too.

An aggregate with no entry here (the ship-and-debit `DebitClaim` until it is wired in) is
not published: adding its events to `DOCUMENTS` is all it takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

from domain.erasure import SubjectErasure
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
    SubjectErased,
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


_ERASED: Any = SubjectErasure.Created


def decision_id(record_id: UUID, version: int, *distributor_id: str) -> UUID:
    """The id of the document of a record's event (of an erasure's: for one distributor):
    the same stored event, the same id."""
    return derived_id("decision", str(record_id), str(version), *distributor_id)


def publishes(event: object) -> bool:
    """Whether a stored event becomes a decision document."""
    return type(event) in DOCUMENTS or type(event) is _ERASED


def decisions_of(position: int, event: object, origin: object) -> list[DecisionHead]:
    """The documents of `event` (see `decision_of`): one, or one per distributor an
    erasure concerns; none for an event that is not published."""
    if type(event) is _ERASED:
        return list(erasure_documents(position, event))
    document = decision_of(position, event, origin)
    return [] if document is None else [document]


def erasure_documents(position: int, event: Any) -> list[SubjectErased]:
    """An erasure's document for each distributor it concerns: the one it names, and each
    whose key of the subject it deleted (none: a request for every distributor that found
    no key, so nothing was ever readable to forget)."""
    keys: dict[str, list[str]] = {}
    if event.distributor_id is not None:
        keys[event.distributor_id] = []
    for held in event.key_ids:
        distributor, key_id = str(held).rsplit("/", 1)
        keys.setdefault(distributor, []).append(key_id)
    version = int(event.originator_version)
    return [
        SubjectErased(
            decision_id=decision_id(event.originator_id, version, distributor),
            record_id=event.originator_id,
            record_version=version,
            position=position,
            recorded_at=event.timestamp,
            distributor_id=distributor,
            subject=event.subject,
            key_ids=key_ids,
            actor_id=event.actor_id,
            at=event.at,
            reason=event.reason,
        )
        for distributor, key_ids in sorted(keys.items())
    ]


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
