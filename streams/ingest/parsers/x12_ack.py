"""The X12 acknowledgements of a received interchange, pure: a TA1 (interchange
acknowledgement) and a 997 (functional acknowledgement) per functional group.

What is acknowledged comes from two readings of the interchange:

- `received` reads its envelope: the ISA, each GS with its ST … SE sets (their segment
  ranges), where the structure broke if it did, and the segments the findings name;
- the parsers' `Finding`s: a segment index, the element at fault (``QTY02``), the
  parser's reason, and whether it rejects its transaction set as a whole (a report-level
  error) or only some of its lines.

The 997 answers each group the way X12 asks (AK1 group, AK2 … AK5 per set, AK9), from
these rules:

- a set is A (accepted) without findings, E (accepted, errors noted) with line findings
  only, R (rejected) with a report-level finding; AK502 5 (one or more segments in
  error) when a segment is, after the code of a finding about the set itself (23: its
  ST02 repeats another set's of its group), which has no AK3; each other finding is an
  AK3 (segment id, position in the set counting ST as 1, AK304 code) with an AK4
  (element position, AK403 code, the value as sent) when it names an element of that
  segment, and AK304 is then 8 (segment has data element errors); without one, AK304
  says what is wrong with the segment (missing, out of place, repeated), or is left
  empty when X12 has no code for it, never 8 (codes: x12_ack_codes.py); a missing
  segment the parser names is answered as X12 asks: AK301 its ID, AK302 where it would
  have stood (the position of the segment it should have come before), AK304 3;
- a structural error (`X12Error`: nothing of the interchange is used) rejects every set
  and group read; the set or group at fault carries the AK502 / AK905 code of what broke,
  and an error outside any group is a TA1 R with the TA105 note instead of a 997;
- AK9: A when every set is A, E when none is R, P (partially accepted) when some are,
  R when all are (or the group broke); AK902 = AK903 = the sets read, AK904 = those
  accepted (A or E);
- a TA1 comes first when ISA14 asks for one (1), when the interchange is rejected, or
  when there is no group to answer (a group of acknowledgements, FA, is never answered);
- an interchange received before (`resent`: the same sender, receiver and control
  number, whatever its content) is noted by a TA1 E (accepted, errors noted) with TA105
  025 (duplicate interchange control number), asked for or not: the sender is told not
  to send it again; its groups are answered as their sets earn.

The answer goes back from the receiver to the sender: ISA06 / ISA08 and their qualifiers
swapped, the test indicator (ISA15) kept (`P` in the TA1 refusing one that is neither `P`
nor `T`), version 004010 or 005010 as received (the 997's layout is the same in both).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Final

from streams.ingest.parsers.x12 import tokenize
from streams.ingest.parsers.x12_ack_codes import (
    DUPLICATE_INTERCHANGE,
    ELEMENT_ERRORS,
    REASON_SET_CODES,
    SEGMENT_MISSING,
    SEGMENTS_IN_ERROR,
    STRUCTURE_GROUP_CODES,
    STRUCTURE_INTERCHANGE_NOTES,
    STRUCTURE_SET_CODES,
    element_code,
    segment_code,
)
from streams.ingest.parsers.x12_envelope import PRODUCTION, usage_indicator
from streams.ingest.parsers.x12_order import in_set_order
from streams.ingest.parsers.x12_segment import MissingSegment, Segment, X12Error
from streams.ingest.parsers.x12_writer import (
    Parties,
    X12WriteError,
    element,
    interchange,
    segment,
)

#: GS01 of a group of acknowledgements (never acknowledged itself)
ACK_GROUP: Final = "FA"
#: AK404 holds at most this many characters
MAX_COPY: Final = 99
_ELEMENT_NAME = re.compile(r"([A-Z][A-Z0-9]{1,2})(\d{2})")
_OPEN: Final = 1 << 62  # the end of a structure whose trailer was not read


@dataclass(frozen=True, slots=True)
class Finding:
    """A parser's finding: the segment (1-based in the interchange), the element at fault
    (``QTY02``) if one is, the reason, whether it rejects its set as a whole, and the
    segment whose absence it is, if it is one."""

    segment: int
    element: str | None
    reason: str
    whole: bool = False
    missing: MissingSegment | None = None


@dataclass(slots=True)
class TransactionSet:
    code: str
    control: str
    start: int
    end: int = _OPEN


@dataclass(slots=True)
class Group:
    functional_id: str
    control: str
    start: int
    end: int = _OPEN
    sets: list[TransactionSet] = field(default_factory=list)


@dataclass
class Received:
    """The envelope of a received interchange, as far as it could be read."""

    isa: Segment
    groups: list[Group] = field(default_factory=list)
    #: where the structure broke, if it did
    failure: X12Error | None = None
    #: the segments asked for (by index), for the acknowledgement to name
    segments: dict[int, Segment] = field(default_factory=dict)
    #: every set in order, with its group and the index of its ST (to find a segment's)
    _sets: list[tuple[Group, TransactionSet]] = field(default_factory=list)
    _set_starts: list[int] = field(default_factory=list)

    def take(self, seg: Segment) -> None:
        tag = seg.tag
        if tag == "GS":
            self.groups.append(Group(seg.get(1), seg.get(6), seg.index))
        elif tag == "GE":
            self.groups[-1].end = seg.index
        elif tag == "ST":
            group, found = self.groups[-1], TransactionSet(seg.get(1), seg.get(2), seg.index)
            group.sets.append(found)
            self._sets.append((group, found))
            self._set_starts.append(seg.index)
        elif tag == "SE":
            self.groups[-1].sets[-1].end = seg.index

    def locate(self, index: int) -> tuple[Group | None, TransactionSet | None]:
        """The group and set segment `index` lies in (None: outside any)."""
        at = bisect_right(self._set_starts, index) - 1
        if at >= 0:
            group, found = self._sets[at]
            if index <= found.end:
                return group, found
        for group in self.groups:  # between sets: a group's own segments
            if group.start <= index <= group.end:
                return group, None
        return None, None


def received(stream: IO[bytes], wanted: Collection[int] = ()) -> Received | None:
    """The envelope of the interchange in `stream` and its segments `wanted`; None when
    not even its ISA can be read (there is no one to answer)."""
    segments = tokenize(stream)
    try:
        isa = next(segments)
    except (X12Error, StopIteration):
        return None
    result = Received(isa)
    try:
        for seg in segments:
            result.take(seg)
            if seg.index in wanted:
                result.segments[seg.index] = seg
    except X12Error as error:
        result.failure = error
    return result


def parties_of(isa: Segment, control: int, at: datetime) -> Parties:
    """Who the acknowledgement goes from and to: the received ISA turned round."""
    version = "005010" if isa.get(12) >= "00501" else "004010"
    try:
        usage = usage_indicator(isa)
    except X12Error:  # answered by a TA1 R / 020, in production terms
        usage = PRODUCTION
    qualifiers = (isa.get(7) or "ZZ", isa.get(5) or "ZZ")  # blank: mutually defined
    return Parties(isa.get(8), isa.get(6), ACK_GROUP, control, at, qualifiers, version, usage)


def acknowledgement(
    got: Received,
    findings: Iterable[Finding],
    *,
    control: int,
    at: datetime,
    failure: X12Error | None = None,
    resent: bool = False,
) -> bytes:
    """The acknowledgement interchange (TA1 and / or one 997 per group) of `got`.

    `failure` is the structural error that stopped the reading of the interchange for
    use (else the one `received` met, if any); `control` its ISA13 / GS06, `at` its date;
    `resent`: the interchange was received before.
    """
    broken = failure or got.failure
    parties = parties_of(got.isa, control, at)
    if broken is not None and got.locate(broken.segment_index) == (None, None):
        key = (broken.tag or "", broken.element_index)
        default = "024" if broken.tag else "023"
        note = STRUCTURE_INTERCHANGE_NOTES.get(key, default)
        return interchange(parties, [], [_ta1(got.isa, "R", note)])
    notes = _by_set(got, findings)
    sets = [
        ("997", _997(got, group, notes, broken))
        for group in got.groups
        if group.functional_id != ACK_GROUP
    ]
    if resent:
        leading = [_ta1(got.isa, "E", DUPLICATE_INTERCHANGE)]
    elif got.isa.get(14) == "1" or not sets:
        leading = [_ta1(got.isa, "A", "000")]
    else:
        leading = []
    return interchange(parties, sets, leading)


def _ta1(isa: Segment, code: str, note: str) -> str:
    return segment("TA1", isa.get(13), isa.get(9), isa.get(10), code, note)


def _by_set(got: Received, findings: Iterable[Finding]) -> dict[int, list[Finding]]:
    """Each set's findings (by its ST index), in segment order, each once (whole when
    found so either way: a rejected report's errors also answer its lines)."""
    merged: dict[tuple[int, str, str, MissingSegment | None], bool] = {}
    for finding in findings:
        key = (finding.segment, finding.element or "", finding.reason, finding.missing)
        merged[key] = merged.get(key, False) or finding.whole
    notes: dict[int, list[Finding]] = {}
    for (index, name, reason, missing), whole in sorted(merged.items(), key=_in_order):
        _, found = got.locate(index)
        if found is not None:
            note = Finding(index, name or None, reason, whole, missing)
            notes.setdefault(found.start, []).append(note)
    return notes


