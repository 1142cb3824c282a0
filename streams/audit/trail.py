"""History and lineage of an audit record: what happened to it, and which raw events made it.

A record is a rebate statement, a pricing violation, an inventory reconciliation or a
price-protection claim, named by kind and by its aggregate id or business key:

    statement       PROGRAM/DISTRIBUTOR/PERIOD          VPA-2026/D01/2026-Q3
    violation       DISTRIBUTOR/TRANSACTION             D01/T-000123
    reconciliation  DISTRIBUTOR/SKU/COUNTED_AT          D01/SKU-0003/2026-07-12T23:00:00Z
    claim           DISTRIBUTOR/SKU/EFFECTIVE_FROM      D01/SKU-0003/2026-08-01T00:00:00Z
    rotation        DISTRIBUTOR/REQUEST                 D01/RR-7
    alias           DISTRIBUTOR/ALIAS_ID, or its key    D01/4711, na|D01|9f3c...

History reads the aggregate's events in the audit store (what, when, who, why) with each
event's seal. Lineage names the source events: from the projection stores (the moves a
statement summed, the movements behind a count or a claim) and, when the raw input was
read (`RawIndex`), where each one was read (topic, partition, offset; or file and line),
its envelope source, source_ref and report_id. A statement's listed events must reproduce
its digest, and each adjustment's; the result says whether they do.

Here: loading a record and its history. Lineage, and where raw events were read, in
streams/audit/lineage.py.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.alias_mapping import PartyAlias, alias_aggregate_id
from domain.claim_lifecycle import DebitClaim
from domain.price_protection import PriceProtection
from domain.rebate_statement import RebateStatement
from domain.reconciliation import InventoryReconciliation
from domain.rotation_lifecycle import StockRotation
from domain.timeutil import iso_z, utc
from domain.violation import PricingViolation
from infra.auditchain import Seal
from infra.eventstore import AuditLog
from projections.party_aliases import id_alias_key

KINDS: Final[dict[str, type]] = {
    "statement": RebateStatement,
    "violation": PricingViolation,
    "reconciliation": InventoryReconciliation,
    "claim": PriceProtection,
    "rotation": StockRotation,
    "alias": PartyAlias,
    "debit-claim": DebitClaim,
}
KEY_FORMS: Final = {
    "statement": "PROGRAM/DISTRIBUTOR/PERIOD",
    "violation": "DISTRIBUTOR/TRANSACTION",
    "reconciliation": "DISTRIBUTOR/SKU/COUNTED_AT",
    "claim": "DISTRIBUTOR/SKU/EFFECTIVE_FROM",
    "rotation": "DISTRIBUTOR/REQUEST",
    "alias": "DISTRIBUTOR/ALIAS_ID",
    "debit-claim": "DISTRIBUTOR/CLAIM",
}
#: why an event happened when nobody typed a reason: the system derived it
SYSTEM_REASONS: Final = {
    "RebateCalculated": "the rebate period was closed",
    "RebateApproved": "approved for payment",
    "RebatePaid": "paid",
    "Detected": "a sale line below the floor price in effect",
    "PriceProtection.Revised": "the stock on hand at the cost drop changed (a movement "
    "processed later)",
    "PricingViolation.Revised": "a replacement report corrected the sale line: judged again",
    "InventoryReconciliation.Created": "a physical count compared with the expected on-hand",
    "PriceProtection.Created": "a distributor cost drop with stock on hand",
    "PriceProtection.Withdrawn": "an agreement recorded later moved the distributor to "
    "another price list for the drop's day: nothing is owed",
    "StockRotation.Requested": "a distributor asked to return stock",
    "StockRotation.Decided": "decided against the agreement, the stock and the allowance",
    "StockRotation.ReturnReceived": "the vendor's return shipment recorded the units",
    "PartyAlias.Opened": "the alias's first mapping step",
    "StockRotation.ExchangeShipped": "the vendor's exchange shipment recorded the units",
    "DebitClaim.Submitted": "a distributor claimed ship-and-debit",
    "DebitClaim.LineDecided": "decided against the authorization, the POS line and the price book",
    "DebitClaim.LineReopened": "a replacement report reversed the POS line the line held",
}
_ENVELOPE: Final = frozenset(
    {"originator_id", "originator_version", "originator_topic", "timestamp"}
)
SYSTEM: Final = "channelflow"
#: the business time of an event: a step's own, else the fact's
_BUSINESS_TIMES: Final = ("at", "calculated_at", "sold_at", "counted_at", "effective_from")


class UnknownRecord(ValueError):
    """The kind or the reference does not name an audit record."""


def aggregate_id(kind: str, reference: str) -> UUID:
    """The aggregate id of a record given by id or by business key."""
    aggregate = _kind(kind)
    try:
        return UUID(reference)
    except ValueError:
        pass
    if kind == "alias" and "|" in reference:  # an alias key (one sent by name has no id)
        return alias_aggregate_id(reference)
    parts = reference.split("/")
    expected = KEY_FORMS[kind].count("/") + 1
    if len(parts) != expected or not all(parts):
        raise UnknownRecord(
            f"{reference!r} is neither an id nor a {kind} key {KEY_FORMS[kind]}"
        ) from None
    if kind == "alias":
        return alias_aggregate_id(id_alias_key(parts[0], parts[1]))
    if kind in ("reconciliation", "claim"):
        return UUID(str(aggregate.create_id(parts[0], parts[1], utc(_time(parts[2])))))
    return UUID(str(aggregate.create_id(*parts)))


def _kind(kind: str) -> Any:
    try:
        return KINDS[kind]
    except KeyError:
        raise UnknownRecord(f"unknown kind {kind!r} (use {', '.join(KINDS)})") from None


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UnknownRecord(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise UnknownRecord(f"{text!r} needs a timezone (e.g. Z)")
    return moment


def load(audit: AuditLog, kind: str, reference: str) -> Any:
    """The record's aggregate; AggregateNotFoundError when the store has none of that kind."""
    wanted = aggregate_id(kind, reference)
    found: Any = audit.repository.get(wanted)
    if not isinstance(found, KINDS[kind]):
        raise AggregateNotFoundError(wanted)
    return found


