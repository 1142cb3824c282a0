"""A rejected line's every problem is named in the 997, not only the first: one AK3 per
segment at fault (with the AK4 of its element), one per segment missing. Driven the way an
upload is (tests/unit/parsers/test_x12_ack_headings.py's `uploaded`)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.ingest.parsers.x12 import Segment
from streams.ingest.parsers.x12_ack_codes import SEGMENT_MISSING
from tests.unit.parsers.edi_builder import interchange
from tests.unit.parsers.test_x12_ack_headings import missing_named, uploaded

HEADING_867 = ["BPT*00*R1*20260406", "DTM*090*20260330", "DTM*091*20260405", "N1*DS*D*91*DIST-001"]

#: a PTD loop's segments, each with the same segment spoilt and the element (its position)
#: then at fault
LOOP_867 = {
    "DTM": ("DTM*003*20260401", "DTM*003*2026XX01", 2),
    "N1": ("N1*ST*RESELLER*91*RES-1", "N1*ST*RESELLER*91", 4),
    "LIN": ("LIN*1*VP*W-1", "LIN*1*VP*", 3),
    "QTY": ("QTY*39*2*EA", "QTY*39*X*EA", 2),
    "UIT": ("UIT*EA*1.50", "UIT*EA*ABC", 2),
}

LINE_844 = {
    "QTY": ("QTY*39*10*EA", "QTY*39*X*EA", 2),
    "UIT": ("UIT*EA*11.40", "UIT*EA*A1.40", 2),
    "CTP": ("CTP**CON*8.90", "CTP**CON*8,90", 3),
    "AMT": ("AMT*DB*25.00", "AMT*DB*-25.00", 2),
}


def spoilt(segments: dict[str, tuple[str, str, int]], which: frozenset[str]) -> list[str]:
    return [bad if tag in which else good for tag, (good, bad, _) in segments.items()]


def named(ack: list[Segment]) -> set[tuple[str, int, int]]:
    """Each AK3 of a segment in error: its ID, its position in the set, its AK4's element."""
    found: set[tuple[str, int, int]] = set()
    for at, seg in enumerate(ack):
        if seg.tag == "AK3" and seg.get(4) != SEGMENT_MISSING:
            assert ack[at + 1].tag == "AK4", "an element error has its AK4"
            found.add((seg.get(1), int(seg.get(2)), int(ack[at + 1].get(1))))
    return found


@settings(max_examples=60, deadline=None)
@given(st.frozensets(st.sampled_from(sorted(LOOP_867)), min_size=1), st.booleans())
def test_every_problem_of_an_867_line_is_named(which: frozenset[str], second: bool) -> None:
    loop = spoilt(LOOP_867, which)
    extra = ["LIN*2*VP*W-2", "QTY*39*1*EA", "UIT*EA*1.50"] if second else []
    body = [*HEADING_867, "PTD*SS", *loop, *extra, f"CTT*{1 + second}"]
    _, ack = uploaded("867", interchange(body))
    first = len(HEADING_867) + 3  # ST is 1, then the heading, then PTD
    expected = {
        (tag, first + at, LOOP_867[tag][2]) for at, tag in enumerate(LOOP_867) if tag in which
    }
    assert named(ack) == expected


@settings(max_examples=40, deadline=None)
@given(st.frozensets(st.sampled_from(sorted(LINE_844)), min_size=1))
def test_every_problem_of_an_844_line_is_named(which: frozenset[str]) -> None:
    line = ["REF*TN*INV1-1", *spoilt(LINE_844, which)]
    head = ["BAA*00*C-1*20260420", "N1*DS*ACME*91*DIST-001", "CON*CT*SPA-1", "LIN*1*VP*W-100"]
    _, ack = uploaded("844", interchange([*head, *line, "CTT*1"], functional_id="CF", set_id="844"))
    first = len(head) + 3  # ST is 1, then the heading and LIN, then REF
    expected = {
        (tag, first + at, LINE_844[tag][2]) for at, tag in enumerate(LINE_844) if tag in which
    }
    assert named(ack) == expected


def test_a_ptd_loop_without_its_sale_date_and_reseller_names_both() -> None:
    body = [*HEADING_867, "PTD*SS", "LIN*1*VP*W-1", "QTY*39*2*EA", "UIT*EA*1.50", "CTT*1"]
    _, ack = uploaded("867", interchange(body))
    lin = len(HEADING_867) + 3
    assert missing_named(ack) == [("DTM", lin), ("N1", lin)]
