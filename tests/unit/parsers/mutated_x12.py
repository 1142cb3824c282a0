"""Valid X12 867 and 852 interchanges, generated, then broken the way real files break
(tests/unit/parsers/mutated_reports.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from hypothesis import strategies as st

from tests.unit.parsers.edi_builder import interchange
from tests.unit.parsers.mutated_common import (
    JUNK,
    KNOWN_ITEMS,
    OTHER_DELIMITERS,
    Mutated,
    one_in,
    pick,
)


@dataclass
class _Block:
    """A report's line (867) or item (852): its segments, and what makes it a line."""

    segments: list[str]
    #: 852: the item's LIN names no item (its error answers the line)
    bad_item: bool = False
    #: 852: the position in `segments` of the on-hand ZA, None when it has none any more
    on_hand: int | None = None


@dataclass
class _Loop:
    """An 867 PTD loop: its own segments, then its lines."""

    segments: list[str]
    blocks: list[_Block] = field(default_factory=list)


@dataclass
class _Set:
    header: list[str]
    loops: list[_Loop]
    stale_totals: bool = False

    @property
    def blocks(self) -> list[_Block]:
        return [block for loop in self.loops for block in loop.blocks]


def _edit(segment: str, position: int, value: str) -> str:
    parts = segment.split("*")
    while len(parts) <= position:
        parts.append("")
    parts[position] = value
    return "*".join(parts).rstrip("*")


def _x12_value(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(JUNK)).replace("*", "").replace("~", "").replace(">", "")


@st.composite
def _set_867(draw: st.DrawFn, number: int) -> _Set:
    header = [
        f"BPT*00*RPT-{number}*20260406*DD",
        "CUR*SE*USD",
        "DTM*090*20260330",
        "DTM*091*20260405",
        "N1*DS*ACME DISTRIBUTION*91*DIST-001",
    ]
    loops = []
    for loop_number in range(1, draw(st.integers(1, 2)) + 1):
        loop = _Loop(
            [
                draw(st.sampled_from(["PTD*SS", "PTD*SS", "PTD*BN"])),
                f"N1*ST*RESELLER*91*RES-{loop_number}",
                f"REF*IV*INV{number}{loop_number}",
                f"DTM*003*2026040{draw(st.integers(1, 5))}",
            ]
        )
        for line in range(1, draw(st.integers(1, 5)) + 1):
            item = draw(st.sampled_from(KNOWN_ITEMS))
            unit = draw(st.sampled_from(["EA", "CA"]))
            price = "12.50" if unit == "EA" else "140.00"
            sold = f"QTY*{draw(st.sampled_from(['39', '32']))}*{draw(st.integers(1, 30))}"
            loop.blocks.append(
                _Block(
                    [
                        f"LIN*{line}*VP*{item}",
                        f"{sold}*{unit}",
                        f"UIT*{unit}*{price}",
                    ]
                )
            )
        loops.append(loop)
    return _Set(header, loops)


def _totals_867(report: _Set) -> str:
    blocks = report.blocks
    quantities = 0
    for block in blocks:
        for segment in block.segments:
            parts = segment.split("*")
            if parts[0] == "QTY" and len(parts) > 2 and parts[2].lstrip("-").isdigit():
                quantities += int(parts[2])
    return f"CTT*{len(blocks)}*{quantities}"


@st.composite
def _set_852(draw: st.DrawFn, number: int) -> _Set:
    header = [
        f"XQ*H*20260330*20260405*INV-{number}",
        "N1*DS*ACME DISTRIBUTION*91*DIST-001",
    ]
    blocks = []
    skus = draw(st.permutations([*KNOWN_ITEMS, "GADGET-300", "CABLE-400", "DOCK-500"]))
    for item in skus[: draw(st.integers(1, 5))]:
        segments = [f"LIN**VP*{item}"]
        if draw(st.booleans()):
            segments.append(f"ZA*QS*{draw(st.integers(0, 40))}*EA")
        on_hand = len(segments)
        dated = draw(st.sampled_from(["", "*007*20260402"]))
        segments.append(f"ZA*QA*{draw(st.integers(0, 500))}*EA{dated}")
        if draw(st.booleans()):
            segments.append(f"ZA*QR*{draw(st.integers(0, 40))}*EA")
        blocks.append(_Block(segments, on_hand=on_hand))
    return _Set(header, [_Loop([], blocks)])