# --- history ----------------------------------------------------------------------------------


def history(audit: AuditLog, kind: str, reference: str) -> dict[str, Any]:
    """Every event of the record, oldest first: what, when, who (and role), why, its data
    and its seal (position and hashes); plus the record's current state."""
    aggregate = load(audit, kind, reference)
    seals = {seal.record.version: seal for seal in audit.chain.seals_of(aggregate.id)}
    events = [
        _entry(type(aggregate).__name__, event, seals.get(event.originator_version))
        for event in audit.events.get(aggregate.id)
    ]
    return {"kind": kind, "id": str(aggregate.id), "state": state_of(aggregate), "events": events}


def _entry(aggregate: str, event: Any, seal: Seal | None) -> dict[str, Any]:
    name = type(event).__name__
    data = {k: v for k, v in vars(event).items() if k not in _ENVELOPE}
    who = data.get("actor_id") or data.get("by") or data.get("calculated_by") or SYSTEM
    why = (
        data.get("reason") or SYSTEM_REASONS.get(f"{aggregate}.{name}") or SYSTEM_REASONS.get(name)
    )
    return {
        "version": event.originator_version,
        "what": name,
        "recorded_at": iso_z(event.timestamp),
        "at": jsonable(next((data[k] for k in _BUSINESS_TIMES if data.get(k)), None)),
        "who": who,
        "role": data.get("role"),
        "why": why,
        "data": jsonable(data),
        "seal": None
        if seal is None
        else {
            "seq": seal.seq,
            "position": seal.record.position,
            "aggregate_hash": seal.aggregate_hash,
            "chain_hash": seal.chain_hash,
        },
    }


def state_of(aggregate: Any) -> dict[str, Any]:
    """The aggregate's public state as JSON (money as strings, times with Z)."""
    state = {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
    if isinstance(aggregate, RebateStatement):
        state["adjustments"] = aggregate.adjustments
        state["total"] = aggregate.total
    return {"id": str(aggregate.id), "version": aggregate.version, **jsonable(state)}


def jsonable(value: Any) -> Any:
    """Decimal → str, datetime → ISO with Z, UUID and enums → str, dataclasses → dicts."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, Decimal | UUID | Enum):
        return str(value.value if isinstance(value, Enum) else value)
    return value
