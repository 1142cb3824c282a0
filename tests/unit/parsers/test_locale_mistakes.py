"""What a distributor's IT team gets wrong when it exports from a spreadsheet or a
Windows tool in its own locale, answered clearly at every door: a decimal comma, a date
written day or month first, a body that is not UTF-8, a free text over its limit."""

from __future__ import annotations

import io
import json

import pytest

from schemas.events import SaleReported
from streams.ingest.formats.json_events import batch_of
from streams.ingest.formats.upload import Unreadable
from streams.ingest.parsers.common import FieldProblem, parse_ccyymmdd, parse_x12_decimal
from streams.ingest.parsers.csv_report import (
    CsvHeaderError,
    CsvLineError,
    parse_csv,
    parse_csv_lines,
)
from tests.unit.event_samples import rejected, sale
from tests.unit.parsers.conftest import RECEIVED_AT

SEPARATORS = (
    "write a plain decimal with a point and no thousands separators (1234.50, not 1,234.50)"
)
HEADER = "distributor_id,transaction_id,reseller_id,sku,quantity,unit_price,currency,sold_at"


def csv_problem(line: str, header: str = HEADER) -> CsvLineError:
    (item,) = parse_csv(io.BytesIO(f"{header}\n{line}\n".encode()), received_at=RECEIVED_AT)
    assert isinstance(item, CsvLineError), item
    return item


@pytest.mark.parametrize(
    ("price", "hint"),
    [
        ("12,50", "the decimal mark is a point, not a comma: write 12.50"),
        ("1.234,50", "the decimal mark is a point, not a comma: write 1234.50"),
        ("1,234.50", SEPARATORS),
        ("12,500", SEPARATORS),  # 12500 or 12.5: not guessed
    ],
)
def test_a_comma_in_a_price_is_named_for_what_it_is_at_the_csv_and_x12_doors(
    price: str, hint: str
) -> None:
    error = csv_problem(f'D1,T1,R1,W-1,1,"{price}",USD,2026-04-01')
    assert (error.field, error.reason) == ("unit_price", "bad_price")
    assert error.message == f"unit_price {price!r} is not valid: {hint}"
    with pytest.raises(FieldProblem) as caught:
        parse_x12_decimal(price, "UIT02", "bad_price")
    assert caught.value.message == f"UIT02 {price!r} is not a number: {hint}"


def test_a_date_written_day_or_month_first_is_refused_with_the_form_to_write() -> None:
    error = csv_problem("D1,T1,R1,W-1,1,12.50,USD,03/04/2026")
    assert (error.field, error.reason) == ("sold_at", "bad_date")
    assert "is not ISO 8601: use 2026-04-01T14:30:00+02:00" in error.message
    # the JSON door (the wire schema's words, which every door shares)
    detail = rejected(sale(sold_at="03/04/2026")).detail
    assert "SaleReported.sold_at: '03/04/2026' is not an ISO 8601 date-time" in detail
    assert "the year first (03/04/2026 could be 3 April or 4 March)" in detail
    detail = rejected(sale(sold_at="2026-04-03 10:00")).detail
    assert "'2026-04-03 10:00' has no time zone: add Z or an offset" in detail


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        ("utf-16", "the body is UTF-16 text, not UTF-8"),
        ("utf-16-le", "the body is UTF-16 text, not UTF-8"),
        ("cp1252", "the body is not UTF-8: byte 0xC9 on line 1"),
    ],
)
def test_a_json_body_in_another_encoding_says_so(encoding: str, message: str) -> None:
    body = json.dumps([sale(reseller_id="CAFÉ")], ensure_ascii=False).encode(encoding)
    with pytest.raises(Unreadable) as caught:
        batch_of(body)
    assert caught.value.code == "invalid_json" and caught.value.message.startswith(message)
    assert "CSV" not in caught.value.message  # not taken for another door's format


def test_a_free_text_over_its_limit_is_told_its_own_limit() -> None:
    header = f"{HEADER},end_customer_name,end_customer"
    error = csv_problem("D1,T1,R1,W-1,1,12.50,USD,2026-04-01," + "x" * 3000 + ",", header)
    assert error.message == "end_customer_name: too long (3,000 characters, at most 2,048)"
    error = csv_problem("D1,T1,R1,W-1,1,12.50,USD,2026-04-01,," + "E" * 200, header)
    assert error.message == f"end_customer: {'E' * 200!r}: too long (200 characters, at most 128)"


def test_excel_s_separator_line_is_passed_over_or_named() -> None:
    """Excel writes `sep=,` before the header when asked to keep the separator: that is the
    template's own and is passed over (lines keep their numbers); another is named."""
    data = f"sep=,\r\n{HEADER}\r\nD1,T1,R1,W-1,1,12.50,USD,2026-04-01\r\n".encode()
    ((number, sale_line, _),) = parse_csv_lines(io.BytesIO(data), received_at=RECEIVED_AT)
    assert number == 3 and isinstance(sale_line, SaleReported)
    semicolons = f"sep=;\n{HEADER.replace(',', ';')}\n".encode()
    with pytest.raises(CsvHeaderError) as caught:
        list(parse_csv(io.BytesIO(semicolons), received_at=RECEIVED_AT))
    assert str(caught.value).startswith(
        "the first line 'sep=;' says the columns are separated by ';'; the template "
        "separates them by ','"
    )


@pytest.mark.parametrize("written", ["03302026", "30032026", "260330"])
def test_an_x12_date_not_written_year_first_is_told_the_form(written: str) -> None:
    with pytest.raises(FieldProblem) as caught:
        parse_ccyymmdd(written, "DTM02", "bad_date")
    expected = f"DTM02 '{written}' is not a date in the form CCYYMMDD, the year first (20260401)"
    assert caught.value.message == expected
