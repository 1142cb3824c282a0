"""Properties: no input makes the parsers crash, and every line of a report is read once.

Whatever bytes arrive, the X12 parsers either raise `X12Error` (structure) or return
reports whose every line is an event or a `LineError` with a known reason; the CSV
parser raises only its own header/format errors or yields events and line errors.

Most examples are valid reports broken the way real files break (tests/unit/parsers/
mutated_reports.py: lines deleted, repeated, swapped, a field corrupted, totals left
stale): they get past the header, and each of their input lines is read exactly once, as
an event or a line error. Random bytes and byte-level mutations, which end at the first
structural error, are the few examples that check nothing crashes on garbage.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from schemas.events import InventoryCounted, ReportSubmitted, SaleReported
from streams.ingest.parsers.common import LineError
from streams.ingest.parsers.csv_report import REASONS as CSV_REASONS
from streams.ingest.parsers.csv_report import (
    CsvFormatError,
    CsvHeaderError,
    CsvLineError,
    parse_csv,
    parse_csv_lines,
)
from streams.ingest.parsers.edi852 import REASONS as REASONS_852
from streams.ingest.parsers.edi852 import ParsedActivity, parse_852_all
from streams.ingest.parsers.edi867 import REASONS as REASONS_867
from streams.ingest.parsers.edi867 import ParsedReport, parse_867_all
from streams.ingest.parsers.x12 import X12Error, tokenize
from tests.unit.parsers.conftest import SAMPLES
from tests.unit.parsers.edi_builder import isa
from tests.unit.parsers.mutated_common import Mutated
from tests.unit.parsers.mutated_csv import mutated_csv
from tests.unit.parsers.mutated_x12 import mutated_852, mutated_867

RECEIVED = datetime(2026, 4, 6, 9, tzinfo=UTC)
SAMPLE_867 = [
    (SAMPLES / name).read_bytes()
    for name in ("867_weekly.edi", "867_replace.edi", "867_line_errors.edi")
]
SAMPLE_852 = (SAMPLES / "852_weekly.edi").read_bytes()
SAMPLE_CSV = (SAMPLES / "sales_good.csv").read_bytes()
ENVELOPE = {"ISA", "GS", "ST", "SE", "GE", "IEA"}

FUZZ = settings(max_examples=300)
#: garbage: a few examples (nearly all end at the first structural error)
GARBAGE = settings(max_examples=60)

# bytes that matter to the parsers, mixed with anything
EDI_ALPHABET = st.sampled_from(
    [
        b"*",
        b"~",
        b">",
        b"\n",
        b"\r",
        b"|",
        b"-",
        b".",
        b",",
        b" ",
        b"0",
        b"9",
        b"EA",
        b"ISA",
        b"\xff",
        b"\xc3\xa9",
        b"20260401",
        b"SE",
        b"LIN",
        b"QTY",
        b"PTD",
    ]
)
ELEMENT_TEXT = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"-?\d{0,6}(\.\d{0,8})?", fullmatch=True),
    st.sampled_from(
        [
            "",
            "EA",
            "CA>2",
            "SS",
            "RV",
            "05",
            "090",
            "20260229",
            "20261301",
            "2400",
            "ET",
            "XX",
            "VP",
            "A|B",
            " X ",
            "1,000",
            "-3",
            "99999999999999",
        ]
    ),
)


def check_867(data: bytes) -> None:
    try:
        reports = parse_867_all(io.BytesIO(data), received_at=RECEIVED)
    except X12Error as error:
        assert error.segment_index >= 1
        return
    for report in reports:
        assert isinstance(report, ParsedReport)
        for item in report.line_errors + report.report_errors:
            assert isinstance(item, LineError) and item.reason in REASONS_867
        if report.accepted:
            assert all(isinstance(s, SaleReported) for s in report.sales)
            assert len(report.sales) + len(report.line_errors) == report.line_count
            assert isinstance(report.submitted, ReportSubmitted)
            assert report.submitted.line_count == report.line_count
        else:
            assert report.sales == [] and report.submitted is None
    again = parse_867_all(io.BytesIO(data), received_at=RECEIVED)
    assert again == reports  # deterministic


def check_852(data: bytes) -> None:
    try:
        reports = parse_852_all(io.BytesIO(data), received_at=RECEIVED)
    except X12Error:
        return
    for report in reports:
        assert isinstance(report, ParsedActivity)
        assert all(isinstance(c, InventoryCounted) for c in report.counts)
        for item in report.line_errors + report.report_errors:
            assert item.reason in REASONS_852 or item.reason == "missing_item"
        if not report.accepted:
            assert report.counts == []


@st.composite
def mutations(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["replace", "delete", "insert", "truncate", "duplicate"]))
        if kind == "replace":
            data[at : at + 1] = draw(st.one_of(EDI_ALPHABET, st.binary(min_size=1, max_size=1)))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        elif kind == "insert":
            data[at:at] = draw(st.one_of(EDI_ALPHABET, st.binary(max_size=8)))
        elif kind == "truncate":
            del data[at:]
        else:
            end = min(len(data), at + draw(st.integers(1, 60)))
            data[at:at] = data[at:end]
    return bytes(data)


@st.composite
def element_edits(draw: st.DrawFn, base: bytes) -> bytes:
    """Replace element values of business segments: the envelope stays countable."""
    segments = base.decode("latin-1").split("~")
    for _ in range(draw(st.integers(1, 8))):
        index = draw(st.integers(0, len(segments) - 1))
        parts = segments[index].split("*")
        tag = parts[0].strip()
        if tag in ENVELOPE or len(parts) < 2:
            continue
        position = draw(st.integers(1, len(parts)))
        value = draw(ELEMENT_TEXT).replace("~", "").replace("*", "")
        if position == len(parts):
            parts.append(value)
        else:
            parts[position] = value
        segments[index] = "*".join(parts)
    return "~".join(segments).encode("utf-8")


@GARBAGE
@given(st.binary(max_size=400))
def test_random_bytes_only_raise_x12_error(data: bytes) -> None:
    try:
        for _ in tokenize(io.BytesIO(data)):
            pass
    except X12Error:
        pass
    check_867(data)
    check_852(data)


@GARBAGE
@given(st.lists(st.one_of(EDI_ALPHABET, st.binary(max_size=10)), max_size=60))
def test_random_bodies_after_a_valid_isa(parts: list[bytes]) -> None:
    data = isa().encode() + b"".join(parts)
    check_867(data)
    check_852(data)


@GARBAGE
@given(st.sampled_from(SAMPLE_867).flatmap(mutations))
def test_byte_mutations_of_a_valid_867(data: bytes) -> None:
    check_867(data)


@FUZZ
@given(st.sampled_from(SAMPLE_867).flatmap(element_edits))
def test_element_edits_of_a_valid_867(data: bytes) -> None:
    check_867(data)


@GARBAGE
@given(st.one_of(mutations(SAMPLE_852), element_edits(SAMPLE_852)))
def test_mutations_of_a_valid_852(data: bytes) -> None:
    check_852(data)


def check_csv(data: bytes) -> None:
    try:
        items = list(parse_csv(io.BytesIO(data), received_at=RECEIVED))
    except (CsvHeaderError, CsvFormatError):
        return
    for item in items:
        if isinstance(item, CsvLineError):
            assert item.reason in CSV_REASONS and item.line >= 2
        else:
            assert isinstance(item, SaleReported)


@GARBAGE
@given(st.binary(max_size=300))
def test_random_bytes_as_csv(data: bytes) -> None:
    check_csv(data)


@GARBAGE
@given(mutations(SAMPLE_CSV))
def test_mutations_of_a_valid_csv(data: bytes) -> None:
    check_csv(data)


@FUZZ
@given(st.lists(st.lists(ELEMENT_TEXT, min_size=8, max_size=9), max_size=5))
@example(rows=[["", "", "", "", "", "", "", "\r"]])  # whitespace-only cells: a blank record
@example(rows=[["\u2003"] * 8, [" "] * 8])
def test_random_cells_under_a_valid_header(rows: list[list[str]]) -> None:
    header = "distributor_id,transaction_id,reseller_id,sku,quantity,unit_price,currency,sold_at"
    lines = [",".join('"' + cell.replace('"', '""') + '"' for cell in row) for row in rows]
    data = "\n".join([header, *lines]).encode("utf-8", "surrogatepass")
    try:
        items = list(parse_csv(io.BytesIO(data), received_at=RECEIVED))
    except CsvFormatError:
        return
    non_blank = [row for row in rows if any(cell.strip() for cell in row)]
    assert len(items) == len(non_blank)
    for item in items:
        assert isinstance(item, SaleReported | CsvLineError)


# --- mutated valid reports: every input line read once --------------------------------


#: the uploader the generated reports are of
OURS = "DIST-001"


def refused(sent: Mutated, error: Exception) -> None:
    """A file refused as a whole: only when a mutation broke it as a whole, at the
    segment whose delimiter changed when that was it."""
    assert sent.structural, (sent.done, error)
    if sent.unreadable_segment is not None:
        assert isinstance(error, X12Error) and error.segment_index == sent.unreadable_segment


@FUZZ
@given(mutated_867())
def test_each_line_of_a_mutated_867_is_read_once(sent: Mutated) -> None:
    check_867(sent.data)
    try:
        reports = parse_867_all(
            io.BytesIO(sent.data), received_at=RECEIVED, distributor_id="DIST-001"
        )
    except X12Error as error:
        refused(sent, error)
        return
    assert [report.line_count for report in reports] == list(sent.report_lines), sent.done
    for report in reports:
        lines = sorted(e.line or 0 for e in report.line_errors)
        if report.accepted:
            assert len(report.sales) + len(report.line_errors) == report.line_count
        assert len(set(lines)) == len(lines) and set(lines) <= set(range(1, report.line_count + 1))


@FUZZ
@given(mutated_852())
def test_each_count_of_a_mutated_852_is_read_once(sent: Mutated) -> None:
    check_852(sent.data)
    try:
        reports = parse_852_all(
            io.BytesIO(sent.data), received_at=RECEIVED, distributor_id="DIST-001"
        )
    except X12Error as error:
        refused(sent, error)
        return
    assert len(reports) == len(sent.report_segments), sent.done
    for report, expected in zip(reports, sent.report_segments, strict=True):
        read = [
            *report.count_segments,
            *(error.segment_index for error in report.line_errors),
            *(segment for segment, _ in report.withheld),
        ]
        assert sorted(read) == sorted(expected), (sent.done, report)
        if report.accepted:
            assert report.withheld == []
        else:
            assert report.counts == []


@FUZZ
@given(mutated_csv())
def test_each_line_of_a_mutated_csv_is_read_once(sent: Mutated) -> None:
    check_csv(sent.data)
    try:
        items = list(
            parse_csv_lines(io.BytesIO(sent.data), received_at=RECEIVED, distributor_id="DIST-001")
        )
    except (CsvHeaderError, CsvFormatError) as error:
        refused(sent, error)
        return
    assert [number for number, _, _ in items] == list(sent.csv_lines), sent.done
    for number, item, _ in items:
        assert isinstance(item, SaleReported) or item.line == number
