"""X12 867 → SaleReported / ReportSubmitted: the samples (weekly, replacement, line errors,
quantity sold) and what they give."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

from schemas.events import ReportSubmitted, SaleReported
from streams.ingest.parsers import edi867, edi867_report
from streams.ingest.parsers.edi867 import (
    REASONS,
    IgnoredQuantity,
    parse_867,
)
from tests.unit.parsers.conftest import RECEIVED_AT, SAMPLES
from tests.unit.parsers.edi867_cases import (
    HEADER,
    LINE,
    LOOP,
    parse,
    sample,
)

# --- the weekly sample: sales, a return, two ship-tos ------------------------------


#: the weekly sample's sales: (transaction, reseller, end customer, SKU, quantity, unit, unit
#: price, sold at)
WEEKLY_SALES = [
    (
        "INV1001-1",
        "RES-100",
        None,
        "WIDGET-100",  # VP preferred over the UP on the same LIN
        10,
        "EA",
        Decimal("12.50"),
        datetime(2026, 3, 31, tzinfo=UTC),
    ),
    (
        "INV1001-2",
        "RES-100",
        None,
        "GADGET-200",
        2,
        "CA",
        Decimal("140.00"),
        datetime(2026, 3, 31, tzinfo=UTC),
    ),
    # UPC only; unit from UIT01; 14:30 Eastern (daylight time) = 18:30 UTC
    (
        "INV1002-1",
        "RES-200",
        "EC-0042",
        "012345678905",
        5,
        "EA",
        Decimal("12.75"),
        datetime(2026, 4, 2, 18, 30, tzinfo=UTC),
    ),
    # drop ship, BP and VP: VP wins; price from CTP*RES; shipped date DTM*011
    (
        "INV1003-1",
        "RES-200",
        None,
        "WIDGET-100",
        20,
        "EA",
        Decimal("11.90"),
        datetime(2026, 4, 3, tzinfo=UTC),
    ),
    # PTD*BN return: negative quantity
    (
        "CM5001-1",
        "RES-100",
        None,
        "WIDGET-100",
        -3,
        "EA",
        Decimal("12.50"),
        datetime(2026, 4, 4, tzinfo=UTC),
    ),
]


def sale_row(s: SaleReported) -> tuple[object, ...]:
    return (
        s.transaction_id,
        s.reseller_id,
        s.end_customer,
        s.sku,
        s.quantity,
        s.unit,
        s.unit_price,
        s.sold_at,
    )


def test_weekly_sample_gives_one_sale_per_line() -> None:
    report = sample("867_weekly.edi")
    assert report.accepted and report.line_errors == [] and report.line_count == 5
    header = report.header
    assert header.purpose == "original" and header.report_number == "RPT-2026-W14"
    assert header.report_date == date(2026, 4, 6)
    assert (header.period_start, header.period_end) == (date(2026, 3, 30), date(2026, 4, 5))
    assert header.distributor_id == "DIST-001" and header.currency == "USD"
    assert [sale_row(s) for s in report.sales] == WEEKLY_SALES
    for sale in report.sales:
        assert isinstance(sale, SaleReported)
        assert sale.source == "edi867"
        assert sale.distributor_id == "DIST-001"
        assert sale.report_id == "RPT-2026-W14"
        assert sale.currency == "USD"
        assert sale.occurred_at == sale.sold_at
        assert sale.recorded_at == RECEIVED_AT
    submitted = report.submitted
    assert isinstance(submitted, ReportSubmitted)
    assert submitted.report_id == "RPT-2026-W14" and submitted.distributor_id == "DIST-001"
    assert submitted.period_start == date(2026, 3, 30)
    assert submitted.period_end == date(2026, 4, 5)
    assert submitted.line_count == 5
    assert submitted.submitted_at == RECEIVED_AT and submitted.replaces_report_id is None


def test_reupload_gives_the_same_event_ids_and_a_change_gives_new_ones() -> None:
    first, again = sample("867_weekly.edi"), sample("867_weekly.edi")
    assert [s.event_id for s in first.sales] == [s.event_id for s in again.sales]
    assert first.submitted is not None and again.submitted is not None
    assert first.submitted.event_id == again.submitted.event_id
    assert len({s.event_id for s in first.sales}) == 5
    later = parse_867(
        (SAMPLES / "867_weekly.edi").open("rb"), received_at=datetime(2026, 5, 1, tzinfo=UTC)
    )
    assert [s.event_id for s in later.sales] == [s.event_id for s in first.sales]
    data = (SAMPLES / "867_weekly.edi").read_bytes().replace(b"UIT*EA*12.75", b"UIT*EA*12.70")
    changed = parse_867(io.BytesIO(data), received_at=RECEIVED_AT)
    differing = [
        (a.transaction_id, a.event_id != b.event_id)
        for a, b in zip(first.sales, changed.sales, strict=True)
    ]
    assert differing == [
        ("INV1001-1", False),
        ("INV1001-2", False),
        ("INV1002-1", True),
        ("INV1003-1", False),
        ("CM5001-1", False),
    ]


def test_replace_report_names_the_report_it_replaces() -> None:
    report = sample("867_replace.edi")
    assert report.accepted and report.line_errors == []
    assert report.header.purpose == "replace"
    assert report.header.replaces == "RPT-2026-W14"
    assert report.submitted is not None
    assert report.submitted.replaces_report_id == "RPT-2026-W14"
    assert report.submitted.report_id == "RPT-2026-W14-R1"
    # QTY-loop layout (QTY before LIN, line-level DTM), invoice from PTD04/PTD05
    assert [(s.transaction_id, s.sku, s.quantity, s.unit_price) for s in report.sales] == [
        ("INV1001-1", "WIDGET-100", 10, Decimal("12.40")),
        ("INV1001-2", "GADGET-200", 2, Decimal("140.00")),
        ("CM5002-1", "WIDGET-100", -1, Decimal("12.75")),  # PTD*RU: a return
    ]
    assert all(s.report_id == "RPT-2026-W14-R1" for s in report.sales)


def test_line_errors_sample_keeps_the_good_lines() -> None:
    report = sample("867_line_errors.edi")
    assert report.accepted
    assert [s.transaction_id for s in report.sales] == ["INV2001-1"]
    found = [(e.line, e.reason, e.element, e.original_segment_text) for e in report.line_errors]
    assert found == [
        (2, "bad_quantity", "QTY02", "QTY*39*TEN*EA~"),
        (3, "missing_price", None, "LIN*3*VP*GADGET-200~"),
        (4, "bad_date", "DTM02", "DTM*003*20261341~"),
        (5, "unsupported_ptd_type", "PTD01", "PTD*RV~"),
        (6, "bad_quantity", "QTY02", "QTY*39*2.5*EA~"),
        (7, "bad_unit", "QTY03", "QTY*39*1*CASE~"),
        (8, "bad_price", "UIT02", "UIT*EA*12.4999999~"),
    ]
    assert "'TEN' is not a number" in report.line_errors[0].message
    assert "return to vendor" in report.line_errors[3].message
    assert report.line_errors[3].segment_index == 24
    assert report.line_count == 8
    assert report.submitted is not None and report.submitted.line_count == 8
    assert {e.reason for e in report.line_errors} <= set(REASONS)


# --- the quantity sold: QTY*32 as well as QTY*39 ------------------------------------


def test_quantity_sold_sample_reads_qty32_and_ignores_other_quantities() -> None:
    report = sample("867_qty32.edi")
    assert report.accepted and report.line_errors == [] and report.line_count == 3
    assert [(s.transaction_id, s.sku, s.quantity, s.unit) for s in report.sales] == [
        ("INV2001-1", "WIDGET-100", 4, "EA"),  # QTY*32, and QTY*17 (on hand) ignored
        ("INV2001-2", "GADGET-200", 1, "CA"),  # QTY*39 and QTY*32 agree
        ("CM2001-1", "WIDGET-100", -2, "EA"),  # a return, QTY*32 before its LIN
    ]
    assert report.ignored == [IgnoredQuantity(14, 1, "17", "quantity on hand", "120")]
    assert report.ignored_count == 1


def test_a_second_qty32_starts_the_next_line_and_a_unit_left_out_agrees() -> None:
    body = ["QTY*32*1", "LIN*1*VP*A", "UIT*EA*1", "QTY*32*2", "QTY*39*2*EA", "LIN*2*VP*B"]
    report = parse([*HEADER, *LOOP, *body, "UIT*EA*1"])
    assert [(s.sku, s.quantity, s.unit) for s in report.sales] == [("A", 1, "EA"), ("B", 2, "EA")]


def test_ignored_quantities_are_all_counted_and_the_first_kept(monkeypatch) -> None:
    monkeypatch.setattr(edi867_report, "MAX_IGNORED_KEPT", 1)
    lines = [*LINE, "QTY*33*7", "LIN*2*VP*B", "QTY*39*1", "QTY*99*3", "UIT*EA*2"]
    report = parse([*HEADER, *LOOP, *lines])
    assert len(report.sales) == 2 and report.ignored_count == 2
    assert report.ignored == [IgnoredQuantity(15, 1, "33", edi867.QTY_IGNORED["33"], "7")]
