"""Every finding of the X12 parsers gets a truthful outcome in the 997: AK304 8 (segment
has data element errors) only with the AK4s that name those elements; without one, the
segment code that fits (missing, out of place, repeated), or no code where X12 has none."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.ingest.parsers.common import LineError
from streams.ingest.parsers.edi844 import parse_844_all
from streams.ingest.parsers.edi844_codes import REASONS as REASONS_844
from streams.ingest.parsers.edi852 import REASONS as REASONS_852
from streams.ingest.parsers.edi852 import parse_852_all
from streams.ingest.parsers.edi867 import REASONS as REASONS_867
from streams.ingest.parsers.edi867 import parse_867_all
from streams.ingest.parsers.x12 import Segment, X12Error, tokenize
from streams.ingest.parsers.x12_ack import Finding
from streams.ingest.parsers.x12_ack_codes import (
    ELEMENT_ERRORS,
    REASON_SEGMENT_CODES,
    REASON_SET_CODES,
    SEGMENT_CODES,
    SEGMENT_MISSING,
)
from tests.unit.parsers.conftest import RECEIVED_AT, SAMPLES
from tests.unit.parsers.edi_builder import interchange
from tests.unit.parsers.mutated_common import Mutated
from tests.unit.parsers.mutated_x12 import mutated_852, mutated_867
from tests.unit.parsers.test_edi844 import HEADER as CLAIM_HEADER
from tests.unit.parsers.test_edi844 import LINE as CLAIM_LINE
from tests.unit.parsers.test_x12_ack import HEADER, LINE, ack_of

ALL_REASONS = sorted({*REASONS_867, *REASONS_852, *REASONS_844})
#: the reasons about a segment (not the set itself, answered by its AK5 alone)
SEGMENT_REASONS = [reason for reason in ALL_REASONS if reason not in REASON_SET_CODES]
#: the one reason without a syntax code of its own: a value the wire schema refuses
NO_CODE = "invalid_field"
#: two 867 sets: ISA 1, GS 2, then ST 3 … SE 14 and ST 15 … SE 26
TWO_SETS = interchange([*HEADER, *LINE, "CTT*1"], [*HEADER, *LINE, "CTT*1"])
#: names of elements, of the sets' segments and not (a wire field's name, too)
ELEMENTS = [None, "BPT02", "DTM02", "N104", "PTD01", "LIN01", "LIN03", "QTY02", "CTT01", "sku"]


def notes(ack: list[Segment]) -> list[tuple[Segment, list[Segment]]]:
    """Each AK3 with the AK4s after it."""
    found: list[tuple[Segment, list[Segment]]] = []
    for seg in ack:
        if seg.tag == "AK3":
            found.append((seg, []))
        elif seg.tag == "AK4":
            found[-1][1].append(seg)
    return found


def assert_truthful(ack: list[Segment]) -> None:
    """AK304 8 exactly when AK4s follow; otherwise a segment code of X12's list, or none."""
    for ak3, elements in notes(ack):
        code = ak3.get(4)
        assert (code == ELEMENT_ERRORS) == bool(elements), (ak3.text, [e.text for e in elements])
        assert code == "" or code in SEGMENT_CODES


finding = st.builds(
    Finding,
    segment=st.integers(3, 26),
    element=st.sampled_from(ELEMENTS),
    reason=st.sampled_from(ALL_REASONS),
    whole=st.booleans(),
)


@given(st.lists(finding, min_size=1, max_size=8))
def test_an_ak3_with_8_is_always_followed_by_an_ak4(findings: list[Finding]) -> None:
    assert_truthful(ack_of(TWO_SETS, findings))


@pytest.mark.parametrize("reason", SEGMENT_REASONS)
def test_each_reason_without_an_element_of_its_segment(reason: str) -> None:
    # segment 8 is the first set's PTD (6th of its set): QTY02 is no element of it either
    code = REASON_SEGMENT_CODES.get(reason)
    for element in (None, "QTY02"):
        ((ak3, elements),) = notes(ack_of(TWO_SETS, [Finding(8, element, reason)]))
        assert (ak3.text, elements) == (f"AK3*PTD*6**{code}~" if code else "AK3*PTD*6~", [])


