"""What an X12 interchange is cut into: segments with their delimiters, and `X12Error`,
the structural error that stops reading one (streams/ingest/parsers/x12.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final


class X12Error(Exception):
    """A structural error: the interchange cannot be read further.

    `segment_index` is the 1-based position of the segment in the interchange,
    `element_index` the 1-based element position (e.g. 1 for SE01) when one element is
    at fault, else None; `tag` the segment's tag when it was read (an acknowledgement names
    the structure at fault by it).
    """

    def __init__(
        self, segment_index: int, element_index: int | None, message: str, tag: str | None = None
    ) -> None:
        self.segment_index = segment_index
        self.element_index = element_index
        self.message = message
        self.tag = tag
        where = f"segment {segment_index}"
        if element_index is not None:
            where += f", element {element_index:02d}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str = "*"
    component: str = ">"
    segment: str = "~"


DEFAULT_DELIMITERS: Final = Delimiters()


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment: its 1-based position, tag and elements (``elements[0]`` is XX01)."""

    index: int
    tag: str
    elements: list[str]
    delimiters: Delimiters = field(default=DEFAULT_DELIMITERS, compare=False, repr=False)

    def get(self, position: int) -> str:
        """Element XX`position` (1-based), surrounding blanks removed; "" when absent."""
        if 1 <= position <= len(self.elements):
            return self.elements[position - 1].strip()
        return ""

    def components(self, position: int) -> list[str]:
        """The components of a composite element (one item for a simple one)."""
        value = self.get(position)
        return [part.strip() for part in value.split(self.delimiters.component)] if value else []

    def name(self, position: int) -> str:
        """The element's name, e.g. ``QTY02``."""
        return f"{self.tag}{position:02d}"

    @property
    def text(self) -> str:
        """The segment as sent (with its delimiters, without line breaks)."""
        sep = self.delimiters.element
        return sep.join([self.tag, *self.elements]) + self.delimiters.segment


#: where each field of a line's event was read: field -> (segment, X12 element), so that a
#: check of the event names what the sender wrote (an 867 line's, an 852 count's)
Origins = dict[str, tuple[Segment, str | None]]


@dataclass(frozen=True, slots=True)
class MissingSegment:
    """A mandatory segment that is not there: its ID, where it would have stood (the
    1-based position in the interchange of the segment it should have come before) and
    its qualifier when one ID is wanted more than once (an 867's DTM*090 and DTM*091)."""

    tag: str
    index: int
    qualifier: str = ""


def missing_segment(tag: str, before: Iterable[Segment | None], first: Segment) -> MissingSegment:
    """`tag` missing from a loop that starts at `first`: expected right after the last
    present of `before` (the loop's segments that precede it in the loop's order), else
    where the loop's first segment stands."""
    present = [seg.index for seg in before if seg is not None]
    return MissingSegment(tag, max(present) + 1 if present else first.index)


def segment_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
