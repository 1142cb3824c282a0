"""Debit claim rows: each claim line as decided so far, in store key order (distributor,
claim id, line number). One claim's rows read one record."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domain.claim_rules import LineDecision, claim_aggregate_id
from domain.timeutil import iso_z
from projections.claim_state import ClaimRecord
from projections.stores import ChannelStores

Row = dict[str, Any]
#: a line without a decision: waiting for its cap's grant, or reopened by a reversal
WAITING = "waiting"
#: what a decision adds to a line's row (null while it has none)
DECIDED = (
    "reasons", "transaction_id", "sku", "authorization_id", "quantity_claimed",
    "quantity_accepted", "amount_claimed", "amount_accepted", "currency", "book_cost",
    "authorized_cost", "pos_event_id", "price_event_id", "authorization_event_id",
)  # fmt: skip


def debit_claim_rows(stores: ChannelStores, distributor_id: str | None = None) -> list[Row]:
    """Every claim line (one distributor's, if given): as long as the list itself."""
    records: Iterable[ClaimRecord]
    if distributor_id is None:
        records = stores.claims.values()
    else:
        records = (record for _, record in stores.claims.scan(f"{distributor_id}|"))
    return [row for record in records for row in claim_line_rows(record)]


def claim_line_rows(record: ClaimRecord) -> list[Row]:
    claim = {
        "claim_uuid": str(claim_aggregate_id(record.distributor_id, record.claim_id)),
        "distributor_id": record.distributor_id,
        "claim_id": record.claim_id,
        "recorded_at": iso_z(datetime.fromisoformat(record.recorded_at)),
    }
    return [
        {**claim, "line_no": number, **_decided(record.decisions.get(number))}
        for number in record.line_nos
    ]


def _decided(decision: LineDecision | None) -> Row:
    if decision is None:
        return {"status": WAITING, **dict.fromkeys(DECIDED)}
    return {
        "status": decision.status,
        "reasons": list(decision.reasons),
        "transaction_id": decision.transaction_id,
        "sku": decision.sku,
        "authorization_id": decision.authorization_id,
        "quantity_claimed": decision.quantity_claimed,
        "quantity_accepted": decision.quantity_accepted,
        "amount_claimed": str(decision.amount_claimed),
        "amount_accepted": str(decision.amount_accepted),
        "currency": decision.currency,
        "book_cost": _text(decision.book_cost),
        "authorized_cost": _text(decision.authorized_cost),
        "pos_event_id": _text(decision.pos_event_id),
        "price_event_id": _text(decision.price_event_id),
        "authorization_event_id": _text(decision.authorization_event_id),
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)