@pytest.mark.parametrize("reason", SEGMENT_REASONS)
def test_each_reason_naming_an_element_of_its_segment(reason: str) -> None:
    ((ak3, elements),) = notes(ack_of(TWO_SETS, [Finding(8, "PTD01", reason)]))
    assert ak3.text == "AK3*PTD*6**8~"
    assert [element.get(1) for element in elements] == ["1"]


def findings_of(errors: Iterable[LineError]) -> list[Finding]:
    return [Finding(e.segment_index, e.element, e.reason, missing=e.missing) for e in errors]


def assert_coded(data: bytes, findings: list[Finding]) -> None:
    """The 997 of the parsers' `findings` is truthful, and a segment none of whose findings
    names one of its elements has a segment code, but for a value the wire schema refuses."""
    assert_truthful(ack_of(data, findings))
    tags = {seg.index: seg.tag for seg in tokenize(io.BytesIO(data))}
    by_segment: dict[int, list[Finding]] = {}
    for found in findings:
        by_segment.setdefault(found.segment, []).append(found)
    for index, at in by_segment.items():
        if not any(re.fullmatch(rf"{tags[index]}\d\d", f.element or "") for f in at):
            reasons = {f.reason for f in at}
            assert reasons & REASON_SEGMENT_CODES.keys() or reasons == {NO_CODE}, at


@settings(max_examples=300, deadline=None)
@given(st.one_of(mutated_867(), mutated_852()))
def test_the_867_and_852_parser_findings_have_truthful_outcomes(mutated: Mutated) -> None:
    parse = parse_867_all if mutated.format == "867" else parse_852_all
    try:
        reports = parse(io.BytesIO(mutated.data), received_at=RECEIVED_AT)
    except X12Error:
        return
    errors = [e for report in reports for e in (*report.line_errors, *report.report_errors)]
    assert_coded(mutated.data, findings_of(errors))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, len(CLAIM_LINE) - 1), max_size=3),
    st.sampled_from(["LIN*1*VP*WIDGET-100", "LIN*1*SN*W", "LIN*1*VP", "LIN*1", "LIN*x*VP*W"]),
)
def test_the_844_parser_findings_have_truthful_outcomes(dropped: list[int], lin: str) -> None:
    """A claim line without some of its segments, or with a LIN naming no item."""
    line = [seg for at, seg in enumerate([lin, *CLAIM_LINE[1:]]) if at == 0 or at not in dropped]
    data = interchange([*CLAIM_HEADER, *line, "CTT*1"], functional_id="CF", set_id="844")
    (claim,) = parse_844_all(io.BytesIO(data), received_at=RECEIVED_AT, distributor_id="DIST-001")
    assert_coded(data, findings_of([*claim.line_errors, *claim.claim_errors]))


def test_the_844_sample_line_errors_are_named_by_element_or_segment() -> None:
    data = (SAMPLES / "844_line_errors.edi").read_bytes()
    (claim,) = parse_844_all(io.BytesIO(data), received_at=RECEIVED_AT, distributor_id="DIST-001")
    findings = findings_of([*claim.line_errors, *claim.claim_errors])
    assert_coded(data, findings)
    codes = [ak3.get(4) for ak3, _ in notes(ack_of(data, findings))]
    assert "" not in codes and len(codes) == len(findings)


