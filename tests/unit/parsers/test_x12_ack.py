"""The X12 acknowledgements (TA1, 997) of a received interchange, read back by the
project's own tokenizer."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from streams.ingest.parsers.common import LineError
from streams.ingest.parsers.edi867 import parse_867_all
from streams.ingest.parsers.x12 import Segment, X12Error, tokenize
from streams.ingest.parsers.x12_ack import Finding, acknowledgement, received
from streams.ingest.parsers.x12_ack_codes import (
    ELEMENT_CODES,
    GROUP_CODES,
    SEGMENT_CODES,
    SET_CODES,
    TA1_NOTES,
)
from tests.unit.parsers.conftest import RECEIVED_AT, SAMPLES
from tests.unit.parsers.edi_builder import interchange

AT = datetime(2026, 4, 7, 10, 30, tzinfo=UTC)
HEADER = [
    "BPT*00*R1*20260406",
    "DTM*090*20260330",
    "DTM*091*20260405",
    "N1*DS*ACME*91*DIST-001",
]
LINE = ["PTD*SS", "N1*ST*R*91*RES-1", "DTM*003*20260401", "LIN*1*VP*W-1", "QTY*39*2*EA"]


def ack_of(
    data: bytes,
    findings: Sequence[Finding] = (),
    failure: X12Error | None = None,
    resent: bool = False,
) -> list[Segment]:
    """The acknowledgement of `data`, as the project's tokenizer reads it back (which
    checks its envelope: control numbers and counts)."""
    got = received(io.BytesIO(data), {finding.segment for finding in findings})
    assert got is not None
    written = acknowledgement(got, findings, control=42, at=AT, failure=failure, resent=resent)
    segments = list(tokenize(io.BytesIO(written)))
    _check_codes(segments)
    return segments


def _check_codes(segments: list[Segment]) -> None:
    """Every code written is one of X12's lists."""
    for seg in segments:
        if seg.tag == "TA1":
            assert seg.get(4) in "AER" and seg.get(5) in TA1_NOTES
        elif seg.tag == "AK3":
            assert seg.get(4) in ("", *SEGMENT_CODES)  # AK304 is optional
        elif seg.tag == "AK4":
            assert seg.get(3) in ELEMENT_CODES
        elif seg.tag == "AK5":
            assert seg.get(1) in "AER" and seg.get(2) in ("", *SET_CODES)
        elif seg.tag == "AK9":
            assert seg.get(1) in "AEPR" and seg.get(5) in ("", *GROUP_CODES)


def texts(segments: list[Segment], *tags: str) -> list[str]:
    return [seg.text for seg in segments if seg.tag in tags]


def test_a_clean_interchange_is_accepted_by_a_997_turned_round() -> None:
    data = (SAMPLES / "867_weekly.edi").read_bytes()
    ack = ack_of(data)
    isa = ack[0]
    assert (isa.get(5), isa.get(6), isa.get(7), isa.get(8)) == ("ZZ", "VENDORCO", "ZZ", "ACMEDIST")
    assert (isa.get(12), isa.get(13), isa.get(14), isa.get(15)) == ("00401", "000000042", "0", "P")
    assert texts(ack, "GS")[0].startswith("GS*FA*VENDORCO*ACMEDIST*20260407*1030*42*X*004010")
    assert texts(ack, "ST", "AK1", "AK2", "AK5", "AK9", "TA1") == [
        "ST*997*0001~",
        "AK1*PT*101~",
        "AK2*867*0001~",
        "AK5*A~",
        "AK9*A*1*1*1~",
    ]


