"""Time you can trust: "now" is recorded time, implausible business dates are refused at
the worker's door too, and a closed statement holds what was recorded before its close."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from projections.channel import apply_message
from projections.clock import recorded_now
from projections.positions import message_position
from projections.snapshot import build_snapshot, now_of
from schemas.codec import encode_event
from schemas.events import ProductDefined, RebatePeriodClosed, SaleReported
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import Input
from tests.unit.api.test_rebates_embedded import program

SOLD = datetime(2026, 8, 10, 12, tzinfo=UTC)
NOW = datetime(2026, 12, 5, 9, tzinfo=UTC)


def sale(
    txn: str, sold_at: datetime, quantity: int = 10, recorded: datetime | None = None
) -> SaleReported:
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=sold_at, recorded_at=recorded, source="kafka",
        distributor_id="D01", transaction_id=txn, reseller_id="R1", sku="SKU-1",
        quantity=quantity, unit_price=Decimal("100.00"), currency="USD", sold_at=sold_at,
    )  # fmt: skip


def product() -> ProductDefined:
    return ProductDefined(
        event_id=uuid.uuid4(), occurred_at=SOLD, source="erp", sku="SKU-1", base_unit="EA"
    )


def as_broker(events: Sequence[object], at: datetime, first_offset: int = 0) -> list[Input]:
    """The events as a worker reads them: the broker's append time as recorded_at."""
    return [
        Input(encode_event(e), None, "t.sales", 0, first_offset + n, at)  # type: ignore[arg-type]
        for n, e in enumerate(events)
    ]


def test_a_producer_cannot_set_the_recorded_time_nor_move_now_with_a_far_date() -> None:
    channel = EmbeddedChannel()
    channel.apply(as_broker([product()], NOW - timedelta(hours=1)))
    forged = sale("T1", SOLD, recorded=datetime(2090, 1, 1, tzinfo=UTC))
    result = channel.apply(
        as_broker([forged, sale("T2", datetime(2062, 8, 18, tzinfo=UTC))], NOW, 1)
    )
    assert now_of(channel.stores) == NOW  # the broker's time, not the producer's 2090
    (letter,) = result.dead_letters
    assert letter.reason == "future_date" and letter.detail.startswith("sold_at: 2062-08-18")
    far = channel.apply(as_broker([sale("T3", datetime(9999, 12, 31, tzinfo=UTC))], NOW, 3))
    assert [d.reason for d in far.dead_letters] == ["date_out_of_range"]
    snapshot = build_snapshot(channel.stores)  # every view still answers
    assert snapshot["quality"][0]["rejected_by_reason"] == {
        "date_out_of_range": 1,
        "future_date": 1,
    }
    assert recorded_now(channel.stores.clock) == NOW


def test_a_date_a_day_ahead_of_its_recording_is_tolerated_further_is_not() -> None:
    stores = EmbeddedChannel().stores
    apply_message(stores, encode_event(product()), None, None)
    ahead = sale("T1", NOW + timedelta(hours=23))
    later = sale("T2", NOW + timedelta(hours=25))
    first, second = message_position("t.sales:0", 0), message_position("t.sales:0", 1)
    (applied,) = apply_message(stores, encode_event(ahead), None, first, None, NOW)
    (refused,) = apply_message(stores, encode_event(later), None, second, None, NOW)
    assert applied.dead_letter_reason is None
    assert refused.dead_letter_reason == "future_date"


def test_a_statement_holds_what_was_recorded_before_the_close_was_recorded() -> None:
    """History loaded before a period's close is in its statement, whatever its close's
    nominal date; what is recorded after the close is an adjustment, even during the
    period (a close may come early)."""
    channel = EmbeddedChannel(rebate_grace_days=10_000)
    loaded = NOW - timedelta(days=2)  # a backfill, recorded long after the quarter ended
    channel.feed(as_broker([product(), program("retroactive")], loaded - timedelta(hours=1)))
    channel.feed(as_broker([sale("T1", SOLD, 2000), sale("T2", SOLD, 625)], loaded, 2))
    nominal = datetime(2026, 10, 15, tzinfo=UTC)  # before the backfill was recorded
    close = RebatePeriodClosed(
        event_id=uuid.uuid4(), occurred_at=nominal, source="erp", program_id="VPA-retroactive",
        period="2026-Q3", closed_at=nominal, closed_by="auto",
    )  # fmt: skip
    channel.feed(as_broker([close], NOW, 4))
    statement = channel.audit.rebate_statement("VPA-retroactive", "D01", "2026-Q3")
    assert (statement.event_count, statement.rebate) == (2, Decimal("9187.50"))
    assert statement.calculated_at == nominal

    channel.feed(as_broker([sale("T3", SOLD, -150)], NOW + timedelta(minutes=5), 5))
    statement = channel.audit.rebate_statement("VPA-retroactive", "D01", "2026-Q3")
    assert [(a.reason, a.amount) for a in statement.adjustments] == [
        ("late_return", Decimal("-4237.50"))
    ]