def _in_order(item: tuple[tuple[int, str, str, MissingSegment | None], bool]) -> tuple[object, ...]:
    (index, name, reason, missing), _ = item
    return (index, name, reason, (missing.index, missing.tag, missing.qualifier) if missing else ())


def _997(
    got: Received, group: Group, notes: dict[int, list[Finding]], broken: X12Error | None
) -> list[str]:
    body = [segment("AK1", group.functional_id, group.control)]
    codes: list[str] = []
    key = ("", None) if broken is None else (broken.tag or "", broken.element_index)
    at_group, at_set = (None, None) if broken is None else got.locate(broken.segment_index)
    for found in group.sets:
        findings = notes.get(found.start, [])
        of_set = [f for f in findings if f.reason in REASON_SET_CODES]
        of_segments = [f for f in findings if f.reason not in REASON_SET_CODES]
        body.append(segment("AK2", found.code, found.control))
        body.extend(_segment_notes(got, found, of_segments))
        if broken is not None:
            code = "R"
            whys = [STRUCTURE_SET_CODES.get(key, "2")] if at_set is found else []
        else:
            code = "R" if any(f.whole for f in findings) else "E" if findings else "A"
            whys = list(dict.fromkeys(REASON_SET_CODES[f.reason] for f in of_set))
            whys += [SEGMENTS_IN_ERROR] if of_segments else []
        codes.append(code)
        body.append(segment("AK5", code, *whys))
    accepted = sum(code != "R" for code in codes)
    status, why = _group_status(codes), ""
    if broken is not None:
        status = "R"
        if at_group is group and at_set is None:
            why = STRUCTURE_GROUP_CODES.get(key, "")
    body.append(segment("AK9", status, len(codes), len(codes), accepted, why))
    return body


