"""A report's or a claim's missing heading segment, and a PTD loop's missing sale date or
reseller, are named in the 997 as X12 asks: AK301 the segment's ID, AK302 where it would
have stood in the set, AK304 3. Driven the way an upload is (its items read, noted by
the acknowledgement's watch, the report errors taken from the answer's report info)."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.roles import Role
from streams.auth import Principal
from streams.ingest.acks import AckWatch
from streams.ingest.formats import read
from streams.ingest.formats.upload import SOURCES, Format, Item, ReportClosed, Stored, Upload
from streams.ingest.parsers.x12 import Segment, tokenize
from streams.ingest.parsers.x12_ack_codes import SEGMENT_MISSING
from tests.unit.parsers.edi_builder import interchange

AT = datetime(2026, 4, 7, 10, 30, tzinfo=UTC)
#: an admin's upload on no distributor's behalf: a report must name its distributor
ADMIN = Principal("test", Role.ADMIN)


@dataclass(frozen=True)
class Sent:
    """A valid set's segments, in parts (a segment, or an N1 loop with its N3 / N4), and
    the part left out: its ID and its position in the set (ST is 1)."""

    parts: list[list[str]]
    left_out: int

    def body(self) -> list[str]:
        return [seg for at, part in enumerate(self.parts) if at != self.left_out for seg in part]

    def missing(self) -> tuple[str, int]:
        before = sum(len(part) for part in self.parts[: self.left_out])
        return self.parts[self.left_out][0].split("*")[0], 2 + before


def optional(draw: st.DrawFn, *parts: list[str]) -> list[list[str]]:
    return [part for part in parts if draw(st.booleans())]


def n1_loop(draw: st.DrawFn, n1: str) -> list[str]:
    """An N1 and, maybe, its address (N3, N4)."""
    return [n1, *[seg for seg in ("N3*1 MAIN ST", "N4*AUSTIN*TX*78701") if draw(st.booleans())]]


def parties(draw: st.DrawFn, before: str, mandatory: str, after: str) -> list[list[str]]:
    """N1 loops in their qualifiers' order: maybe one before the mandatory one, maybe one
    after it."""
    first = optional(draw, n1_loop(draw, before))
    return [*first, n1_loop(draw, mandatory), *optional(draw, n1_loop(draw, after))]


@st.composite
def heading_867(draw: st.DrawFn) -> list[list[str]]:
    return [
        ["BPT*00*R1*20260406"],
        *optional(draw, ["CUR*SE*USD"], ["DTM*036*20260301"]),
        ["DTM*090*20260330"],
        ["DTM*091*20260405"],
        *optional(draw, ["DTM*097*20260406"], ["REF*IA*V-17"], ["PER*IC*SALES DESK"]),
        *parties(draw, "N1*BY*BUYER*91*B-1", "N1*DS*ACME*91*DIST-001", "N1*SU*VENDOR*91*V-1"),
    ]


@st.composite
def ptd_loop(draw: st.DrawFn, first_line: int) -> list[list[str]]:
    """A PTD loop's own segments in their order, then its lines (one part)."""
    lines = draw(st.integers(1, 2))
    body = [
        seg
        for n in range(first_line, first_line + lines)
        for seg in (f"LIN*{n}*VP*W-{n}", f"QTY*39*{n}*EA", "UIT*EA*1.50")
    ]
    return [
        ["PTD*SS"],
        *optional(draw, ["DTM*002*20260325"]),
        ["DTM*003*20260401"],
        *optional(draw, ["REF*IV*INV-1"]),
        *parties(draw, "N1*BT*BILL-TO*91*BT-1", "N1*ST*RESELLER*91*RES-1", "N1*SU*VENDOR*91*V-1"),
        body,
    ]


