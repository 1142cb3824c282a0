"""The gateway's read-only precheck answers as the worker will judge, and changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from domain.business_time import DATE_OUT_OF_RANGE, FUTURE_DATE, TimeRules
from projections.channel import apply_event
from projections.dedup import SeenEntry
from projections.ingest_check import Answer, Catalog, Earlier, precheck
from projections.stores import ChannelStores
from schemas.events import SaleReported
from tests.unit.catalog import catalog_stores, product

AT = datetime(2026, 4, 7, 10, tzinfo=UTC)
RECEIVED = datetime(2026, 4, 8, 9, tzinfo=UTC)


def sale(transaction: str = "T1", **fields: Any) -> SaleReported:
    values: dict[str, Any] = {
        "event_id": uuid.uuid4(),
        "occurred_at": AT,
        "source": "api",
        "distributor_id": "D1",
        "transaction_id": transaction,
        "reseller_id": "R1",
        "sku": "SKU-1",
        "quantity": 2,
        "unit_price": Decimal("10.00"),
        "currency": "USD",
        "sold_at": AT,
        **fields,
    }
    return SaleReported.model_validate(values)


def check(
    stores: ChannelStores,
    event: SaleReported,
    earlier: dict[str, Earlier] | None = None,
    replaces: str | None = None,
) -> Any:
    return precheck(
        event,
        catalog=Catalog(stores.products, stores.aliases),
        seen=stores.seen.get,
        earlier=(earlier or {}).get,
        recorded_at=RECEIVED,
        rules=TimeRules(),
        replaces=replaces,
    )


def test_answers_agree_with_the_worker_verdicts() -> None:
    stores = catalog_stores("SKU-1")
    first = sale()
    assert check(stores, first).answer is Answer.ACCEPTED
    apply_event(stores, first, None)
    resend = first.model_copy(update={"event_id": uuid.uuid4(), "source": "csv"})
    changed = sale(quantity=3)
    assert check(stores, first).answer is Answer.DUPLICATE  # the same event again
    assert check(stores, resend).answer is Answer.DUPLICATE
    answer = check(stores, changed)
    assert (answer.answer, answer.reason) == (Answer.CONFLICT, "conflicting_duplicate")
    # the worker agrees
    assert apply_event(stores, resend, None).verdict.value == "duplicate"  # type: ignore[union-attr]
    assert apply_event(stores, changed, None).verdict.value == "conflict"  # type: ignore[union-attr]


def test_precheck_changes_no_store() -> None:
    stores = catalog_stores("SKU-1")
    before = dict(stores.seen.data)  # type: ignore[attr-defined]
    check(stores, sale())
    assert stores.seen.data == before  # type: ignore[attr-defined]
    assert stores.quality.data == {}  # type: ignore[attr-defined]


def test_catalog_rejections_name_the_reason() -> None:
    stores = ChannelStores()
    apply_event(stores, product("SKU-1", unit_conversions={"CA": 12}), None)
    unknown = check(stores, sale(sku="NOPE"))
    assert (unknown.answer, unknown.reason) == (Answer.REJECTED, "unknown_sku")
    assert "NOPE" in unknown.detail
    unit = check(stores, sale(unit="PL"))
    assert (unit.answer, unit.reason) == (Answer.REJECTED, "unknown_unit")
    assert check(stores, sale(unit="CA")).answer is Answer.ACCEPTED


def test_an_identifier_and_a_unit_normalize_before_the_key_is_judged() -> None:
    stores = ChannelStores()
    defined = product("SKU-1", unit_conversions={"CA": 12}, identifiers={"upc": "012345678905"})
    apply_event(stores, defined, None)
    apply_event(stores, sale(quantity=12), None)
    # the same line written with the UPC and in cases is the same content
    same = check(
        stores, sale(sku="012345678905", quantity=1, unit="CA", unit_price=Decimal("120.00"))
    )
    assert same.answer is Answer.DUPLICATE


def test_earlier_lines_of_the_same_request() -> None:
    stores = catalog_stores("SKU-1")
    first = check(stores, sale())
    assert first.answer is Answer.ACCEPTED and first.keyed is not None
    key, sent = first.keyed
    earlier = {key: sent}
    assert check(stores, sale(), earlier).answer is Answer.DUPLICATE
    assert check(stores, sale(quantity=9), earlier).answer is Answer.CONFLICT


def test_a_key_held_by_the_replaced_report_is_free_for_the_replacement() -> None:
    stores = catalog_stores("SKU-1")
    key = "sale|D1|T1"
    stores.seen.put(key, SeenEntry("e-1", "fp-old", report_id="R-14"))
    corrected = sale(report_id="R-14-B", quantity=5)
    assert check(stores, corrected).answer is Answer.CONFLICT
    assert check(stores, corrected, replaces="R-14").answer is Answer.ACCEPTED
    # a key held by another report stays held
    assert check(stores, corrected, replaces="R-13").answer is Answer.CONFLICT


def test_without_a_catalog_movements_are_not_checked_against_one() -> None:
    answer = precheck(
        sale(sku="ANYTHING"),
        catalog=None,
        seen=lambda _: None,
        earlier=lambda _: None,
        recorded_at=RECEIVED,
        rules=TimeRules(),
    )
    assert answer.answer is Answer.ACCEPTED


def test_implausible_dates_are_rejected_first_and_not_to_be_published() -> None:
    stores = catalog_stores("SKU-1")
    future = sale("T9", sku="UNKNOWN", sold_at=datetime(2062, 8, 18, tzinfo=UTC))
    answer = check(stores, future)
    assert (answer.answer, answer.reason, answer.field) == (Answer.REJECTED, FUTURE_DATE, "sold_at")
    assert answer.publishable is False and answer.keyed is None
    assert answer.detail is not None and answer.detail.startswith("sold_at: 2062-08-18T00:00:00Z")
    ancient = check(stores, sale(occurred_at=datetime(1999, 12, 31, tzinfo=UTC)))
    assert (ancient.reason, ancient.field) == (DATE_OUT_OF_RANGE, "occurred_at")
    plausible = check(stores, sale())
    assert plausible.answer is Answer.ACCEPTED and plausible.publishable
