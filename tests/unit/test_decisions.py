"""Decision documents: every audit event becomes the document its kind declares, with an id
that is the same whenever the same stored event is read, and the log read page by page."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import TopicError

from domain.erasure import SubjectErasure
from domain.price_protection import PriceProtection
from domain.rebate_statement import RebateStatement
from domain.reconciliation import InventoryReconciliation
from infra.decision_log import DecisionSource
from infra.eventstore import open_audit_log
from projections.decisions import DOCUMENTS, decision_id, decision_of, decisions_of, publishes
from schemas.decisions import (
    DECISION_TYPES,
    Decision,
    DecisionHead,
    SubjectErased,
    decision_type_of,
)
from tests.unit.test_rebate_statement import LATE_SALE_ID, closed_statement, period_with
from tests.unit.violation_cases import ADMIN, T1, T2, acknowledge, detected, dispute

COUNTED = datetime(2026, 7, 12, 23, tzinfo=UTC)
DROP = datetime(2026, 8, 1, tzinfo=UTC)


def documents_of(aggregate: Any, first_position: int = 1) -> list[DecisionHead]:
    events = aggregate.collect_events()
    documents = [decision_of(first_position + n, e, events[0]) for n, e in enumerate(events)]
    assert all(d is not None for d in documents)
    return [d for d in documents if d is not None]


def claim() -> PriceProtection:
    claim_id = PriceProtection.create_id("D02", "SKU-3", DROP)
    return PriceProtection(
        claim_id=claim_id, distributor_id="D02", sku="SKU-3", effective_from=DROP, units=36,
        old_cost=Decimal("8.00"), new_cost=Decimal("7.55"), amount=Decimal("16.20"),
        currency="USD", price_event_id=UUID(int=9, version=4),
    )  # fmt: skip


def reconciliation() -> InventoryReconciliation:
    return InventoryReconciliation(
        distributor_id="D03", sku="SKU-1", counted_at=COUNTED, on_hand=90, expected=100,
        variance=-10, stale=False,
    )  # fmt: skip


def test_a_violation_and_its_steps_carry_the_sale_key_and_the_distributor() -> None:
    violation = detected("D01", "TX-7")
    dispute(violation)
    violation.acknowledge(at=T2, reason="checked again", **ADMIN)
    detected_doc, disputed, acknowledged = documents_of(violation, 41)
    assert [d.decision_type for d in (detected_doc, disputed, acknowledged)] == [
        "violation.detected",
        "violation.disputed",
        "violation.acknowledged",
    ]
    assert {d.distributor_id for d in (detected_doc, disputed, acknowledged)} == {"D01"}
    assert {d.record_id for d in (detected_doc, disputed, acknowledged)} == {violation.id}
    assert [d.position for d in (detected_doc, disputed, acknowledged)] == [41, 42, 43]
    assert [d.record_version for d in (detected_doc, disputed, acknowledged)] == [1, 2, 3]
    body = json.loads(disputed.model_dump_json())
    assert body["transaction_id"] == "TX-7"
    assert (body["actor_id"], body["role"], body["actor_distributor_id"]) == (
        "d01-ops",
        "distributor",
        "D01",
    )
    assert body["at"] == T1.isoformat().replace("+00:00", "Z")
    sale = json.loads(detected_doc.model_dump_json())
    judged = (sale["unit_price"], sale["floor_price"], sale["severity"])
    assert judged == ("12.50", "15.00", "major")
    assert sale["sale_event_id"] == str(UUID(int=7, version=4))


def test_ids_derive_from_the_record_and_version_only() -> None:
    violation = detected()
    acknowledge(violation)
    events = violation.collect_events()
    first = decision_of(5, events[1], events[0])
    again = decision_of(900, events[1], events[0])  # read again, from a later page
    assert first is not None and again is not None
    assert first.decision_id == again.decision_id == decision_id(violation.id, 2)
    assert decision_id(violation.id, 1) != first.decision_id
    other = detected("D01", "TX-2")
    assert decision_id(other.id, 2) != first.decision_id


def test_a_statement_its_adjustment_approval_and_payment() -> None:
    statement = closed_statement()
    inputs, result = period_with("300000.00", [LATE_SALE_ID])
    statement.adjust(event_id=LATE_SALE_ID, reason="late_sale", inputs=inputs, result=result, at=T1)
    statement.approve("finance-bo", T2)
    statement.mark_paid("finance-bo", T2 + timedelta(days=1), "CN-2026-0042")
    calculated, adjusted, approved, paid = documents_of(statement)
    assert all(d.distributor_id == "D1" for d in (calculated, adjusted, approved, paid))
    body = json.loads(adjusted.model_dump_json())
    assert (body["program_id"], body["period"], body["reason"]) == ("VPA-1", "2026-Q3", "late_sale")
    assert body["trigger_event_id"] == LATE_SALE_ID
    assert Decimal(body["amount"]) == statement.total - statement.rebate
    assert json.loads(paid.model_dump_json())["reference"] == "CN-2026-0042"
    assert json.loads(approved.model_dump_json())["total"] == str(statement.total)
    assert calculated.decision_type == "statement.calculated"


def test_a_claim_revised_keeps_its_sku_and_currency() -> None:
    protection = claim()
    protection.revise(units=30, amount=Decimal("13.50"))
    recorded, revised = documents_of(protection)
    body = json.loads(revised.model_dump_json())
    assert (revised.decision_type, body["sku"], body["currency"]) == (
        "claim.revised",
        "SKU-3",
        "USD",
    )
    assert (body["units"], body["amount"]) == (30, "13.50")
    assert json.loads(recorded.model_dump_json())["old_cost"] == "8.00"


def test_every_document_validates_as_a_decision_and_round_trips() -> None:
    violation = detected()
    acknowledge(violation)
    documents = [*documents_of(violation), *documents_of(reconciliation()), *documents_of(claim())]
    for document in documents:
        parsed = Decision.model_validate_json(document.model_dump_json()).root
        assert parsed == document


def test_an_event_with_no_document_is_not_published() -> None:
    assert decision_of(1, object(), object()) is None


def erasure(distributor_id: str | None, key_ids: list[str]) -> SubjectErasure:
    return SubjectErasure(
        subject="id:EC-7", distributor_id=distributor_id, at=T1, actor_id="dpo",
        reason="art. 17 request", key_ids=key_ids,
    )  # fmt: skip


def test_an_erasure_is_a_document_per_distributor_whose_subject_it_concerns() -> None:
    every = erasure(None, ["D01/" + "a" * 32, "D02/" + "b" * 32])
    [created] = every.collect_events()
    assert publishes(created)
    documents = decisions_of(7, created, created)
    assert [(d.distributor_id, d.decision_type) for d in documents] == [
        ("D01", "erasure.recorded"),
        ("D02", "erasure.recorded"),
    ]
    d01, d02 = (json.loads(d.model_dump_json()) for d in documents)
    assert (d01["subject"], d01["key_ids"], d02["key_ids"]) == ("id:EC-7", ["a" * 32], ["b" * 32])
    assert (d01["actor_id"], d01["reason"], d01["record_kind"]) == (
        "dpo",
        "art. 17 request",
        "erasure",
    )
    assert d01["at"] == T1.isoformat().replace("+00:00", "Z")
    ids = {d.decision_id for d in documents}
    assert ids == {decision_id(every.id, 1, "D01"), decision_id(every.id, 1, "D02")}
    assert decisions_of(900, created, created) != documents  # the position differs...
    assert {d.decision_id for d in decisions_of(900, created, created)} == ids  # ...not the ids
    for document in documents:
        assert Decision.model_validate_json(document.model_dump_json()).root == document


def test_an_erasure_naming_a_distributor_is_published_even_when_no_key_was_held() -> None:
    [named] = erasure("D03", []).collect_events()
    [document] = decisions_of(1, named, named)
    assert (document.distributor_id, json.loads(document.model_dump_json())["key_ids"]) == (
        "D03",
        [],
    )
    [nothing] = erasure(None, []).collect_events()  # every distributor, no key anywhere
    assert decisions_of(2, nothing, nothing) == []


def test_every_document_kind_is_mapped_once() -> None:
    mapped = [model for model, _ in DOCUMENTS.values()] + [SubjectErased]
    assert sorted(m.__name__ for m in mapped) == sorted(m.__name__ for m in DECISION_TYPES)
    assert len({decision_type_of(m) for m in DECISION_TYPES}) == len(DECISION_TYPES)


def test_a_stored_record_of_the_wrong_kind_is_refused() -> None:
    violation = detected()
    acknowledge(violation)
    events = violation.collect_events()
    wrong_origin = reconciliation().collect_events()[0]  # no transaction_id
    with pytest.raises(ValueError, match="transaction_id"):
        decision_of(2, events[1], wrong_origin)


def test_the_log_is_read_in_order_page_by_page_through_the_store() -> None:
    audit = open_audit_log("sqlite:///:memory:")
    violation = detected("D01", "TX-9")
    statement = closed_statement()
    audit.save(violation, statement, reconciliation())
    acknowledge(violation)
    statement.approve("finance-bo", T2)
    audit.save(violation, statement)
    source = DecisionSource(audit)
    first = source.page(0, limit=3)
    rest = source.page(first.last, limit=3)
    assert (first.last, rest.last, rest.end) == (3, 5, 5)
    documents = first.documents + rest.documents
    assert [d.position for d in documents] == [1, 2, 3, 4, 5]
    assert [d.decision_type for d in rest.documents] == [
        "violation.acknowledged",
        "statement.approved",
    ]
    assert rest.documents[0].distributor_id == "D01"  # from the record's stored creation
    assert source.page(rest.last).documents == []
    assert len({d.decision_id for d in documents}) == 5
    assert RebateStatement.create_id("VPA-1", "D1", "2026-Q3") in {d.record_id for d in documents}


def test_a_stored_event_that_cannot_be_read_stops_the_log_right_before_it() -> None:
    audit = open_audit_log("sqlite:///:memory:")
    violation = detected("D01", "TX-9")
    audit.save(violation)
    unreadable = StoredEvent(uuid4(), 1, "channelflow.nowhere:Missing", b"{}")
    audit.recorder.insert_events([unreadable])
    acknowledge(violation)
    audit.save(violation)
    source = DecisionSource(audit)
    page = source.page(0)
    assert (page.last, page.end) == (1, 3)  # published up to the unreadable one
    assert [d.position for d in page.documents] == [1]
    with pytest.raises(TopicError):  # and no further: a decision is never skipped
        source.page(page.last)
