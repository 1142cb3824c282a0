"""What the 867 parser (streams/ingest/parsers/edi867.py) hands out: each line once complete,
each report's end, a whole parsed report, and the QTY segments it left out."""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.events import ReportSubmitted, SaleReported
from streams.ingest.parsers.common import LineError
from streams.ingest.parsers.edi867_heading import ReportHeader
from streams.ingest.parsers.x12_segment import Origins


@dataclass(frozen=True, slots=True)
class IgnoredQuantity:
    """A QTY that is not a sold quantity, on a line that has one: left out, and said so."""

    segment_index: int
    #: the line's ordinal in its report
    line: int
    code: str
    description: str
    quantity: str


@dataclass(frozen=True, slots=True)
class ParsedReport:
    """One 867 transaction set: its valid lines as events, and everything wrong with it."""

    header: ReportHeader
    sales: list[SaleReported]
    submitted: ReportSubmitted | None
    line_errors: list[LineError]
    report_errors: list[LineError]
    #: lines in the report, valid and invalid (= ReportSubmitted.line_count)
    line_count: int
    #: the first MAX_IGNORED_KEPT QTY segments left out, and how many there were
    ignored: list[IgnoredQuantity] = field(default_factory=list)
    ignored_count: int = 0

    @property
    def accepted(self) -> bool:
        """True when the report as a whole is usable (its valid lines may be applied)."""
        return not self.report_errors


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One line of a report, handed out as soon as its segments are complete."""

    #: 1-based ordinal of the line in its report
    number: int
    #: 1-based position of the line's first segment in the interchange
    segment_index: int
    #: the line's segments as sent, after its PTD loop's own (one segment per text line)
    original: str
    outcome: SaleReported | LineError
    #: the report's heading as read (None for a line before any PTD loop)
    header: ReportHeader | None = None
    #: where the sale's fields were read (the element a later check of the sale blames)
    origins: Origins = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReportEnd:
    """The end of one report: its header, and whether it stands as a whole.

    With `report_errors` the report is rejected as a whole: `submitted` is None and
    none of its lines (handed out before) may be applied.
    """

    header: ReportHeader
    submitted: ReportSubmitted | None
    report_errors: list[LineError]
    #: lines in the report, valid and invalid (= ReportSubmitted.line_count)
    line_count: int
    #: the first MAX_IGNORED_KEPT QTY segments left out, and how many there were
    ignored: list[IgnoredQuantity] = field(default_factory=list)
    ignored_count: int = 0