def _group_status(codes: Sequence[str]) -> str:
    if all(code == "A" for code in codes):
        return "A"
    if "R" not in codes:
        return "E"
    return "R" if all(code == "R" for code in codes) else "P"


def _segment_notes(got: Received, found: TransactionSet, findings: list[Finding]) -> list[str]:
    """AK3 (and its AK4s) per segment in error, and per segment missing, in segment order
    (a missing segment before the one it should have come before; several missing before
    one segment in the set's order, each once however many lines name it)."""
    notes: dict[tuple[int, int, tuple[int, str]], list[str]] = {}
    by_segment: dict[int, list[Finding]] = {}
    for finding in findings:
        missing = finding.missing
        if missing is None:
            by_segment.setdefault(finding.segment, []).append(finding)
        else:
            ak3 = segment("AK3", missing.tag, missing.index - found.start + 1, "", SEGMENT_MISSING)
            notes[missing.index, 0, in_set_order(found.code, missing)] = [ak3]
    for index, at_segment in by_segment.items():
        seg = got.segments.get(index)
        if seg is None:
            continue
        elements = [note for f in at_segment if (note := _element_note(seg, f)) is not None]
        code = ELEMENT_ERRORS if elements else segment_code(f.reason for f in at_segment)
        ak3 = segment("AK3", seg.tag, index - found.start + 1, "", code)
        notes[index, 1, (0, seg.tag)] = [ak3, *elements]
    return [line for _, lines in sorted(notes.items()) for line in lines]


def _element_note(seg: Segment, finding: Finding) -> str | None:
    """The AK4 of a finding naming an element of `seg` (None: it names none of it)."""
    match = _ELEMENT_NAME.fullmatch(finding.element or "")
    if match is None or match.group(1) != seg.tag:
        return None
    position = int(match.group(2))
    value = seg.get(position)
    return segment("AK4", position, "", element_code(finding.reason, value), _copy(value))


def _copy(value: str) -> str:
    """AK404: the value as sent, when X12 can carry it."""
    try:
        return element(value[:MAX_COPY])
    except X12WriteError:
        return ""