def test_line_errors_are_named_by_segment_position_and_element() -> None:
    data = (SAMPLES / "867_line_errors.edi").read_bytes()
    (report,) = parse_867_all(io.BytesIO(data), received_at=RECEIVED_AT, distributor_id="DIST-001")
    assert report.line_errors and not report.report_errors
    findings = [finding_of(error) for error in report.line_errors]
    ack = ack_of(data, findings)
    notes = texts(ack, "AK2", "AK3", "AK4", "AK5", "AK9")
    # QTY*39*TEN (segment 16 of the interchange, 14th of the set): QTY02 not a number
    assert "AK3*QTY*14**8~" in notes
    assert notes[notes.index("AK3*QTY*14**8~") + 1] == "AK4*2**6*TEN~"
    # line 3 (LIN 16, QTY 17 of the set) has no price: its UIT would have stood at 18
    assert "AK3*UIT*18**3~" in notes
    # DTM*003*20261341: an invalid date, its value copied
    assert any(note.startswith("AK4*2**8*20261341") for note in notes)
    assert notes[-2:] == ["AK5*E*5~", "AK9*E*1*1*1~"]


def finding_of(error: LineError, whole: bool = False) -> Finding:
    return Finding(error.segment_index, error.element, error.reason, whole, error.missing)


def test_a_report_error_rejects_its_set_and_the_group_is_partly_accepted() -> None:
    unnumbered = ["BPT*00**20260406", *HEADER[1:]]
    data = interchange([*HEADER, *LINE, "CTT*1"], [*unnumbered, *LINE, "CTT*1"])
    # the second set's BPT (its ST is segment 15, the BPT 16) without its report number
    ack = ack_of(data, [Finding(16, "BPT02", "missing_report_number", whole=True)])
    assert texts(ack, "AK2", "AK3", "AK4", "AK5", "AK9") == [
        "AK2*867*0001~",
        "AK5*A~",
        "AK2*867*0002~",
        "AK3*BPT*2**8~",
        "AK4*2**1~",
        "AK5*R*5~",
        "AK9*P*2*2*1~",
    ]


def test_a_finding_without_element_is_a_segment_note() -> None:
    data = interchange([*HEADER, *LINE, "CTT*1"])
    # a report's error answers its lines too: found twice, noted once, rejecting the set
    found = [Finding(5, None, "missing_period", whole=True), Finding(5, None, "missing_period")]
    ack = ack_of(data, found)
    assert texts(ack, "AK3", "AK5", "AK9") == ["AK3*DTM*3**3~", "AK5*R*5~", "AK9*R*1*1*0~"]


def test_isa14_asks_for_a_ta1_before_the_997() -> None:
    data = interchange([*HEADER, *LINE]).replace(b"*000000101*0*P*", b"*000000101*1*P*")
    ack = ack_of(data)
    assert [seg.tag for seg in ack[:3]] == ["ISA", "TA1", "GS"]
    assert ack[1].text == "TA1*000000101*260406*0830*A*000~"


@pytest.mark.parametrize("isa14", [b"0", b"1"])
def test_a_resent_interchange_is_noted_025_asked_for_or_not(isa14: bytes) -> None:
    """Received before: a TA1 E / 025 (duplicate interchange control number) in place of
    the A / 000 that ISA14 = 1 asks for, and alone when it asks for none; the 997 is the
    one its sets earn."""
    data = interchange([*HEADER, *LINE]).replace(
        b"*000000101*0*P*", b"*000000101*" + isa14 + b"*P*"
    )
    ack = ack_of(data, [Finding(12, "QTY02", "bad_quantity")], resent=True)
    assert [seg.tag for seg in ack[:3]] == ["ISA", "TA1", "GS"]
    assert ack[1].text == "TA1*000000101*260406*0830*E*025~"
    assert texts(ack, "TA1") == ["TA1*000000101*260406*0830*E*025~"]
    assert texts(ack, "AK3", "AK5", "AK9") == ["AK3*QTY*10**8~", "AK5*E*5~", "AK9*E*1*1*1~"]


