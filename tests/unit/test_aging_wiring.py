"""Inventory aging fed by the movement writes of the channel projection: the hand-computed
FIFO case of docs/AGREEMENTS.md through `apply_message`, in either order of arrival, with
bundles, redeliveries, a replaced report's reversal and a count above the receipts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import orjson

from projections.aging_reads import aging_page
from projections.channel import apply_event, apply_message
from projections.positions import message_position
from projections.stores import ChannelStores
from schemas.codec import event_to_dict
from schemas.events import Envelope, ReportSubmitted
from tests.unit.catalog import catalog_stores
from tests.unit.channel_cases import count, sale, shipment
from tests.unit.price_events import price

MAY_15 = datetime(2026, 5, 15, 12, tzinfo=UTC)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def receipt(n: int, units: int, day: date) -> Any:
    at = noon(day)
    return shipment(n, f"SH{n}", units, sku="X", occurred_at=at, shipped_at=at, recorded_at=at)


def sold(n: int, units: int, day: date, **changes: Any) -> Any:
    at = noon(day)
    fields = {"sku": "X", "occurred_at": at, "sold_at": at, "recorded_at": at, **changes}
    return sale(n, f"T{n}", units, **fields)


def priced_stores() -> ChannelStores:
    stores = catalog_stores("X")
    listed = price(1, "12.50", "20.00", datetime(2026, 1, 1, tzinfo=UTC), sku="X")
    apply_event(stores, listed, None)
    return stores


def send(stores: ChannelStores, offset: int, *events: Envelope) -> None:
    """One message (a bundle when several events) at `offset` of the sales topic."""
    values = [event_to_dict(e) for e in events]
    raw = orjson.dumps(values if len(values) > 1 else values[0])
    apply_message(stores, raw, "D01", message_position("sales:0", offset))


def row(stores: ChannelStores, now: datetime = MAY_15) -> dict[str, Any]:
    (found,), total = aging_page(stores, now, "D01", "X", 0, 10)
    assert total == 1
    return found


def test_fifo_holds_the_newest_units_whatever_the_order_of_arrival() -> None:
    events = [
        receipt(1, 100, date(2026, 3, 1)),
        receipt(2, 50, date(2026, 4, 10)),
        sold(3, 120, date(2026, 4, 20)),
    ]
    rows = []
    for order in (events, list(reversed(events))):
        stores = priced_stores()
        for offset, event in enumerate(order):
            send(stores, offset, event)
        rows.append(row(stores))
    assert rows[0] == rows[1]
    assert rows[0]["units"] == {"0-30": 0, "31-60": 30, "61-90": 0, ">90": 0}  # April 10: 35 d
    assert rows[0]["values"]["31-60"] == "375.00"  # 30 × 12.50
    assert (rows[0]["on_hand"], rows[0]["value"], rows[0]["currency"]) == (30, "375.00", "USD")
    assert rows[0]["oldest_receipt"] == "2026-04-10"


def test_a_lot_crosses_its_bands_as_now_moves_on() -> None:
    stores = priced_stores()
    send(stores, 0, receipt(1, 100, date(2026, 3, 1)))
    bands = {
        day: next(band for band, units in row(stores, noon(day))["units"].items() if units)
        for day in (date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 30), date(2026, 5, 1),
                    date(2026, 5, 30), date(2026, 5, 31))
    }  # fmt: skip
    assert list(bands.values()) == ["0-30", "31-60", "31-60", "61-90", "61-90", ">90"]


def test_a_bundle_of_lines_of_one_sku_ages_each_line_and_a_redelivery_none() -> None:
    stores = priced_stores()
    first, second = receipt(1, 10, date(2026, 4, 1)), receipt(2, 5, date(2026, 5, 1))
    send(stores, 0, first, second)
    send(stores, 0, first, second)  # delivered again after a crash: the same position
    assert row(stores)["units"] == {"0-30": 5, "31-60": 10, "61-90": 0, ">90": 0}


def test_a_replaced_reports_reversed_sale_goes_back_into_stock_on_its_day() -> None:
    stores = priced_stores()
    send(stores, 0, receipt(1, 40, date(2026, 2, 1)))
    report = ReportSubmitted(
        event_id=sale(90).event_id, occurred_at=MAY_15, recorded_at=MAY_15, source="csv",
        distributor_id="D01", report_id="R1", period_start=date(2026, 4, 27),
        period_end=date(2026, 5, 3), line_count=1, submitted_at=MAY_15,
    )  # fmt: skip
    send(stores, 1, report, sold(2, 30, date(2026, 5, 1), report_id="R1"))
    assert row(stores)["units"][">90"] == 10
    replacement = report.model_copy(
        update={"event_id": sale(91).event_id, "report_id": "R2", "line_count": 0,
                "replaces_report_id": "R1"}
    )  # fmt: skip
    send(stores, 2, replacement)
    aged = row(stores)
    assert aged["on_hand"] == 40
    # the 30 sold units come back on May 1 (FIFO: they are the newest now), 10 from Feb 1
    assert aged["units"] == {"0-30": 30, "31-60": 0, "61-90": 0, ">90": 10}


def test_a_count_above_the_receipts_holds_units_of_unknown_age() -> None:
    stores = priced_stores()
    send(stores, 0, receipt(1, 10, date(2026, 5, 1)))
    send(stores, 1, count(2, 14, noon(date(2026, 5, 10)), sku="X"))
    aged = row(stores)
    assert (aged["on_hand"], aged["unknown_age"], aged["units"]["0-30"]) == (14, 4, 10)
    assert aged["value"] == "125.00"  # the aged units only: 10 × 12.50


def test_no_price_no_value_and_a_distributor_reads_only_its_own() -> None:
    stores = catalog_stores("X")
    send(stores, 0, receipt(1, 10, date(2026, 5, 1)))
    aged = row(stores)
    assert (aged["value"], aged["currency"], aged["values"]["0-30"]) == (None, None, None)
    assert aging_page(stores, MAY_15, "D02", None, 0, 10) == ([], 0)
    assert aging_page(stores, None, None, None, 0, 10) == ([], 0)
