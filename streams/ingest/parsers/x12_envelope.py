"""The X12 envelope checked as segments pass: ISA … IEA around GS … GE groups around
ST … SE transaction sets, their control numbers and counts. A TA1 (an interchange
acknowledgement) may come between ISA and the first GS.

And the one rule on the interchange's usage indicator ISA15 (docs/INGEST.md, "A test
interchange"): `T` a test, `P` production, anything else refuses the interchange whole
(TA1 R / 020). A test interchange is checked and acknowledged as a production one, and
nothing of it reaches the channel.

And the one rule on a transaction set's control number (`SetControls`): ST02 is unique
within its functional group; a set that repeats one is rejected as a whole (997 AK502 23),
its report's lines not taken, the others read as ever."""

from __future__ import annotations

from typing import Final

from streams.ingest.parsers.common import LineError, digits
from streams.ingest.parsers.x12_segment import Segment, X12Error

_CONTROL_TAGS: Final = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
#: the report error of a set whose ST02 an earlier set of its group used (997 AK502 23)
REPEATED_CONTROL: Final = "duplicate_control_number"
#: the report errors the envelope finds, in every X12 parser's REASONS
SET_REASONS: Final[dict[str, str]] = {
    REPEATED_CONTROL: "ST02 repeats the control number of an earlier set of its group",
}
#: ISA15, the usage indicator: production data, or a test
PRODUCTION: Final = "P"
TEST: Final = "T"


def usage_indicator(isa: Segment) -> str:
    """ISA15, `P` (production) or `T` (test); any other value is an `X12Error` at ISA15
    (the interchange is refused whole: TA1 R / 020, Invalid Test Indicator Value)."""
    value = isa.get(15)
    if value not in (PRODUCTION, TEST):
        raise X12Error(
            isa.index,
            15,
            f"ISA15 usage indicator {value!r} must be {PRODUCTION} (production) or {TEST} (test)",
            isa.tag,
        )
    return value


def is_test_interchange(isa: Segment) -> bool:
    """Whether the interchange is a test (ISA15 `T`): checked and answered as ever, nothing
    of it published nor registered. Raises `X12Error` as `usage_indicator`."""
    return usage_indicator(isa) == TEST


class SetControls:
    """The ST02s of the functional group being read, each with the segment of its first ST."""

    def __init__(self) -> None:
        self._first: dict[str, int] = {}

    def see(self, seg: Segment) -> LineError | None:
        """Take the next GS or ST; for an ST whose ST02 an earlier set of the group used,
        the error that rejects it (`REPEATED_CONTROL`, at ST02)."""
        if seg.tag == "GS":
            self._first = {}
            return None
        control = seg.get(2)
        first = self._first.setdefault(control, seg.index)
        if first == seg.index:
            return None
        message = (
            f"ST02 transaction set control number {control!r} was already used by the set "
            f"at segment {first} of this functional group: each set of a group needs a "
            "control number of its own; send this set again under a new ST02 (and SE02)"
        )
        return LineError(seg.index, "ST02", REPEATED_CONTROL, message, seg.text)


class Envelope:
    """ISA/IEA, GS/GE and ST/SE nesting, control numbers and counts."""

    def __init__(self, isa: Segment) -> None:
        usage_indicator(isa)  # an interchange neither production nor test is refused
        self._isa13 = isa.get(13)
        self._state = "interchange"
        self._groups = 0
        self._gs: Segment | None = None
        self._sets = 0
        self._st: Segment | None = None
        self._segments = 0

    def check(self, seg: Segment) -> None:
        tag = seg.tag
        if self._state == "done":
            raise X12Error(seg.index, None, f"{tag} after IEA: one interchange per input")
        if tag == "ISA":
            raise X12Error(seg.index, None, "a second ISA before IEA closed the first")
        if self._state == "set":
            self._segments += 1
            if tag == "SE":
                self._close_set(seg)
            elif tag in _CONTROL_TAGS:
                st = self._st
                assert st is not None
                raise X12Error(
                    seg.index,
                    None,
                    f"{tag} inside transaction set {st.get(2)!r} (ST at segment {st.index}): "
                    "missing SE",
                )
        elif self._state == "group":
            if tag == "ST":
                self._open_set(seg)
            elif tag == "GE":
                self._close_group(seg)
            elif tag == "IEA":
                gs = self._gs
                assert gs is not None
                raise X12Error(
                    seg.index,
                    None,
                    f"IEA inside functional group {gs.get(6)!r} (GS at segment {gs.index}): "
                    "missing GE",
                )
            else:
                raise X12Error(
                    seg.index, None, f"{tag} outside a transaction set (expected ST or GE)"
                )
        elif tag == "GS":
            self._gs, self._sets, self._state = seg, 0, "group"
            self._groups += 1
            if not seg.get(6):
                raise X12Error(seg.index, 6, "GS06 group control number is missing")
        elif tag == "IEA":
            self._close_interchange(seg)
        elif tag == "TA1" and self._groups == 0:
            pass
        else:
            raise X12Error(seg.index, None, f"{tag} outside a functional group (expected GS)")

    def _open_set(self, seg: Segment) -> None:
        if not seg.get(1):
            raise X12Error(seg.index, 1, "ST01 transaction set identifier is missing")
        if not seg.get(2):
            raise X12Error(seg.index, 2, "ST02 transaction set control number is missing")
        self._st, self._segments, self._state = seg, 1, "set"
        self._sets += 1

    def _close_set(self, seg: Segment) -> None:
        st = self._st
        assert st is not None
        declared = _count(seg, 1)
        if declared != self._segments:
            raise X12Error(
                seg.index,
                1,
                f"SE01 says {declared} segments but transaction set {st.get(2)!r} has "
                f"{self._segments} (ST and SE included)",
            )
        if seg.get(2) != st.get(2):
            raise X12Error(
                seg.index,
                2,
                f"SE02 control number {seg.get(2)!r} does not match ST02 {st.get(2)!r}",
            )
        self._state = "group"

    def _close_group(self, seg: Segment) -> None:
        gs = self._gs
        assert gs is not None
        declared = _count(seg, 1)
        if declared != self._sets:
            raise X12Error(
                seg.index,
                1,
                f"GE01 says {declared} transaction sets but the group has {self._sets}",
            )
        if seg.get(2) != gs.get(6):
            raise X12Error(
                seg.index,
                2,
                f"GE02 control number {seg.get(2)!r} does not match GS06 {gs.get(6)!r}",
            )
        self._state = "interchange"

    def _close_interchange(self, seg: Segment) -> None:
        declared = _count(seg, 1)
        if declared != self._groups:
            raise X12Error(
                seg.index,
                1,
                f"IEA01 says {declared} functional groups but the interchange has {self._groups}",
            )
        if seg.get(2) != self._isa13:
            raise X12Error(
                seg.index,
                2,
                f"IEA02 control number {seg.get(2)!r} does not match ISA13 {self._isa13!r}",
            )
        self._state = "done"

    def finish(self, last_index: int) -> None:
        missing = {"set": "SE", "group": "GE", "interchange": "IEA"}.get(self._state)
        if missing is not None:
            raise X12Error(
                last_index + 1,
                None,
                f"input ends without {missing} (after segment {last_index})",
            )


def _count(seg: Segment, position: int) -> int:
    value = seg.get(position)
    if not digits(value):
        raise X12Error(seg.index, position, f"{seg.name(position)} {value!r} must be a whole count")
    return int(value)
