"""Where a missing segment of a transaction set's heading or of a loop would have stood, for
the 997 to name it as X12 asks (AK301 its ID, AK302 that position): the order of the part
of the set, and its segments as they pass."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, TypeAlias

from streams.ingest.parsers import edi844_codes, edi852_codes, edi867_codes
from streams.ingest.parsers.x12_segment import MissingSegment, Segment

#: each set's segment IDs in the set's order, its parts one after the other: an 867's
#: heading, PTD loop and line, an 852's heading, an 844's heading and line
SET_ORDERS: Final[dict[str, tuple[str, ...]]] = {
    "867": (
        *edi867_codes.HEADING_ORDER,
        *edi867_codes.PTD_LOOP_ORDER,
        *edi867_codes.LINE_ORDER,
    ),
    "852": edi852_codes.HEADING_ORDER,
    "844": (*edi844_codes.HEADING_ORDER, *edi844_codes.LINE_ORDER),
}

#: the segments of an N1 loop after its N1, in every set read here (867, 852, 844): they
#: stand where their N1 stands
N1_LOOP: Final = frozenset({"N2", "N3", "N4", "REF", "PER"})

#: (rank in the part's order, qualifier)
_Key: TypeAlias = tuple[int, str]


class SegmentOrder:
    """The mandatory segments of one part of a set (its heading, a loop) and where each
    would have stood, found as the part's segments pass (`see`, each of the set's segments
    from the part's first on).

    A missing segment stands before the first segment that does not come before it in the
    part's order (`order`: segment IDs; segments of one ID in their qualifier's order,
    DTM*090 before DTM*091; an N1 loop's N2 … PER where their N1 stands), so before the
    first segment that is not the part's, or before the SE when nothing follows: AK302 is
    the position of the segment it should have come before, as for a line's segments.
    Its state is bounded: one position per mandatory segment, whatever the part's length.
    """

    def __init__(self, start: Segment, order: Sequence[str], *wanted: tuple[str, str]) -> None:
        """`start`: the segment before the part (its ST) or its first (a loop's PTD);
        `wanted`: the mandatory segments, as (ID, qualifier), "" when any qualifier."""
        self._rank = {tag: rank for rank, tag in enumerate(order)}
        self._open = {want: self._key(*want) for want in wanted}
        self._at: dict[tuple[str, str], int] = {}
        self._last = start.index
        self._n1: _Key | None = None  # the N1 loop the segments are in

    def _key(self, tag: str, qualifier: str) -> _Key:
        return self._rank.get(tag, len(self._rank)), qualifier

    def see(self, seg: Segment) -> None:
        """Take the set's next segment."""
        self._last = seg.index
        if not self._open:
            return
        if seg.tag in N1_LOOP and self._n1 is not None:
            key = self._n1
        else:
            key = self._key(seg.tag, seg.get(1))
            self._n1 = key if seg.tag == "N1" else None
        for want, wanted in list(self._open.items()):
            if key >= wanted:
                self._at[want] = seg.index
                del self._open[want]

    def missing(self, tag: str, qualifier: str = "") -> MissingSegment:
        """`tag` (one of `wanted`) as missing: where it would have stood."""
        return MissingSegment(tag, self._at.get((tag, qualifier), self._last + 1), qualifier)


def in_set_order(code: str, missing: MissingSegment) -> tuple[int, str]:
    """Where `missing` comes in set `code`'s order, among the segments missing before the
    same segment (the 997 names them in that order): its ID's first place in the set,
    then its qualifier (DTM*090 before DTM*091). An ID found in two parts (an 867's DTM
    and N1, in its heading and in a PTD loop) needs no more: the two parts' segments never
    stand before one segment together, and their IDs come in the same order in both."""
    order = SET_ORDERS.get(code, ())
    rank = order.index(missing.tag) if missing.tag in order else len(order)
    return rank, missing.qualifier
