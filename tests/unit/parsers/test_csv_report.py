"""The sell-through CSV template: header check, per-line errors, streaming."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schemas.events import SaleReported
from streams.ingest.parsers.csv_report import (
    REASONS,
    CsvFormatError,
    CsvHeaderError,
    CsvLineError,
    parse_csv,
)
from tests.unit.parsers.conftest import RECEIVED_AT, SAMPLES

HEADER = "distributor_id,transaction_id,reseller_id,sku,quantity,unit_price,currency,sold_at\n"


def parse(text: str, report_id: str | None = None) -> list[SaleReported | CsvLineError]:
    stream = io.BytesIO(text.encode())
    return list(parse_csv(stream, received_at=RECEIVED_AT, report_id=report_id))


def errors(items: list[SaleReported | CsvLineError]) -> list[CsvLineError]:
    return [item for item in items if isinstance(item, CsvLineError)]


def sales(items: list[SaleReported | CsvLineError]) -> list[SaleReported]:
    return [item for item in items if isinstance(item, SaleReported)]


#: the good sample's sales: (transaction, SKU, quantity, unit, unit price, currency, sold at)
GOOD_SALES = [
    (
        "INV1001-1",
        "WIDGET-100",
        10,
        None,
        Decimal("12.50"),
        "USD",
        datetime(2026, 3, 31, tzinfo=UTC),
    ),
    (
        "INV1001-2",
        "GADGET-200",
        2,
        "CA",
        Decimal("140.00"),
        "USD",
        datetime(2026, 3, 31, 20, 4, tzinfo=UTC),
    ),
    (
        "INV1002-1",
        "012345678905",
        5,
        "EA",
        Decimal("12.75"),
        "USD",
        datetime(2026, 4, 2, 18, 30, tzinfo=UTC),
    ),
    (
        "CM5001-1",
        "WIDGET-100",
        -3,
        None,
        Decimal("12.50"),
        "USD",
        datetime(2026, 4, 4, tzinfo=UTC),
    ),
    (
        "INV1003-1",
        "WIDGET-100",
        20,
        "EA",
        Decimal("11.900000"),
        "USD",
        datetime(2026, 4, 3, 9, 15, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize("padding", ["\x1a", "\x00\x00\x00\x00", "\r\n\x1a\r\n", " \x00 \x1a"])
def test_a_files_padding_after_its_last_line_is_no_line(padding: str) -> None:
    """A DOS tool's Ctrl-Z or a transfer's NUL padding at the end is skipped as a blank
    line: not a line of one column naming distributor '\\x1a' (a distributor's upload of
    it was refused whole, 403)."""
    text = HEADER + "D1,T1,R1,SKU-1,1,1.00,USD,2026-04-01\r\n"
    assert parse(text + padding) == parse(text)
    assert len(sales(parse(text + padding))) == 1


def test_good_sample() -> None:
    with (SAMPLES / "sales_good.csv").open("rb") as stream:
        items = list(parse_csv(stream, received_at=RECEIVED_AT, distributor_id="DIST-001"))
    assert errors(items) == []
    rows = [
        (s.transaction_id, s.sku, s.quantity, s.unit, s.unit_price, s.currency, s.sold_at)
        for s in sales(items)
    ]
    assert rows == GOOD_SALES
    sale = sales(items)[2]
    assert sale.end_customer == "EC-0042" and sales(items)[4].end_customer == "Contoso, Inc."
    for sale in sales(items):
        assert sale.source == "csv" and sale.report_id == "DIST-001-2026W14"
        assert sale.recorded_at == RECEIVED_AT and sale.occurred_at == sale.sold_at
        assert sale.reseller_id in {"RES-100", "RES-200"}
    again = list(
        parse_csv(
            io.BytesIO((SAMPLES / "sales_good.csv").read_bytes()),
            received_at=datetime(2026, 5, 1, tzinfo=UTC),
        )
    )
    assert [s.event_id for s in sales(again)] == [s.event_id for s in sales(items)]


def test_bad_lines_sample_each_with_its_line_field_and_reason() -> None:
    with (SAMPLES / "sales_bad_lines.csv").open("rb") as stream:
        items = list(parse_csv(stream, received_at=RECEIVED_AT, distributor_id="DIST-001"))
    assert [(s.transaction_id, s.sku, s.quantity) for s in sales(items)] == [
        ("T1", "WID-100-BLU", 4),
    ]
    found = [(e.line, e.field, e.reason) for e in errors(items)]
    assert found == [
        (3, "quantity", "bad_quantity"),
        (4, "quantity", "bad_quantity"),
        (5, "unit_price", "bad_price"),
        (6, "unit_price", "bad_price"),
        (7, "unit_price", "bad_price"),
        (8, "unit_price", "bad_price"),
        (9, "currency", "bad_currency"),
        (10, "sold_at", "bad_date"),
        (11, "sold_at", "bad_date"),
        (12, "transaction_id", "missing_field"),
        (13, "vendor_part", "missing_field"),
        (14, "reseller_id", "invalid_field"),
        (15, None, "column_count"),
        (16, None, "csv_syntax"),
        (17, "distributor_id", "distributor_mismatch"),
        (18, "end_customer", "invalid_field"),  # a quoted line break: no id holds one
        (20, "vendor_part", "encoding"),
    ]
    messages = {e.line: e.message for e in errors(items)}
    assert "without thousands separators" in messages[3]
    assert "whole number" in messages[4]
    assert "no thousands separators (1234.50, not 1,234.50)" in messages[5]
    assert "without a currency symbol" in messages[6]
    assert "more than 6 decimal places" in messages[7]
    assert "cannot be negative" in messages[8]
    assert "no time zone" in messages[10]
    assert "not ISO 8601" in messages[11]
    assert "'|'" in messages[14]
    assert "8 fields but the header has 10 columns" in messages[15]
    assert "'Contoso\\nHospital': contains U+000A" in messages[18]
    assert "not valid UTF-8" in messages[20]
    assert errors(items)[0].original_line == (
        '2026-04-01,"1,000",12.50,USD,DIST-001,T2,RES-100,WID-100-BLU,,'
    )
    assert all(e.reason in REASONS for e in errors(items))


def test_header_problems_are_named_together() -> None:
    with pytest.raises(CsvHeaderError) as caught:
        parse("distributor_id,transactionid,qty,sku,sku,foo,unit_price\n")
    error = caught.value
    assert error.unknown == ["transactionid", "qty", "foo"]
    assert error.missing == ["transaction_id", "reseller_id", "quantity", "currency", "sold_at"]
    assert error.duplicate == ["sku"]
    assert "did you mean transaction_id?" in error.message
    assert "unknown columns" in error.message and "duplicate columns: sku" in error.message


@pytest.mark.parametrize("separator", [";", "\t", "|"])
def test_a_header_separated_by_another_character_says_so(separator: str) -> None:
    with pytest.raises(CsvHeaderError) as caught:
        parse(HEADER.replace(",", separator))
    said = f"(columns separated by {separator!r}? the template separates them by ',')"
    assert said in caught.value.message


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ((HEADER + "\n").encode("utf-16"), "the file is UTF-16 text, not UTF-8"),
        ((HEADER + "\n").encode("utf-16-be"), "the file is not text (NUL bytes in its first line)"),
        (b"\x7fELF\x02\x01\x01\x00" + HEADER.encode(), "the file is not text"),
        (
            b"\xef\xbb\xbfISA*00*          *00*~GS*PT~",
            "the file is an X12 interchange, not a CSV report: send it to /api/ingest/edi",
        ),
        (
            b'  [{"event_type": "SaleReported", "distributor_id": "D01"}]',
            "the file is JSON, not a CSV report: JSON events go to /api/ingest/events",
        ),
    ],
)
def test_a_file_that_is_not_a_utf8_csv_report_says_what_it_is(data: bytes, said: str) -> None:
    with pytest.raises(CsvHeaderError) as caught:
        list(parse_csv(io.BytesIO(data), received_at=RECEIVED_AT))
    assert said in caught.value.message


def test_a_claim_file_sent_as_a_report_is_named_for_what_it_is() -> None:
    claims = "claim_id,distributor_id,line_no,transaction_id,sku,quantity,amount_claimed"
    with pytest.raises(CsvHeaderError) as caught:
        parse(claims)
    assert caught.value.message.startswith(
        "the file is a debit claim file (its header names claim_id), not a sell-through "
        "report: send it to /api/ingest/claims"
    )
    assert "claim_id" in caught.value.unknown


def test_a_spreadsheets_unnamed_trailing_columns_are_no_columns() -> None:
    """`...,sold_at,,` and lines ending `,,` (the empty columns a spreadsheet exports) or
    `,` (an exporter's trailing comma) read as without them; a value in such a column
    makes its line one of another width, as before."""
    line = "D1,T1,R1,SKU-1,1,1.00,USD,2026-04-01"
    plain = parse(HEADER + line + "\n")
    excel = parse(HEADER.replace("\n", ",,\r\n") + line + ",,\r\n,,,,,,,,,\r\n")
    assert [(s.transaction_id, s.quantity) for s in sales(excel)] == [("T1", 1)]
    assert sales(excel)[0].sold_at == sales(plain)[0].sold_at and not errors(excel)
    assert not errors(parse(HEADER + line + ",\n"))
    (error,) = errors(parse(HEADER.replace("\n", ",,\n") + line + ",,X\n"))
    assert (error.reason, error.line) == ("column_count", 2)


def test_an_empty_column_name_among_named_ones_is_named_once() -> None:
    with pytest.raises(CsvHeaderError) as caught:
        parse(HEADER.replace("sku,", ",,sku,") + "D1\n")
    message = caught.value.message
    assert "unknown columns: '' (an empty column name), '' (an empty column name)" in message
    assert "duplicate columns" not in message


def test_header_needs_an_item_column() -> None:
    with pytest.raises(CsvHeaderError) as caught:
        parse(HEADER.replace("sku,", ""))
    assert caught.value.missing == ["sku"]
    assert "sku (or vendor_part / upc)" in caught.value.message


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff"])
def test_empty_file(text: str) -> None:
    with pytest.raises(CsvHeaderError, match="empty"):
        parse(text)


def test_header_is_checked_before_iterating() -> None:
    with pytest.raises(CsvHeaderError):
        parse_csv(io.BytesIO(b"nope\n1\n"), received_at=RECEIVED_AT)


def test_blank_header_cell_is_named() -> None:
    """Among named columns (an unnamed one at the end is none: see above)."""
    with pytest.raises(CsvHeaderError, match="an empty column name"):
        parse(HEADER.replace("sku,", ",sku,"))


def test_report_id_argument_fills_empty_report_ids() -> None:
    text = HEADER + "D,T,R,S,1,1,USD,2026-04-01\n"
    assert sales(parse(text, report_id="RPT-9"))[0].report_id == "RPT-9"
    assert sales(parse(text))[0].report_id is None


def test_money_and_quantity_details() -> None:
    text = (
        HEADER + "D,T1,R,S,+5,0.5,EUR,2026-04-01T00:00:00.5+01:00\nD,T2,R,S,5,.5,EUR,2026-04-01\n"
    )
    items = parse(text)
    first = sales(items)[0]
    assert (first.quantity, first.unit_price, first.currency) == (5, Decimal("0.5"), "EUR")
    assert first.sold_at == datetime(2026, 3, 31, 23, 0, 0, 500000, tzinfo=UTC)
    assert [(e.line, e.reason) for e in errors(items)] == [(3, "bad_price")]


def test_the_wire_schemas_rules_hold_for_csv_lines() -> None:
    text = HEADER + (
        "D,T\u200b1,R,S,1,1,USD,2026-04-01\n"  # an invisible character in an id
        "D,T2,R\tX,S,1,1,USD,2026-04-01\n"  # a tab (no quotes needed)
        "D,T3,R,S,1000000000001,1,USD,2026-04-01\n"
        "D,T4,R,S,-1000000000000,1,USD,2026-04-01\n"
        "D,T5,R,S,1,1e3,USD,2026-04-01\n"
    )
    items = parse(text)
    assert [(e.line, e.field, e.reason) for e in errors(items)] == [
        (2, "transaction_id", "invalid_field"),
        (3, "reseller_id", "invalid_field"),
        (4, "quantity", "bad_quantity"),
        (6, "unit_price", "bad_price"),
    ]
    messages = [e.message for e in errors(items)]
    assert "contains U+200B (ZERO WIDTH SPACE)" in messages[0]
    assert "contains U+0009" in messages[1]
    assert "out of range (at most 1,000,000,000,000 either way)" in messages[2]
    assert [s.quantity for s in sales(items)] == [-(10**12)]


def test_a_line_naming_another_distributor_says_so_whatever_else_is_wrong() -> None:
    text = HEADER + (
        "D2,T1,R,S,1,1,USD,2026-04-01,extra\n"  # column_count
        'D2,"T2"x,R,S,1,1,USD,2026-04-01\n'  # csv_syntax
        "D2,T3,R\xff,S,1,1,USD,2026-04-01\n"  # encoding (\xff is no UTF-8)
        "D1,T4,R,S,1,1,USD,2026-04-01,extra\n"  # its own: the line's own error
    )
    stream = io.BytesIO(text.encode("latin-1"))
    items = list(parse_csv(stream, received_at=RECEIVED_AT, distributor_id="D1"))
    assert [(e.line, e.field, e.reason) for e in errors(items)] == [
        (2, "distributor_id", "distributor_mismatch"),
        (3, "distributor_id", "distributor_mismatch"),
        (4, "distributor_id", "distributor_mismatch"),
        (5, None, "column_count"),
    ]
    first, second, third = (e.message for e in errors(items)[:3])
    assert first.startswith("distributor_id 'D2' is not the uploading distributor 'D1' (also:")
    assert "9 fields but the header has 8 columns" in first
    assert "not valid CSV" in second and "not valid UTF-8" in third
    unchecked = list(parse_csv(io.BytesIO(text.encode("latin-1")), received_at=RECEIVED_AT))
    assert [e.reason for e in errors(unchecked)] == [
        "column_count",
        "csv_syntax",
        "encoding",
        "column_count",
    ]


def test_overlong_line_stops_the_file() -> None:
    text = HEADER + "D,T,R," + "S" * 5000 + ",1,1,USD,2026-04-01\n"
    items = parse_csv(io.BytesIO(text.encode()), received_at=RECEIVED_AT, max_line_chars=1000)
    with pytest.raises(CsvFormatError) as caught:
        list(items)
    assert caught.value.line == 2


def test_unterminated_quote_is_a_line_error_not_a_crash() -> None:
    items = parse(HEADER + 'D,"T,R,S,1,1,USD,2026-04-01\nD,T2,R,S,1,1,USD,2026-04-01\n')
    assert [(e.line, e.reason) for e in errors(items)] == [(2, "csv_syntax")]


class CountingStream(io.RawIOBase):
    """An endless CSV: header then the same line forever; counts bytes read."""

    def __init__(self) -> None:
        self.read_bytes = 0
        self._pending = HEADER.encode()
        self._line = b"D,T,R,S,1,1.00,USD,2026-04-01\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while len(self._pending) < len(buffer):
            self._pending += self._line * 64
        size = len(buffer)
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.read_bytes += size
        return size


def test_lines_are_parsed_lazily_from_an_endless_stream() -> None:
    stream = CountingStream()
    items = parse_csv(io.BufferedReader(stream), received_at=RECEIVED_AT)
    for _, item in zip(range(10), items, strict=False):
        assert isinstance(item, SaleReported)
    assert stream.read_bytes < 1_000_000


def test_the_callers_stream_is_not_closed() -> None:
    stream = io.BytesIO((HEADER + "D,T,R,S,1,1,USD,2026-04-01\n").encode())
    items = parse_csv(stream, received_at=RECEIVED_AT)
    del items
    assert not stream.closed
    list(parse_csv(stream := io.BytesIO(HEADER.encode()), received_at=RECEIVED_AT))
    assert not stream.closed


def test_naive_received_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_csv(io.BytesIO(HEADER.encode()), received_at=datetime.fromisoformat("2026-04-06"))
