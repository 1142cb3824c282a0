"""What an upload is (its format, sender, options and stored file) and what reading it
yields: `Parsed` lines and `ReportClosed` report ends."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Final, Literal, cast

from domain.business_time import TimeRules
from domain.frozen import quick_init
from schemas.codec import id_problem
from schemas.events import EVENT_TYPES, Envelope, ReportSubmitted, Source
from schemas.types import visible
from streams.auth import Principal
from streams.ingest.parsers.common import Problem
from streams.ingest.parsers.x12_segment import MissingSegment, Segment

Format = Literal["events", "csv", "867", "852", "claim-csv", "844"]
FORMATS: Final[tuple[Format, ...]] = ("events", "csv", "867", "852", "claim-csv", "844")
#: the envelope `source` each format's events get (JSON events: "api" over HTTP)
SOURCES: Final[dict[Format, Source]] = {
    "events": "api",
    "csv": "csv",
    "867": "edi867",
    "852": "edi852",
    "claim-csv": "csv",
    "844": "edi844",
}
EVENT_TYPE_NAMES: Final = frozenset(kind.__name__ for kind in EVENT_TYPES)
#: distributor a rejected line is counted for when nothing names one (admin uploads only)
UNATTRIBUTED: Final = "unattributed"


class Unreadable(Exception):
    """The upload as a whole cannot be read (422): nothing of it is published."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def file_label(name: str) -> str:
    """A file's name as its lines' `source_ref` can hold it: invisible characters written
    as escapes, at most 128 characters."""
    return visible(name)[:128]


def option_id(name: str, value: object) -> str | None:
    """An id given with an upload (report_id, replaces, distributor_id): None when not
    given; `ValueError` saying why when the wire schema would refuse it."""
    if value is None or value == "":
        return None
    problem = id_problem(value)
    if problem is not None:
        raise ValueError(f"{name}: {problem}")
    assert isinstance(value, str)
    return value


@dataclass(frozen=True)
class Upload:
    """One submission: what it is, who sends it, and the report options given with it."""

    format: Format
    name: str
    principal: Principal
    received_at: datetime
    #: sha256 of the bytes received: derived ids (rejections, a CSV's report) use it
    digest: str
    source: Source
    report_id: str | None = None
    replaces: str | None = None
    period: tuple[date, date] | None = None
    #: on whose behalf an admin submits (a distributor token is always its own)
    distributor_id: str | None = None
    #: what business dates are plausible, judged against `received_at`
    rules: TimeRules = field(default_factory=TimeRules)

    @property
    def uploader(self) -> str | None:
        return self.principal.distributor_id or self.distributor_id


@quick_init  # one per line read
@dataclass(frozen=True, slots=True)
class Parsed:
    """One input line: the event it became, or why it could not become one."""

    line: int
    ref: str
    event: Envelope | None
    reason: str | None = None
    field: str | None = None
    detail: str | None = None
    #: the line as sent, where the format keeps it (for a rejection of the line, or of its
    #: report)
    original: bytes | None = None
    report: int = 0
    #: the report that the line's report replaces
    replaces: str | None = None
    #: whose line it is, for a rejected line that says so
    distributor_id: str | None = None
    #: where the event's fields were read, in the format's own terms: field -> (segment,
    #: element) of an X12 line, (None, column) of a CSV line's item read from another
    #: column than `sku`, so that a check of the event blames what the sender wrote
    where: Mapping[str, tuple[Segment | None, str | None]] | None = None
    #: the segment (1-based in the interchange) an X12 parser found this line's problem at
    segment: int | None = None
    #: the segment whose absence is that problem, when one is (for the 997 to name it)
    missing: MissingSegment | None = None
    #: the line's further problems, which the detail lists after the first (the 997 names each)
    also: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class ReportClosed:
    """The end of report number `index` of the upload (numbered from 1)."""

    index: int
    distributor_id: str | None
    report_id: str | None
    header: ReportSubmitted | None
    #: what the answer tells about the report
    info: dict[str, Any] = field(default_factory=dict)
    #: (reason, detail) when the report is rejected as a whole
    rejected: tuple[str, str] | None = None


Item = Parsed | ReportClosed


@dataclass(frozen=True)
class Stored:
    """An uploaded file on disk. An upload sent compressed (Content-Encoding) is kept
    gzip-compressed there, so that a small body expanding to gigabytes never fills the
    disk; `open` reads it expanded."""

    path: Path
    gzipped: bool = False

    def open(self) -> IO[bytes]:
        if self.gzipped:
            # a GzipFile is a binary stream, which typeshed does not declare as IO[bytes]
            return cast(IO[bytes], gzip.open(self.path, "rb"))
        return self.path.open("rb")


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