def _totals_852(report: _Set) -> str:
    return f"CTT*{len(report.blocks)}"


X12_MUTATIONS = (
    "delete", "repeat", "swap", "field", "drop_segment", "loop_field", "header_field",
    "stale_totals",
)  # fmt: skip
#: what a report says its totals are when a mutation left them stale
STALE_TOTALS = "CTT*3"


def _mutate_867(draw: st.DrawFn, report: _Set) -> str:
    blocks = report.blocks
    kind = draw(st.sampled_from(X12_MUTATIONS))
    loop = report.loops[pick(draw, len(report.loops))]
    at = pick(draw, len(loop.blocks))
    if kind == "delete" and len(blocks) > 1 and len(loop.blocks) > 1:
        del loop.blocks[at]
    elif kind == "repeat":  # as sent (a repeated line), or a line of another loop
        target = report.loops[pick(draw, len(report.loops))]
        copy = _Block(list(loop.blocks[at].segments))
        target.blocks.insert(draw(st.integers(0, len(target.blocks))), copy)
    elif kind == "swap":
        other = pick(draw, len(loop.blocks))
        loop.blocks[at], loop.blocks[other] = loop.blocks[other], loop.blocks[at]
    elif kind == "field":  # LIN keeps its tag: each block stays one line
        segments = loop.blocks[at].segments
        index = pick(draw, len(segments))
        position = draw(st.integers(1, 4))
        segments[index] = _edit(segments[index], position, _x12_value(draw))
    elif kind == "drop_segment":
        segments = loop.blocks[at].segments
        if len(segments) > 1:
            del segments[draw(st.integers(1, len(segments) - 1))]
    elif kind == "loop_field":
        index = pick(draw, len(loop.segments))
        value = draw(st.sampled_from(["RV", "ZZ", "", "20261340", "DIST-002", "INV9"]))
        loop.segments[index] = _edit(loop.segments[index], draw(st.integers(1, 4)), value)
    elif kind == "header_field":
        index = pick(draw, len(report.header))
        value = draw(st.sampled_from(["05", "99", "2026XX30", "DIST-002", "XYZ", ""]))
        report.header[index] = _edit(report.header[index], draw(st.integers(1, 4)), value)
    elif kind == "stale_totals":
        report.stale_totals = True
    return f"{kind}@{at}"


def _mutate_852(draw: st.DrawFn, report: _Set) -> str:
    blocks = report.loops[0].blocks
    kind = draw(st.sampled_from(X12_MUTATIONS))
    at = pick(draw, len(blocks))
    block = blocks[at]
    if kind == "delete" and len(blocks) > 1:
        del blocks[at]
    elif kind == "repeat":  # the same item again: a second count for the same time
        copy = _Block(list(block.segments), block.bad_item, block.on_hand)
        blocks.insert(draw(st.integers(0, len(blocks))), copy)
    elif kind == "swap":
        other = pick(draw, len(blocks))
        blocks[at], blocks[other] = blocks[other], blocks[at]
    elif kind == "field" and block.on_hand is not None:  # the count's quantity or unit
        position = draw(st.sampled_from([2, 3]))
        value = _x12_value(draw)
        block.segments[block.on_hand] = _edit(block.segments[block.on_hand], position, value)
    elif kind == "drop_segment" and block.on_hand is not None:  # a count no more
        if draw(st.booleans()):
            del block.segments[block.on_hand]
        else:
            new_code = draw(st.sampled_from(["QS", "ZZ", ""]))
            block.segments[block.on_hand] = _edit(block.segments[block.on_hand], 1, new_code)
        block.on_hand = None
    elif kind == "loop_field":  # the item: unknown, or no known qualifier at all
        if draw(st.booleans()):
            block.segments[0] = _edit(block.segments[0], 3, "NOPE-1")
        else:
            block.segments[0] = "LIN**ZZ*NOPE-1"
            block.bad_item = True
    elif kind == "header_field":
        index = pick(draw, len(report.header))
        value = draw(st.sampled_from(["Z", "2026XX30", "20260301", "DIST-002", ""]))
        report.header[index] = _edit(report.header[index], draw(st.integers(1, 4)), value)
    elif kind == "stale_totals":
        report.stale_totals = True
    return f"{kind}@{at}"