@st.composite
def sent_867(draw: st.DrawFn, in_heading: bool) -> Sent:
    """An 867 with a heading segment left out, or one of a PTD loop's own."""
    heading = draw(heading_867())
    loops = [draw(ptd_loop(1)), draw(ptd_loop(3))][: draw(st.integers(1, 2))]
    lines = sum(len(loop[-1]) // 3 for loop in loops)
    parts = [*heading, *(part for loop in loops for part in loop), [f"CTT*{lines}"]]
    if in_heading:
        mandatory = [
            at for at, part in enumerate(heading) if _is(part, "BPT", "DTM*090", "DTM*091", "N1*DS")
        ]
        return Sent(parts, draw(st.sampled_from(mandatory)))
    loop = draw(st.integers(0, len(loops) - 1))
    before = len(heading) + sum(len(each) for each in loops[:loop])
    mandatory = [
        before + at for at, part in enumerate(loops[loop]) if _is(part, "DTM*003", "N1*ST")
    ]
    return Sent(parts, draw(st.sampled_from(mandatory)))


def _is(part: list[str], *starts: str) -> bool:
    return part[0].startswith(starts)


@st.composite
def sent_852(draw: st.DrawFn) -> Sent:
    parts = [
        ["XQ*H*20260330*20260405*INV-W14"],
        *optional(draw, ["N9*IA*V-17"], ["PER*IC*STOCK DESK"]),
        *parties(draw, "N1*BY*BUYER*91*B-1", "N1*DS*ACME*91*DIST-001", "N1*SU*VENDOR*91*V-1"),
        ["LIN**VP*WIDGET-100", "ZA*QA*3*EA"],
        ["CTT*1"],
    ]
    mandatory = [at for at, part in enumerate(parts) if _is(part, "XQ", "N1*DS")]
    return Sent(parts, draw(st.sampled_from(mandatory)))


@st.composite
def sent_844(draw: st.DrawFn) -> Sent:
    line = ["REF*TN*INV1-1", "QTY*39*10*EA", "UIT*EA*11.40", "CTP**CON*8.90", "AMT*DB*25.00"]
    parts = [
        ["BAA*00*C-1*20260420"],
        *optional(draw, ["CUR*SE*USD"], ["REF*IA*V-17"], ["DTM*050*20260419"]),
        *parties(draw, "N1*BY*BUYER*91*B-1", "N1*DS*ACME*91*DIST-001", "N1*SU*VENDOR*91*V-1"),
        ["CON*CT*SPA-1", "LIN*1*VP*WIDGET-100", *line],
        ["CTT*1"],
    ]
    mandatory = [at for at, part in enumerate(parts) if _is(part, "BAA", "N1*DS")]
    return Sent(parts, draw(st.sampled_from(mandatory)))


def uploaded(fmt: Format, data: bytes) -> tuple[list[Item], list[Segment]]:
    """What reading the upload yields, and the acknowledgement its watch writes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.edi"
        path.write_bytes(data)
        upload = Upload(fmt, "upload.edi", ADMIN, AT, "0" * 64, SOURCES[fmt])
        watch = AckWatch()
        items = list(watch.watch(read(upload, Stored(path)), fmt))
        ack = watch.acknowledgement(Stored(path), "0" * 64, AT)
    assert ack is not None
    return items, list(tokenize(io.BytesIO(ack)))


def missing_named(ack: list[Segment]) -> list[tuple[str, int]]:
    return [
        (s.get(1), int(s.get(2))) for s in ack if s.tag == "AK3" and s.get(4) == SEGMENT_MISSING
    ]


def set_answer(ack: list[Segment]) -> str:
    (ak5,) = [seg.text for seg in ack if seg.tag == "AK5"]
    return ak5


def answered_missing(items: list[Item]) -> list[dict[str, object]]:
    """What the answer's report info says is missing."""
    return [
        problem["missing"]
        for item in items
        if isinstance(item, ReportClosed)
        for problem in item.info["report_errors"]
        if problem["missing"] is not None
    ]


@settings(max_examples=80, deadline=None)
@given(sent_867(in_heading=True))
def test_an_867_heading_segment_left_out_is_named_and_rejects_the_set(got: Sent) -> None:
    items, ack = uploaded("867", interchange(got.body()))
    tag, position = got.missing()
    assert missing_named(ack) == [(tag, position)]
    assert set_answer(ack) == "AK5*R*5~"
    # the answer says it too: which segment, and the segment it belongs before
    assert {(m["id"], m["before"]) for m in answered_missing(items)} == {(tag, position + 2)}


@settings(max_examples=80, deadline=None)
@given(sent_867(in_heading=False))
def test_a_ptd_loop_segment_left_out_is_named_and_its_lines_are_errors(got: Sent) -> None:
    _, ack = uploaded("867", interchange(got.body()))
    assert missing_named(ack) == [got.missing()]
    assert set_answer(ack) == "AK5*E*5~"


@settings(max_examples=60, deadline=None)
@given(sent_852())
def test_an_852_heading_segment_left_out_is_named_and_rejects_the_set(got: Sent) -> None:
    items, ack = uploaded("852", interchange(got.body(), functional_id="PD", set_id="852"))
    tag, position = got.missing()
    assert missing_named(ack) == [(tag, position)]
    assert set_answer(ack) == "AK5*R*5~"
    assert {(m["id"], m["before"]) for m in answered_missing(items)} == {(tag, position + 2)}


@settings(max_examples=60, deadline=None)
@given(sent_844())
def test_an_844_heading_segment_left_out_is_named_and_refuses_the_claim(got: Sent) -> None:
    _, ack = uploaded("844", interchange(got.body(), functional_id="CF", set_id="844"))
    assert missing_named(ack) == [got.missing()]
    assert set_answer(ack) == "AK5*R*5~"


#: a set's segments, each with the name it is left out by ("": never left out)
Named = list[tuple[str, str]]

PTD_LOOP: Named = [("", "PTD*SS"), ("DTM*003", "DTM*003*20260401"), ("N1*ST", "N1*ST*R*91*RES-1")]
SETS_LEFT_OUT: dict[str, tuple[Format, Named]] = {
    "867 heading": (
        "867",
        [
            ("BPT", "BPT*00*R1*20260406"),
            ("DTM*090", "DTM*090*20260330"),
            ("DTM*091", "DTM*091*20260405"),
            ("N1*DS", "N1*DS*ACME*91*DIST-001"),
            *[("", seg) for _, seg in PTD_LOOP],
            *[("", seg) for seg in ("LIN*1*VP*W-1", "QTY*39*1*EA", "UIT*EA*1.50", "CTT*1")],
        ],
    ),
    "867 loop": (
        "867",
        [
            *[("", seg) for seg in ("BPT*00*R1*20260406", "DTM*090*20260330")],
            *[("", seg) for seg in ("DTM*091*20260405", "N1*DS*ACME*91*DIST-001")],
            *PTD_LOOP,
            *[(seg[:3], seg) for seg in ("LIN*1*VP*W-1", "QTY*39*1*EA", "UIT*EA*1.50")],
            ("", "CTT*1"),
        ],
    ),
    "852": (
        "852",
        [
            ("XQ", "XQ*H*20260330*20260405*INV-W14"),
            ("N1*DS", "N1*DS*ACME*91*DIST-001"),
            *[("", seg) for seg in ("LIN**VP*WIDGET-100", "ZA*QA*3*EA", "CTT*1")],
        ],
    ),
    "844": (
        "844",
        [
            *[("", seg) for seg in ("BAA*00*C-1*20260420", "N1*DS*ACME*91*DIST-001")],
            *[("", seg) for seg in ("CON*CT*SPA-1", "LIN*1*VP*WIDGET-100")],
            *[(seg[:3], seg) for seg in ("REF*TN*INV1-1", "QTY*39*10*EA", "UIT*EA*11.40")],
            *[(seg[:3], seg) for seg in ("CTP**CON*8.90", "AMT*DB*25.00")],
            ("", "CTT*1"),
        ],
    ),
}
ENVELOPES: dict[Format, dict[str, str]] = {
    "867": {},
    "852": {"functional_id": "PD", "set_id": "852"},
    "844": {"functional_id": "CF", "set_id": "844"},
}


@st.composite
def left_out(draw: st.DrawFn) -> tuple[Format, list[str], list[str]]:
    """A set with some of its named segments left out: its format, its body, and the IDs
    left out in the set's order."""
    kind = draw(st.sampled_from(sorted(SETS_LEFT_OUT)))
    fmt, parts = SETS_LEFT_OUT[kind]
    names = [name for name, _ in parts if name]
    out = draw(st.sets(st.sampled_from(names), min_size=1))
    if {"LIN", "QTY"} <= out:  # an 867 line without both is no line at all
        out.discard(draw(st.sampled_from(["LIN", "QTY"])))
    body = [seg for name, seg in parts if name not in out]
    return fmt, body, [name.split("*")[0] for name in names if name in out]


@settings(max_examples=100, deadline=None)
@given(left_out())
def test_segments_missing_before_one_segment_are_named_in_the_set_s_order(
    sent: tuple[Format, list[str], list[str]],
) -> None:
    """However many segments are missing before the same segment, their AK3s come in the
    order the transaction set defines (not by ID), each once."""
    fmt, body, expected = sent
    _, ack = uploaded(fmt, interchange(body, **ENVELOPES[fmt]))
    assert [tag for tag, _ in missing_named(ack)] == expected
