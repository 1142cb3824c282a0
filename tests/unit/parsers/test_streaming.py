"""The parsers as the gateway uses them: lines handed out as they complete, each with
where it came from; the CSV fast path validates exactly as the field-by-field path."""

from __future__ import annotations

import io
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.events import SaleReported
from streams.ingest.parsers.common import REPORTS_NAMESPACE, LineError, event_uuid
from streams.ingest.parsers.csv_line_parser import LineParser as _LineParser
from streams.ingest.parsers.csv_report import (
    ALL_COLUMNS,
    CsvLineError,
    parse_csv,
    peek_first_line,
)
from streams.ingest.parsers.edi867 import ReportEnd, ReportLine, iter_867
from tests.unit.parsers.conftest import RECEIVED_AT, SAMPLES
from tests.unit.parsers.edi_builder import interchange

HEADER = "distributor_id,transaction_id,reseller_id,sku,quantity,unit_price,currency,sold_at"


def test_event_uuid_is_uuid5_of_kind_and_parts() -> None:
    expected = uuid.uuid5(REPORTS_NAMESPACE, "kind:R-1\x1f7\x1f\x1fD|x\x1f3.5")
    assert event_uuid("kind", "R-1", 7, None, "D|x", 3.5) == expected


def test_867_lines_come_out_in_order_with_their_segments_then_the_report() -> None:
    with (SAMPLES / "867_weekly.edi").open("rb") as stream:
        items = list(iter_867(stream, received_at=RECEIVED_AT, source_name="w14.edi"))
    lines, end = items[:-1], items[-1]
    assert all(isinstance(item, ReportLine) for item in lines)
    assert isinstance(end, ReportEnd) and end.line_count == len(lines) == 5
    assert [line.number for line in lines] == [1, 2, 3, 4, 5]  # type: ignore[union-attr]
    first = lines[0]
    assert isinstance(first, ReportLine) and isinstance(first.outcome, SaleReported)
    assert first.outcome.source_ref == f"w14.edi 867 RPT-2026-W14 segment {first.segment_index}"
    # the PTD loop's own segments, then the line's (PID included), as sent
    assert first.original.splitlines()[0] == "PTD*SS~"
    assert "LIN*1*VP*WIDGET-100*UP*012345678905~" in first.original
    assert first.original.splitlines()[-1] == "PID*F****BLUE WIDGET~"
    assert first.header is not None and first.header.report_number == "RPT-2026-W14"
    assert end.submitted is not None and end.submitted.source_ref is not None


class _Counting(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.read_bytes += len(chunk)
        return len(chunk)


def test_867_lines_are_handed_out_before_the_report_is_read_to_its_end() -> None:
    line = ["LIN*{n}*VP*WIDGET-100", "QTY*39*1*EA", "UIT*EA*12.50"]
    body = [
        "BPT*00*R-1*20260406",
        "DTM*090*20260330",
        "DTM*091*20260405",
        "N1*DS*ACME*91*DIST-001",
        "PTD*SS",
        "N1*ST*RES*91*RES-1",
        "REF*IV*INV1",
        "DTM*003*20260331",
        *[segment.format(n=n) for n in range(1, 20_001) for segment in line],
    ]
    data = interchange(body)
    stream = _Counting(data)
    items = iter_867(io.BufferedReader(stream, 4096), received_at=RECEIVED_AT)
    first = next(items)
    assert isinstance(first, ReportLine) and isinstance(first.outcome, SaleReported)
    assert stream.read_bytes < len(data) // 10


def test_line_errors_of_867_keep_their_report_heading() -> None:
    with (SAMPLES / "867_line_errors.edi").open("rb") as stream:
        items = list(iter_867(stream, received_at=RECEIVED_AT))
    errors = [i for i in items if isinstance(i, ReportLine) and isinstance(i.outcome, LineError)]
    assert errors and all(e.header is not None for e in errors)


def test_csv_report_id_makes_the_file_one_report() -> None:
    text = (
        HEADER
        + ",report_id\nD,T1,R,S,1,1,USD,2026-04-01,\nD,T2,R,S,1,1,USD,2026-04-01,R-9\n"
        + "D,T3,R,S,1,1,USD,2026-04-01,R-8\n"
    )
    items = list(parse_csv(io.BytesIO(text.encode()), received_at=RECEIVED_AT, report_id="R-9"))
    assert [getattr(i, "report_id", None) for i in items[:2]] == ["R-9", "R-9"]
    last = items[2]
    assert isinstance(last, CsvLineError) and (last.line, last.field) == (4, "report_id")
    assert last.reason == "report_mismatch"


def test_peek_reads_the_first_data_line() -> None:
    with (SAMPLES / "sales_good.csv").open("rb") as stream:
        first = peek_first_line(stream)
    assert first["distributor_id"] == "DIST-001" and first["report_id"] == "DIST-001-2026W14"
    assert peek_first_line(io.BytesIO((HEADER + "\n\n").encode())) == {}


# --- the fast path validates as the checked path ------------------------------------

CELLS = {
    "distributor_id": ["D", "DIST-001", "", "D|1", " D "],
    "transaction_id": ["T1", "", "x" * 129, "INV 1"],
    "reseller_id": ["R", "", "R|"],
    "sku": ["S", "", "012345678905"],
    "vendor_part": ["", "VP-1"],
    "upc": ["", "012345678905"],
    "quantity": ["1", "-3", "+5", "1,000", "2.5", "", "1" + "0" * 13, "x"],
    "unit": ["", "CA", "C|A"],
    "unit_price": ["12.50", "0", ".5", "-1", "1.1234567", "1.123456", "1e3", "$2", ""],
    "currency": ["USD", "usd", "US", "EURO", ""],
    "sold_at": [
        "2026-04-01",
        "2026-04-01T10:00:00Z",
        "2026-04-01t10:00:00z",
        "2026-04-01 10:00:00+02:00",
        "2026-04-01T10:00:00",
        "2026-04-01T10:00:00.123+0530",
        "2026-02-30",
        "04/01/2026",
        "",
    ],
    "end_customer": ["", "EC-1", "E|C"],
    "report_id": ["", "R-1", "R-2"],
    "end_customer_name": ["", "Jane Doe", "J\u200bD"],
    "end_customer_contact": ["", "jane@example.com"],
}


def _cell(column: str) -> st.SearchStrategy[str]:
    return st.sampled_from(CELLS[column]) | st.text(max_size=12)


@settings(max_examples=400)
@given(
    values=st.fixed_dictionaries({column: _cell(column) for column in ALL_COLUMNS}),
    uploader=st.sampled_from([None, "DIST-001"]),
    report=st.sampled_from([None, "R-1"]),
)
def test_fast_path_gives_what_the_checked_path_gives(
    values: dict[str, str], uploader: str | None, report: str | None
) -> None:
    columns = list(ALL_COLUMNS)
    row = [values[column] for column in columns]
    original = ",".join(row)
    parser = _LineParser(columns, RECEIVED_AT, uploader, report, "f.csv")
    fast, _ = parser(2, row, original)
    parser._fast = lambda _values: None  # type: ignore[method-assign,assignment]
    checked, _ = parser(2, row, original)
    if isinstance(fast, SaleReported):
        assert isinstance(checked, SaleReported)
        assert fast.model_dump() == checked.model_dump()
        # and the wire schema accepts the event as it is
        assert SaleReported.model_validate(fast.model_dump()) == fast
    else:
        assert fast == checked
