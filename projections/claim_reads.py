"""Debit claim rows, in store key order (distributor, claim id): each claim line as
decided so far, or each claim with its totals (schemas/rows/claims.py). One claim's rows
read one record."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domain.claim_rules import LineDecision, claim_aggregate_id
from domain.currency import zero_in
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
    "agreement_event_id",
)  # fmt: skip


def debit_claim_rows(stores: ChannelStores, distributor_id: str | None = None) -> list[Row]:
    """Every claim line (one distributor's, if given): as long as the list itself."""
    return [
        row for record in claim_records(stores, distributor_id) for row in claim_line_rows(record)
    ]


def claim_summary_rows(stores: ChannelStores, distributor_id: str | None = None) -> list[Row]:
    """Every claim with its totals (one distributor's, if given): a record per row."""
    return [claim_summary(record) for record in claim_records(stores, distributor_id)]


def claim_records(stores: ChannelStores, distributor_id: str | None) -> Iterable[ClaimRecord]:
    if distributor_id is None:
        return stores.claims.values()
    return (record for _, record in stores.claims.scan(f"{distributor_id}|"))


def _head(record: ClaimRecord) -> Row:
    return {
        "claim_uuid": str(claim_aggregate_id(record.distributor_id, record.claim_id)),
        "distributor_id": record.distributor_id,
        "claim_id": record.claim_id,
        "recorded_at": iso_z(datetime.fromisoformat(record.recorded_at)),
    }


def claim_summary(record: ClaimRecord) -> Row:
    """A claim's lines counted by status, its totals over the lines decided (a waiting
    line's figures come with its decision) and the reasons of its rejected and adjusted
    lines; `pending` while a line waits for its POS line or a decision."""
    decided = [d for n in record.line_nos if (d := record.decisions.get(n)) is not None]
    lines = Counter[str](d.status for d in decided)
    lines[WAITING] = len(record.line_nos) - len(decided)
    reasons = Counter(
        reason for d in decided if d.status in ("rejected", "adjusted") for reason in d.reasons
    )
    open_lines = lines[WAITING] + lines["pending_pos"]
    currencies = {d.currency for d in decided}
    zero = zero_in(currencies)
    return {
        **_head(record),
        "status": "pending" if open_lines else "decided",
        "lines": len(record.line_nos),
        "lines_by_status": {status: n for status, n in sorted(lines.items()) if n},
        "currency": next(iter(currencies)) if len(currencies) == 1 else None,
        "quantity_claimed": sum(d.quantity_claimed for d in decided),
        "quantity_accepted": sum(d.quantity_accepted for d in decided),
        "total_claimed": str(sum((d.amount_claimed for d in decided), zero)),
        "total_accepted": str(sum((d.amount_accepted for d in decided), zero)),
        "reasons": dict(sorted(reasons.items())),
    }


def claim_line_rows(record: ClaimRecord) -> list[Row]:
    claim = _head(record)
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
        "agreement_event_id": _text(decision.agreement_event_id),
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)
