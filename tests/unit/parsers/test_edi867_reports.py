"""X12 867 report-level errors (they reject the whole report) and the envelope."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from streams.ingest.parsers.edi867 import (
    REASONS,
    parse_867,
    parse_867_all,
)
from streams.ingest.parsers.x12 import X12Error
from tests.unit.parsers.conftest import RECEIVED_AT
from tests.unit.parsers.edi867_cases import (
    HEADER,
    LINE,
    LOOP,
    only_report_error,
    parse,
)
from tests.unit.parsers.edi_builder import interchange

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
        ([*HEADER, "CUR*SE*ABC"], "bad_currency", "CUR02"),  # no ISO 4217 code
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


def test_a_ctt_line_count_of_non_ascii_digits_is_a_report_error() -> None:
    # "²" passes str.isdigit, but int() refuses it: a report error, not a traceback
    report = parse([*HEADER, *LOOP, *LINE, "CTT*\u00b2*10"])
    error = only_report_error(report)
    assert (error.reason, error.element) == ("ctt_mismatch", "CTT01")


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