def test_a_resent_interchange_refused_for_its_envelope_is_rejected_as_ever() -> None:
    data = interchange([*HEADER, *LINE]).replace(b"IEA*1*000000101", b"IEA*2*000000101")
    assert texts(ack_of(data, resent=True), "TA1") == ["TA1*000000101*260406*0830*R*021~"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # SE01 counts one segment too many: the set is rejected for its count
        ((b"SE*11*0001", b"SE*12*0001"), ["AK2*867*0001~", "AK5*R*4~", "AK9*R*1*1*0~"]),
        # SE02 is not ST02
        ((b"SE*11*0001", b"SE*11*0009"), ["AK2*867*0001~", "AK5*R*3~", "AK9*R*1*1*0~"]),
        # GE01 counts two sets for one
        ((b"GE*1*101", b"GE*2*101"), ["AK2*867*0001~", "AK5*R~", "AK9*R*1*1*0*5~"]),
        # GE02 is not GS06
        ((b"GE*1*101", b"GE*1*102"), ["AK2*867*0001~", "AK5*R~", "AK9*R*1*1*0*4~"]),
    ],
)
def test_a_structural_error_rejects_with_the_code_of_what_broke(
    change: tuple[bytes, bytes], expected: list[str]
) -> None:
    data = interchange([*HEADER, *LINE]).replace(*change)
    ack = ack_of(data)
    assert texts(ack, "AK2", "AK5", "AK9") == expected


def test_the_input_ending_inside_a_set_says_its_trailer_is_missing() -> None:
    data = interchange([*HEADER, *LINE])
    cut = data[: data.index(b"SE*")]
    assert texts(ack_of(cut), "AK2", "AK5", "AK9") == ["AK2*867*0001~", "AK5*R*2~", "AK9*R*1*1*0~"]


@pytest.mark.parametrize(
    ("change", "note"),
    [
        ((b"IEA*1*000000101", b"IEA*1*000000102"), "001"),
        ((b"IEA*1*000000101", b"IEA*2*000000101"), "021"),
        # GS06 missing: the group cannot be read
        ((b"*0830*101*X*", b"*0830**X*"), "024"),
    ],
)
def test_an_envelope_error_is_a_ta1_rejection_alone(change: tuple[bytes, bytes], note: str) -> None:
    data = interchange([*HEADER, *LINE]).replace(*change)
    ack = ack_of(data)
    assert [seg.tag for seg in ack] == ["ISA", "TA1", "IEA"]
    assert ack[1].text == f"TA1*000000101*260406*0830*R*{note}~"
    assert ack[-1].get(1) == "0"


def test_the_failure_of_a_later_reading_rejects_every_set() -> None:
    """The gateway's parser stops at a set of another kind: everything is rejected, the
    set at fault as not supported."""
    data = interchange([*HEADER, *LINE], [*HEADER, *LINE])
    data = data.replace(b"ST*867*0002", b"ST*852*0002")
    failure = X12Error(14, 1, "expected an 867 transaction set, found ST01 '852'", "ST")
    assert texts(ack_of(data, failure=failure), "AK2", "AK5", "AK9") == [
        "AK2*867*0001~",
        "AK5*R~",
        "AK2*852*0002~",
        "AK5*R*1~",
        "AK9*R*2*2*0~",
    ]


def test_version_5010_is_answered_in_5010() -> None:
    data = interchange([*HEADER, *LINE]).replace(b"*U*00401*", b"*^*00501*")
    data = data.replace(b"*X*004010", b"*X*005010")
    ack = ack_of(data)
    assert (ack[0].get(11), ack[0].get(12)) == ("^", "00501")
    assert texts(ack, "GS")[0].endswith("*X*005010~")


def test_a_group_of_acknowledgements_is_not_acknowledged() -> None:
    data = interchange(["AK1*PT*101", "AK9*A*1*1*1"], functional_id="FA", set_id="997")
    ack = ack_of(data)
    assert [seg.tag for seg in ack] == ["ISA", "TA1", "IEA"]
    assert ack[1].get(4) == "A"


def test_a_value_x12_cannot_carry_is_not_copied() -> None:
    """The received interchange separates elements with "|": a "*" in a value cannot go
    into the acknowledgement's AK404."""
    data = interchange([*HEADER, *LINE[:4], "QTY*39*2*EA"], element="|")
    data = data.replace(b"QTY|39|2|EA", b"QTY|39|2*|EA")
    ack = ack_of(data, [Finding(12, "QTY02", "bad_quantity")])
    assert texts(ack, "AK3", "AK4") == ["AK3*QTY*10**8~", "AK4*2**6~"]


def test_no_readable_isa_no_acknowledgement() -> None:
    assert received(io.BytesIO(b"not x12 at all")) is None
