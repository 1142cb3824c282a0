"""X12 867 line errors, one kind at a time: each bad line's specific error, the good lines
kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streams.ingest.parsers.edi867 import (
    REASONS,
)
from tests.unit.parsers.edi867_cases import (
    HEADER,
    LINE,
    LOOP,
    only_error,
    parse,
)

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
        (["LIN*1*SN*123", "QTY*39*1*EA", "UIT*EA*1"], "missing_item", "LIN02", "found: SN"),
        (["LIN*1*SN*123*VP", "QTY*39*1*EA", "UIT*EA*1"], "missing_item", "LIN05", "SN, VP"),
        (["LIN*1", "QTY*39*1*EA", "UIT*EA*1"], "missing_item", "LIN02", "found: none"),
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
    assert (error.reason, error.element, error.line) == ("duplicate_line", "LIN01", 2)
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