@pytest.mark.parametrize(
    ("lin", "note"),
    [
        ("LIN*1*SN*123", "AK4*2**7*SN~"),  # a qualifier not known: its code is not accepted
        ("LIN*1*VP", "AK4*3**1~"),  # a known qualifier without its id: missing
        ("LIN*1", "AK4*2**1~"),  # no item at all: the first qualifier missing
    ],
)
def test_a_lin_naming_no_item_is_answered_by_the_element_at_fault(lin: str, note: str) -> None:
    sale = interchange([*HEADER, "PTD*SS", "N1*ST*R*91*RES-1", lin, "QTY*39*2*EA"])
    (report,) = parse_867_all(io.BytesIO(sale), received_at=RECEIVED_AT)
    claim = interchange([*CLAIM_HEADER, lin, *CLAIM_LINE[1:]], functional_id="CF", set_id="844")
    (claimed,) = parse_844_all(io.BytesIO(claim), received_at=RECEIVED_AT)
    for data, errors in ((sale, report.line_errors), (claim, claimed.line_errors)):
        found = findings_of(e for e in errors if e.reason == "missing_item")
        ((ak3, elements),) = notes(ack_of(data, found))
        assert (ak3.get(1), ak3.get(4), [e.text for e in elements]) == ("LIN", "8", [note])


def missing_notes(data: bytes, findings: list[Finding]) -> list[tuple[str, int]]:
    """The segments the 997 says are missing (AK304 3): their ID and position in the set."""
    return [
        (ak3.get(1), int(ak3.get(2)))
        for ak3, _ in notes(ack_of(data, findings))
        if ak3.get(4) == SEGMENT_MISSING
    ]


def lines_without(lines: list[list[str]], line: int, at: int) -> tuple[list[str], tuple[str, int]]:
    """The lines' segments with segment `at` of line `line` left out, and that segment's
    ID and position among them (the first counted 1)."""
    before = sum(len(segments) for segments in lines[:line])
    kept = [
        seg
        for n, segments in enumerate(lines)
        for k, seg in enumerate(segments)
        if (n, k) != (line, at)
    ]
    return kept, (lines[line][at].split("*")[0], before + at + 1)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_missing_867_line_segment_is_named_where_it_would_have_stood(data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 4))
    lines = [[f"LIN*{n}*VP*W-{n}", f"QTY*39*{n}*EA", "UIT*EA*1.50"] for n in range(1, count + 1)]
    line, at = data.draw(st.integers(0, count - 1)), data.draw(st.integers(0, 2))
    if at == 0:  # a LIN left out but the last: its QTY, UIT and the next LIN read as one
        line = count - 1  # line in QTY-loop order (QTY first), the next one without LIN
    body, (tag, position) = lines_without(lines, line, at)
    sent = interchange([*HEADER, *LINE[:3], *body])
    (report,) = parse_867_all(io.BytesIO(sent), received_at=RECEIVED_AT)
    # the set's ST is 1, its heading and the PTD loop's own segments come before the lines
    expected = (tag, 1 + len(HEADER) + 3 + position)
    assert missing_notes(sent, findings_of(report.line_errors)) == [expected]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_missing_844_line_segment_is_named_where_it_would_have_stood(data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 3))
    lines = [
        [f"LIN*{n}*VP*WIDGET-100", f"REF*TN*INV1-{n}", *CLAIM_LINE[2:]] for n in range(1, count + 1)
    ]
    line, at = data.draw(st.integers(0, count - 1)), data.draw(st.integers(1, 5))
    body, (tag, position) = lines_without(lines, line, at)
    sent = interchange([*CLAIM_HEADER, *body, f"CTT*{count}"], functional_id="CF", set_id="844")
    (claim,) = parse_844_all(io.BytesIO(sent), received_at=RECEIVED_AT, distributor_id="DIST-001")
    found = findings_of([*claim.line_errors, *claim.claim_errors])
    assert missing_notes(sent, found) == [(tag, 1 + len(CLAIM_HEADER) + position)]


def test_an_867_line_with_a_ctp_but_no_price_names_ctp03() -> None:
    sent = interchange([*HEADER, *LINE, "CTP**RES"])
    (report,) = parse_867_all(io.BytesIO(sent), received_at=RECEIVED_AT)
    ((ak3, elements),) = notes(ack_of(sent, findings_of(report.line_errors)))
    assert (ak3.text, [e.text for e in elements]) == ("AK3*CTP*11**8~", ["AK4*3**1~"])