def _body(report: _Set, totals: Callable[[_Set], str]) -> list[str]:
    """A report's segments between ST and SE, its totals recomputed unless left stale."""
    body = [*report.header]
    for loop in report.loops:
        body.extend(loop.segments)
        for block in loop.blocks:
            body.extend(block.segments)
    body.append(STALE_TOTALS if report.stale_totals else totals(report))
    return body


def _answered_852(report: _Set, first: int) -> tuple[int, ...]:
    """The segment numbers an 852 report's lines are answered at, its ST at `first`."""
    index = first + 1 + len(report.header)
    answered: list[int] = []
    for loop in report.loops:
        index += len(loop.segments)
        for block in loop.blocks:
            if block.bad_item:
                answered.append(index)
            elif block.on_hand is not None:
                answered.append(index + block.on_hand)
            index += len(block.segments)
    return tuple(answered)


@st.composite
def _mutated_x12(draw: st.DrawFn, kind: Literal["867", "852"]) -> Mutated:
    make = _set_867 if kind == "867" else _set_852
    sets = [draw(make(number)) for number in range(1, draw(st.integers(1, 2)) + 1)]
    mutate = _mutate_867 if kind == "867" else _mutate_852
    totals = _totals_867 if kind == "867" else _totals_852
    done = []
    for _ in range(draw(st.integers(0, 5))):
        report = sets[pick(draw, len(sets))]
        done.append(mutate(draw, report))
    bodies = [_body(report, totals) for report in sets]
    # segment numbers: ISA 1, GS 2, then per set its ST, its body and its SE
    firsts = [3]
    for body in bodies:
        firsts.append(firsts[-1] + len(body) + 2)
    segments_852 = [
        _answered_852(report, first) for report, first in zip(sets, firsts, strict=False)
    ]
    unreadable = None
    how = draw(st.sampled_from(["delimiter", "cut", "count"]))
    structural = draw(one_in(10))  # one file in ten broken as a whole
    if structural:
        done.append(how)
    if structural and how == "delimiter":  # a segment written with another separator:
        which = pick(draw, len(bodies))  # no tag any more, the file cannot be read on
        index = pick(draw, len(bodies[which]))
        separator = draw(st.sampled_from(OTHER_DELIMITERS))
        bodies[which][index] = bodies[which][index].replace("*", separator)
        unreadable = firsts[which] + 1 + index
    data = interchange(
        *bodies,
        functional_id="PT" if kind == "867" else "PD",
        set_id=kind,
        newline=draw(st.sampled_from(["\n", "\r\n", ""])),
    )
    if structural and how == "cut":
        data = data[: draw(st.integers(106, len(data) - 2))]
    elif structural and how == "count":
        data = data.replace(b"SE*", b"SE*1", 1)
    return Mutated(
        kind,
        data,
        tuple(done),
        structural,
        report_lines=tuple(len(report.blocks) for report in sets) if kind == "867" else (),
        report_segments=tuple(segments_852) if kind == "852" else (),
        unreadable_segment=unreadable,
    )


def mutated_867() -> st.SearchStrategy[Mutated]:
    """An interchange of one or two 867 reports (1 to 2 PTD loops of 1 to 5 lines each)
    with 0 to 5 mutations; envelope counts and CTT totals are recomputed unless a
    mutation leaves them stale."""
    return _mutated_x12("867")


def mutated_852() -> st.SearchStrategy[Mutated]:
    """An interchange of one or two 852 reports (1 to 5 items, each with one on-hand
    count among other activities) with 0 to 5 mutations."""
    return _mutated_x12("852")
