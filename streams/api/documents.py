"""Audit records (a rebate statement, a pricing violation, a debit claim) as JSON
documents: the API answers them, the CLI prints them."""

from datetime import datetime
from typing import Any

from domain.timeutil import iso_z


def statement_document(found: Any) -> dict[str, Any]:
    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    def when(moment: datetime | None) -> str | None:
        return None if moment is None else iso_z(moment)

    return {
        "program_id": found.program_id,
        "distributor_id": found.distributor_id,
        "period": found.period,
        "volume": text(found.volume),
        "revenue": text(found.revenue),
        "tier_rate": text(found.tier_rate),
        "rebate": text(found.rebate),
        "commitment_shortfall": text(found.commitment_shortfall),
        "event_count": found.event_count,
        "digest": found.digest,
        "rate_event_ids": list(found.rate_event_ids),
        "unconverted": list(found.unconverted),
        "calculated_at": when(found.calculated_at),
        "calculated_by": found.calculated_by,
        "adjustments": [
            {
                "event_id": a.event_id,
                "reason": a.reason,
                "amount": text(a.amount),
                "rebate": text(a.rebate),
                "at": when(a.at),
                "rate_event_ids": list(a.rate_event_ids),
                "unconverted": list(a.unconverted),
            }
            for a in found.adjustments
        ],
        "total": text(found.total),
        "status": found.status,
        "approved_by": found.approved_by,
        "payment_reference": found.payment_reference,
        "paid_by": found.paid_by,
    }


def violation_document(found: Any) -> dict[str, Any]:
    return {
        "violation_id": str(found.id),
        "distributor_id": found.distributor_id,
        "transaction_id": found.transaction_id,
        "reseller_id": found.reseller_id,
        "sku": found.sku,
        "sold_at": iso_z(found.sold_at),
        "unit_price": str(found.unit_price),
        "floor_price": str(found.floor_price),
        "severity": str(found.severity),
        "status": str(found.status),
        "resolution": None if found.resolution is None else str(found.resolution),
        "sale": {
            "event_id": str(found.event_id),
            "transaction_id": found.transaction_id,
            "reseller_id": found.reseller_id,
            "sku": found.sku,
            "sold_at": iso_z(found.sold_at),
            "quantity": found.quantity,
            "unit_price": str(found.unit_price),
            "currency": found.currency,
        },
        "price": {
            "event_id": str(found.price_event_id),
            "scope": found.scope,
            "floor_price": str(found.floor_price),
            "rate_event_id": None if found.rate_event_id is None else str(found.rate_event_id),
            "alias_event_id": None if found.alias_event_id is None else str(found.alias_event_id),
        },
        "steps": [
            {
                "action": str(step.action),
                "from": str(step.from_status),
                "to": str(step.to_status),
                "actor": step.actor_id,
                "role": str(step.role),
                "at": iso_z(step.at),
                "reason": step.reason,
                "resolution": None if step.resolution is None else str(step.resolution),
            }
            for step in found.steps
        ],
    }


def claim_document(found: Any) -> dict[str, Any]:
    """A `DebitClaim`: its status and totals, each line as claimed with its latest
    decision (None: not decided yet), and every step (who, when, why)."""

    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    return {
        "distributor_id": found.distributor_id,
        "claim_id": found.claim_id,
        "aggregate_id": str(found.id),
        "event_id": str(found.event_id),
        "recorded_at": iso_z(found.recorded_at),
        "status": str(found.status),
        "total_claimed": str(found.total_claimed),
        "total_accepted": str(found.total_accepted),
        "granted": str(found.granted),
        "settled": text(found.settled_total),
        "outstanding": text(found.outstanding),
        "pending_lines": list(found.pending_lines),
        "lines": [
            {
                "line_no": line.line_no,
                "transaction_id": line.transaction_id,
                "sku": line.sku,
                "quantity": line.quantity,
                "authorization_id": line.authorization_id,
                "amount_claimed": str(line.amount_claimed),
                "currency": line.currency,
                "decision": _decision(found.decisions.get(number)),
            }
            for number, line in sorted(found.lines.items())
        ],
        "steps": [
            {
                "action": str(step.action),
                "from": str(step.from_status),
                "to": str(step.to_status),
                "actor": step.actor_id,
                "role": str(step.role),
                "actor_distributor_id": step.actor_distributor_id,
                "at": iso_z(step.at),
                "reason": step.reason,
                "reference": step.reference,
                "amount": text(step.amount),
                "lines": list(step.lines),
            }
            for step in found.steps
        ],
        "version": found.version,
    }


def _decision(decision: Any) -> dict[str, Any] | None:
    if decision is None:
        return None

    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    return {
        "status": decision.status,
        "reasons": list(decision.reasons),
        "quantity_claimed": decision.quantity_claimed,
        "quantity_accepted": decision.quantity_accepted,
        "amount_claimed": str(decision.amount_claimed),
        "amount_accepted": str(decision.amount_accepted),
        "book_cost": text(decision.book_cost),
        "authorized_cost": text(decision.authorized_cost),
        "pos_event_id": text(decision.pos_event_id),
        "price_event_id": text(decision.price_event_id),
        "authorization_event_id": text(decision.authorization_event_id),
        "agreement_event_id": text(decision.agreement_event_id),
    }
