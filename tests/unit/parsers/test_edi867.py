"""X12 867 → SaleReported / ReportSubmitted, line errors and report errors."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from schemas.events import ReportSubmitted, SaleReported
from streams.ingest.parsers import edi867, edi867_report
from streams.ingest.parsers.common import LineError
from streams.ingest.parsers.edi867 import (
    REASONS,
    IgnoredQuantity,
    ParsedReport,
    parse_867,
    parse_867_all,
)
from streams.ingest.parsers.x12 import X12Error
from tests.unit.parsers.conftest import RECEIVED_AT, SAMPLES
from tests.unit.parsers.edi_builder import interchange

HEADER = [
    "BPT*00*RPT-1*20260406*DD",
    "DTM*090*20260330",
    "DTM*091*20260405",
    "N1*DS*ACME DISTRIBUTION*91*DIST-001",
]
LOOP = ["PTD*SS", "N1*ST*BRIGHT*91*RES-100", "REF*IV*INV1", "DTM*003*20260331"]
LINE = ["LIN*1*VP*WIDGET-100", "QTY*39*10*EA", "UIT*EA*12.50"]


def parse(body: list[str], distributor_id: str | None = None) -> ParsedReport:
    data = interchange(body)
    return parse_867(io.BytesIO(data), received_at=RECEIVED_AT, distributor_id=distributor_id)


def sample(name: str) -> ParsedReport:
    with (SAMPLES / name).open("rb") as stream:
        return parse_867(stream, received_at=RECEIVED_AT)


def only_error(report: ParsedReport) -> LineError:
    assert report.sales == []
    assert len(report.line_errors) == 1, report.line_errors
    return report.line_errors[0]


def only_report_error(report: ParsedReport) -> LineError:
    assert len(report.report_errors) == 1, report.report_errors
    return report.report_errors[0]


# --- the weekly sample: sales, a return, two ship-tos ------------------------------


def test_weekly_sample_gives_one_sale_per_line() -> None:
    report = sample("867_weekly.edi")
    assert report.accepted and report.line_errors == [] and report.line_count == 5
    header = report.header
    assert header.purpose == "original" and header.report_number == "RPT-2026-W14"
    assert header.report_date == date(2026, 4, 6)
    assert (header.period_start, header.period_end) == (date(2026, 3, 30), date(2026, 4, 5))
    assert header.distributor_id == "DIST-001" and header.currency == "USD"
    rows = [
        (
            s.transaction_id,
            s.reseller_id,
            s.end_customer,
            s.sku,
            s.quantity,
            s.unit,
            s.unit_price,
            s.sold_at,
        )
        for s in report.sales
    ]
    assert rows == [
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


# --- line errors, one kind at a time ----------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason", "element", "words"),
    [
        (["LIN*1*VP*W", "QTY*39*abc*EA", "UIT*EA*1"], "bad_quantity", "QTY02", "not a number"),
        (["LIN*1*VP*W", "QTY*39*1,000*EA", "UIT*EA*1"], "bad_quantity", "QTY02", "thousands"),
        (["LIN*1*VP*W", "QTY*39*1.5*EA", "UIT*EA*1"], "bad_quantity", "QTY02", "whole number"),
        (["LIN*1*VP*W", "QTY*39**EA", "UIT*EA*1"], "bad_quantity", "QTY02", "empty"),
        (["LIN*1*VP*W", "QTY*39*1" + "0" * 13, "UIT*EA*1"], "bad_quantity", "QTY02", "range"),
        (["LIN*1*VP*W", "QTY*39*1*E", "UIT*E*1"], "bad_unit", "QTY03", "unit code"),
        (["LIN*1*VP*W", "QTY*39*1*CA>2>12", "UIT*CA*1"], "bad_unit", "QTY03", "multiplier"),
        (["LIN*1*VP*W", "QTY*39*1*CA", "UIT*EA*1"], "unit_mismatch", "QTY03", "per EA"),
        (["LIN*1*VP*W", "QTY*39*1*EA"], "missing_price", None, "no unit price"),
        (["LIN*1*VP*W", "QTY*39*1*EA", "UIT*EA"], "missing_price", "UIT02", "no unit price"),
        (["LIN*1*VP*W", "QTY*39*1*EA", "UIT*EA*-1"], "bad_price", "UIT02", "negative"),
        (["LIN*1*VP*W", "QTY*39*1*EA", "UIT*EA*1.2.3"], "bad_price", "UIT02", "not a number"),
        (["LIN*1*VP*W", "QTY*39*1*EA", "CTP**RES*x"], "bad_price", "CTP03", "not a number"),
        (["LIN*1*SN*123", "QTY*39*1*EA", "UIT*EA*1"], "missing_item", None, "found: SN"),
        (["QTY*39*1*EA", "UIT*EA*1"], "missing_item", None, "no LIN"),
        (["LIN*1*VP*W", "QTY*17*1*EA", "UIT*EA*1"], "missing_quantity", None, "QTY*17"),
        (
            ["LIN*1*VP*W", "QTY*39*2*EA", "QTY*32*3*EA", "UIT*EA*1"],
            "conflicting_quantity",
            "QTY02",
            "QTY*32 says 3 EA but QTY*39 says 2 EA",
        ),
        (
            ["LIN*1*VP*W", "QTY*32*2*CA", "QTY*39*2*EA", "UIT*EA*1"],
            "conflicting_quantity",
            "QTY02",
            "QTY*32 says 2 CA but QTY*39 says 2 EA",
        ),
        (
            ["LIN*1*VP*W", "QTY*39*1*EA", "UIT*EA*1", "DTM*003*2026041"],
            "bad_date",
            "DTM02",
            "CCYYMMDD",
        ),
        (
            ["LIN*1*VP*W", "QTY*39*1*EA", "UIT*EA*1", "DTM*003*20260230"],
            "bad_date",
            "DTM02",
            "calendar",
        ),
        (
            ["LIN*1*VP*W", "QTY*39*1*EA", "UIT*EA*1", "DTM*003*20260401*2561"],
            "bad_date",
            "DTM03",
            "time of day",
        ),
        (
            ["LIN*1*VP*W", "QTY*39*1*EA", "UIT*EA*1", "DTM*003*20260401*1200*XX"],
            "bad_date",
            "DTM04",
            "time code 'XX'",
        ),
        (["LIN*1*VP*W|X", "QTY*39*1*EA", "UIT*EA*1"], "invalid_field", "LIN03", "'|'"),
        (["LIN*1*VP*W\u200bX", "QTY*39*1*EA", "UIT*EA*1"], "invalid_field", "LIN03", "U+200B"),
        (["LIN*1*VP*W\tX", "QTY*39*1*EA", "UIT*EA*1"], "invalid_field", "LIN03", "U+0009"),
    ],
)
def test_each_bad_line_gives_its_specific_error(
    line: list[str], reason: str, element: str | None, words: str
) -> None:
    good = ["LIN*9*VP*GOOD", "QTY*39*1*EA", "UIT*EA*1"]
    report = parse([*HEADER, *LOOP, *good, *line])
    assert [s.sku for s in report.sales] == ["GOOD"]
    assert len(report.line_errors) == 1
    error = report.line_errors[0]
    assert (error.reason, error.element, error.line) == (reason, element, 2)
    assert words in error.message
    assert error.original_segment_text.endswith("~")
    assert error.reason in REASONS


def test_several_problems_on_one_line_are_reported_together() -> None:
    report = parse([*HEADER, *LOOP, "LIN*1*VP*W", "QTY*39*x*EA", "UIT*EA*-2"])
    error = only_error(report)
    assert error.reason == "bad_quantity"
    assert "also: UIT02" in error.message and "negative" in error.message


def test_unknown_ptd_type_rejects_every_line_of_its_loop_by_segment() -> None:
    report = parse([*HEADER, "PTD*ZZ", *LOOP[1:], *LINE, "LIN*2*VP*B", "QTY*39*1", "UIT*EA*2"])
    assert report.sales == []
    assert [(e.reason, e.segment_index, e.line) for e in report.line_errors] == [
        ("unsupported_ptd_type", 8, 1),
        ("unsupported_ptd_type", 8, 2),
    ]
    assert "PTD01 'ZZ'" in report.line_errors[0].message


def test_lines_before_any_ptd_are_orphans() -> None:
    report = parse([*HEADER, *LINE, *LOOP, *LINE])
    assert len(report.sales) == 1
    error = only_error(parse([*HEADER, *LINE]))
    assert error.reason == "orphan_line"
    assert report.line_errors[0].reason == "orphan_line"


def test_missing_sale_date_and_reseller() -> None:
    report = parse([*HEADER, "PTD*SS", "REF*IV*INV1", *LINE])
    error = only_error(report)
    assert error.reason == "missing_sale_date"
    assert "missing_reseller" not in error.message
    assert "no N1*ST" in error.message  # reported as an additional problem
    report = parse([*HEADER, "PTD*SS", "N1*ST*NO ID", "DTM*003*20260401", *LINE])
    assert only_error(report).reason == "missing_reseller"
    assert only_error(report).element == "N104"


def test_line_level_values_override_the_loop() -> None:
    report = parse(
        [
            *HEADER,
            *LOOP,
            *LINE,
            "LIN*2*VP*B",
            "QTY*39*1*EA",
            "UIT*EA*2",
            "DTM*003*20260401*0930*PD",
            "REF*IV*INV9",
            "N1*ST*OTHER*91*RES-9",
            "N1*UC*HOSPITAL",
        ]
    )
    assert [(s.transaction_id, s.reseller_id, s.end_customer, s.sold_at) for s in report.sales] == [
        ("INV1-1", "RES-100", None, datetime(2026, 3, 31, tzinfo=UTC)),
        ("INV9-2", "RES-9", "HOSPITAL", datetime(2026, 4, 1, 16, 30, tzinfo=UTC)),
    ]


def test_transaction_id_without_invoice_or_lin01() -> None:
    report = parse(
        [
            *HEADER,
            "PTD*SS",
            "N1*ST*A*91*R",
            "DTM*003*20260401",
            *LINE,
            "LIN**VP*B",
            "QTY*39*1",
            "UIT*EA*2",
        ]
    )
    assert [s.transaction_id for s in report.sales] == ["RPT-1-1", "RPT-1-2"]


def test_same_transaction_id_twice_is_a_duplicate_line() -> None:
    report = parse([*HEADER, *LOOP, *LINE, *LINE])
    assert len(report.sales) == 1 and len(report.line_errors) == 1
    error = report.line_errors[0]
    assert error.reason == "duplicate_line" and error.line == 2
    assert "already used by line 1" in error.message


def test_a_sale_with_negative_quantity_keeps_its_sign_and_returns_are_negative() -> None:
    report = parse(
        [
            *HEADER,
            *LOOP,
            "LIN*1*VP*A",
            "QTY*39*-2*EA",
            "UIT*EA*1",
            "PTD*BN",
            *LOOP[1:],
            "LIN*2*VP*A",
            "QTY*39*-4*EA",
            "UIT*EA*1",
        ]
    )
    assert [s.quantity for s in report.sales] == [-2, -4]


# --- report-level errors -------------------------------------------------------------


def test_replace_without_bpt09_is_a_report_error() -> None:
    report = parse(["BPT*05*RPT-2*20260408*DD", *HEADER[1:], *LOOP, *LINE])
    error = only_report_error(report)
    assert (error.reason, error.element, error.segment_index) == (
        "missing_replaced_report",
        "BPT09",
        4,
    )
    assert report.sales == [] and report.submitted is None and not report.accepted


def test_replace_naming_itself() -> None:
    report = parse(["BPT*05*RPT-2*20260408*DD*****RPT-2", *HEADER[1:], *LOOP, *LINE])
    assert only_report_error(report).reason == "bad_replacement"


def test_bpt09_on_an_original_is_ignored() -> None:
    report = parse(["BPT*00*RPT-2*20260408*DD*****RPT-1", *HEADER[1:], *LOOP, *LINE])
    assert report.accepted and report.submitted is not None
    assert report.submitted.replaces_report_id is None


@pytest.mark.parametrize(
    ("header", "reason", "element"),
    [
        (["BPT*01*RPT-1*20260406", *HEADER[1:]], "unsupported_purpose", "BPT01"),
        (["BPT*00**20260406", *HEADER[1:]], "missing_report_number", "BPT02"),
        (["BPT*00*RPT-1*20260406X", *HEADER[1:]], "bad_date", "BPT03"),
        (HEADER[1:], "missing_bpt", None),
        ([*HEADER, "BPT*00*RPT-9*20260406"], "duplicate_bpt", None),
        ([*HEADER, "CUR*SE*dollars"], "bad_currency", "CUR02"),
        ([HEADER[0], HEADER[2], HEADER[3]], "missing_period", None),
        ([HEADER[0], "DTM*090*20260332", HEADER[2], HEADER[3]], "bad_date", "DTM02"),
        ([HEADER[0], "DTM*090*20260406", HEADER[2], HEADER[3]], "bad_period", "DTM02"),
        (HEADER[:3], "missing_distributor", None),
        ([*HEADER[:3], "N1*DS*ACME"], "missing_distributor", "N104"),
        ([*HEADER[:3], "N1*DS*ACME*91*DIST|1"], "invalid_field", "N104"),
        (["BPT*00*RPT 1 |*20260406", *HEADER[1:]], "invalid_field", "BPT02"),
    ],
)
def test_each_bad_header_gives_its_report_error(
    header: list[str], reason: str, element: str | None
) -> None:
    report = parse([*header, *LOOP, *LINE])
    error = only_report_error(report)
    assert (error.reason, error.element) == (reason, element)
    assert report.sales == [] and report.submitted is None
    assert error.reason in REASONS


def test_ctt_line_count_mismatch() -> None:
    report = parse([*HEADER, *LOOP, *LINE, "CTT*2*10"])
    error = only_report_error(report)
    assert (error.reason, error.element) == ("ctt_mismatch", "CTT01")
    assert "CTT01 says '2' line items but the report has 1 LIN" in error.message
    assert report.sales == []


def test_ctt_hash_total_mismatch() -> None:
    report = parse([*HEADER, *LOOP, *LINE, "LIN*2*VP*B", "QTY*39*5", "UIT*EA*1", "CTT*2*16"])
    error = only_report_error(report)
    assert (error.reason, error.element) == ("ctt_mismatch", "CTT02")
    assert "16 does not match the sum of QTY02 15" in error.message


def test_ctt_matching_and_hash_skipped_when_a_quantity_is_not_a_number() -> None:
    assert parse([*HEADER, *LOOP, *LINE, "CTT*1*10"]).accepted
    assert parse([*HEADER, *LOOP, *LINE, "CTT*1"]).accepted
    report = parse([*HEADER, *LOOP, *LINE, "LIN*2*VP*B", "QTY*39*x", "UIT*EA*1", "CTT*2*99"])
    assert report.accepted and len(report.sales) == 1
    assert report.line_errors[0].reason == "bad_quantity"


def test_currency_defaults_to_usd_and_cur_sets_it() -> None:
    assert parse([*HEADER, *LOOP, *LINE]).sales[0].currency == "USD"
    assert parse([*HEADER, "CUR*SE*EUR", *LOOP, *LINE]).sales[0].currency == "EUR"


def test_uploader_distributor_fills_in_and_must_match() -> None:
    report = parse([*HEADER[:3], *LOOP, *LINE], distributor_id="DIST-007")
    assert report.sales[0].distributor_id == "DIST-007"
    assert parse([*HEADER, *LOOP, *LINE], distributor_id="DIST-001").accepted
    mismatch = parse([*HEADER, *LOOP, *LINE], distributor_id="DIST-007")
    error = only_report_error(mismatch)
    assert (error.reason, error.element) == ("distributor_mismatch", "N104")


@pytest.mark.parametrize("uploader", [None, "DIST-001"])
def test_a_second_n1_ds_naming_another_distributor_is_a_report_error(uploader: str | None) -> None:
    second = "N1*DS*OTHER*91*DIST-002"
    for body in (
        [*HEADER, second, *LOOP, *LINE],
        [*HEADER, *LOOP, second, *LINE],  # in the detail, too
    ):
        report = parse(body, distributor_id=uploader)
        error = only_report_error(report)
        assert (error.reason, error.element) == ("distributor_mismatch", "N104")
        assert error.segment_index == body.index(second) + 4  # after ISA, GS and ST
        assert "'DIST-002'" in error.message and report.submitted is None
    same = parse([*HEADER, HEADER[3], *LOOP, *LINE], distributor_id=uploader)
    assert same.accepted and same.sales[0].distributor_id == "DIST-001"


# --- envelope ---------------------------------------------------------------------------


def test_several_reports_in_one_interchange() -> None:
    data = interchange([*HEADER, *LOOP, *LINE], ["BPT*00*RPT-2*20260406", *HEADER[1:], *LOOP])
    reports = parse_867_all(io.BytesIO(data), received_at=RECEIVED_AT)
    assert [r.header.report_number for r in reports] == ["RPT-1", "RPT-2"]
    assert [r.line_count for r in reports] == [1, 0]
    with pytest.raises(X12Error, match="exactly one 867"):
        parse_867(io.BytesIO(data), received_at=RECEIVED_AT)


def test_another_transaction_set_is_refused() -> None:
    data = interchange(["XQ*H*20260401"], set_id="852", functional_id="PD")
    with pytest.raises(X12Error) as caught:
        parse_867(io.BytesIO(data), received_at=RECEIVED_AT)
    assert (caught.value.segment_index, caught.value.element_index) == (3, 1)


def test_structural_error_after_the_lines_returns_nothing() -> None:
    data = interchange([*HEADER, *LOOP, *LINE]).replace(b"IEA*1*", b"IEA*3*")
    with pytest.raises(X12Error, match="IEA01"):
        parse_867(io.BytesIO(data), received_at=RECEIVED_AT)


def test_naive_received_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_867(
            io.BytesIO(interchange(HEADER)), received_at=datetime.fromisoformat("2026-04-06T09:00")
        )
