"""Each upload format as one stream of lines (`Parsed`) and report ends (`ReportClosed`).

The report parsers in streams/ingest/parsers do the reading; this module says, per format, what
an upload's lines and reports are: which report a line belongs to, whose it is, what
its `source_ref` is, and the `ReportSubmitted` that heads a CSV or JSON report.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Final, Literal, cast

import orjson

from domain.business_time import TimeRules, date_problem
from domain.identity import derived_id
from schemas.codec import InvalidEvent, decode_event, id_problem
from schemas.events import EVENT_TYPES, Envelope, ReportSubmitted, SaleReported, Source
from schemas.types import visible
from streams.auth import Principal
from streams.ingest.parsers.common import LineError
from streams.ingest.parsers.csv_report import CsvLineError, parse_csv_lines, peek_first_line
from streams.ingest.parsers.edi852 import ParsedActivity, parse_852_all
from streams.ingest.parsers.edi867 import ReportEnd, ReportHeader, ReportLine, iter_867
from streams.ingest.parsers.x12 import x12_source_ref

Format = Literal["events", "csv", "867", "852"]
FORMATS: Final[tuple[Format, ...]] = ("events", "csv", "867", "852")
#: the envelope `source` each format's events get (JSON events: "api" over HTTP)
SOURCES: Final[dict[Format, Source]] = {
    "events": "api",
    "csv": "csv",
    "867": "edi867",
    "852": "edi852",
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


def read(upload: Upload, file: Stored) -> Iterator[Item]:
    """The lines and reports of an uploaded file."""
    if upload.format == "events":
        with file.open() as stream:
            return read_events(upload, batch_of(stream.read())[0])
    if upload.format == "csv":
        return read_csv(upload, file)
    if upload.format == "867":
        return read_867(upload, file)
    return read_852(upload, file)


# --- JSON events ---------------------------------------------------------------------


#: options a JSON batch may carry in its "report" object (as the query parameters)
REPORT_OPTIONS: Final = ("report_id", "replaces", "period_start", "period_end")


def batch_of(body: bytes) -> tuple[list[Any], dict[str, Any]]:
    """The events of a JSON body and the report options it carries.

    The body is a JSON array of events, {"events": [...], "report": {...}}, one event
    object, or JSON Lines (one event per line; a line that is not JSON stays its bytes,
    to be answered `invalid_json` on its own).
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        lines = [line for line in body.splitlines() if line.strip()]
        if len(lines) < 2:
            raise Unreadable("invalid_json", f"the body is not JSON: {exc}") from None
        return [_json_or_bytes(line) for line in lines], {}
    options: Any = {}
    if isinstance(data, dict) and "event_type" in data:
        data = [data]
    elif isinstance(data, dict):
        options = data.get("report") or {}
        data = data.get("events")
    if not isinstance(data, list):
        raise Unreadable(
            "invalid_batch",
            'send a JSON array of events, {"events": [...]} with options, or JSON Lines',
        )
    if not isinstance(options, dict) or set(options) - set(REPORT_OPTIONS):
        raise Unreadable(
            "invalid_batch", f'"report" must be an object with only {", ".join(REPORT_OPTIONS)}'
        )
    return data, options


def _json_or_bytes(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return line


def read_events(upload: Upload, elements: list[Any]) -> Iterator[Item]:
    """JSON events; report headers in the batch go first (a header precedes its lines).

    With a report option (`report_id`), the batch is one report: its sale lines carry
    that report_id (a line naming another one is rejected `report_mismatch`) and a
    ReportSubmitted is made for it.
    """
    headers = [i for i, e in enumerate(elements) if _type_of(e) == "ReportSubmitted"]
    is_header = set(headers)
    order = [*headers, *(i for i in range(len(elements)) if i not in is_header)]
    replaced = {
        e["report_id"]: e["replaces_report_id"]
        for e in (elements[i] for i in headers)
        if isinstance(e.get("report_id"), str) and isinstance(e.get("replaces_report_id"), str)
    }
    report = _BatchReport(upload) if upload.report_id is not None else None
    for index in order:
        element = elements[index]
        ref = f"{upload.name}[{index + 1}]"
        original = element if isinstance(element, bytes) else orjson.dumps(element)
        try:
            event = decode_event(original)
        except InvalidEvent as exc:
            named = element.get("distributor_id") if isinstance(element, dict) else None
            in_report = report is not None and _type_of(element) == "SaleReported"
            if report is not None and in_report:
                report.lines += 1  # a report's line count includes its rejected lines
            yield Parsed(
                index + 1,
                ref,
                None,
                exc.reason,
                _field_of(exc.detail),
                exc.detail,
                original,
                report=1 if in_report else 0,
                distributor_id=named if isinstance(named, str) else None,
            )
            continue
        event = event.model_copy(
            update={"recorded_at": upload.received_at, "source": upload.source, "source_ref": ref}
        )
        if report is not None and isinstance(event, SaleReported):
            yield report.line(index + 1, ref, event, original)
            continue
        report_id = event.report_id if isinstance(event, SaleReported) else None
        yield Parsed(
            index + 1, ref, event, original=original, replaces=replaced.get(report_id or "")
        )
    if report is not None:
        yield report.close(upload)


def _type_of(element: Any) -> Any:
    return element.get("event_type") if isinstance(element, dict) else None


def _field_of(detail: str) -> str | None:
    """The first field path of a codec detail, without the event type pydantic puts
    first ("SaleReported.unit_price: ..." → "unit_price")."""
    head, sep, _ = detail.partition(": ")
    if not sep or " " in head or head == "(event)":
        return None
    kind, dot, path = head.partition(".")
    return path if dot and kind in EVENT_TYPE_NAMES else head


class _BatchReport:
    """A JSON batch sent as one report: its lines and the ReportSubmitted made for it."""

    def __init__(self, upload: Upload) -> None:
        assert upload.report_id is not None
        self.report_id = upload.report_id
        self.replaces = upload.replaces
        self.distributor = upload.uploader
        self.lines = 0
        self.days = _SaleDays(upload)

    def line(self, number: int, ref: str, sale: SaleReported, original: bytes) -> Parsed:
        self.lines += 1
        self.distributor = self.distributor or sale.distributor_id
        problem: tuple[str, str, str] | None = None
        if sale.report_id not in (None, self.report_id):
            problem = (
                "report_mismatch",
                "report_id",
                f"report_id {sale.report_id!r} is not the report sent ({self.report_id!r})",
            )
        elif sale.distributor_id != self.distributor:
            problem = (
                "distributor_mismatch",
                "distributor_id",
                f"distributor_id {sale.distributor_id!r} is not the report's {self.distributor!r}",
            )
        if problem is not None:
            reason, field_name, detail = problem
            return Parsed(
                number,
                ref,
                None,
                reason,
                field_name,
                detail,
                original,
                report=1,
                distributor_id=sale.distributor_id,
            )
        self.days.add(sale)
        if sale.report_id is None:
            sale = sale.model_copy(update={"report_id": self.report_id})
        return Parsed(number, ref, sale, original=original, report=1, replaces=self.replaces)

    def close(self, upload: Upload) -> ReportClosed:
        return _report_closed(upload, 1, self.distributor, self.report_id, self.lines, self.days)


# --- CSV -----------------------------------------------------------------------------


def read_csv(upload: Upload, file: Stored) -> Iterator[Item]:
    """A CSV file is one report: its id is the upload's `report_id`, else the first
    line's report_id, else one derived from the file's bytes."""
    with file.open() as stream:
        first = peek_first_line(stream)
    distributor = upload.uploader or _first_line_id(first, "distributor_id")
    if distributor is None:
        raise Unreadable(
            "unknown_distributor",
            "whose report is this? the first line names no distributor_id: "
            "give distributor_id (admin uploads)",
        )
    report_id = (
        upload.report_id or _first_line_id(first, "report_id") or f"csv-{upload.digest[:20]}"
    )
    days = _SaleDays(upload)
    lines = 0
    with file.open() as stream:
        for number, item in parse_csv_lines(
            stream,
            received_at=upload.received_at,
            distributor_id=distributor,
            report_id=report_id,
            source_name=upload.name,
        ):
            lines += 1
            ref = f"{upload.name}:{number}"
            if isinstance(item, CsvLineError):
                original = item.original_line.encode()
                yield Parsed(number, ref, None, item.reason, item.field, item.message, original, 1)
                continue
            days.add(item)
            yield Parsed(number, ref, item, report=1, replaces=upload.replaces)
    yield _report_closed(upload, 1, distributor, report_id, lines, days)


def _first_line_id(first: dict[str, str], column: str) -> str | None:
    """The first line's value of `column`, which the whole file goes by (None: empty)."""
    try:
        return option_id(column, first.get(column))
    except ValueError as exc:
        raise Unreadable(
            "invalid_id",
            f"the file goes by its first line's {exc}; correct it, or give {column}=",
            column=column,
        ) from None


class _SaleDays:
    """The first and last sale date of a report's lines, those with plausible dates only
    (a line dated 2062 is rejected: the report's period is not made of it)."""

    def __init__(self, upload: Upload) -> None:
        self._upload = upload
        self.first: date | None = None
        self.last: date | None = None

    def add(self, sale: SaleReported) -> None:
        day = sale.sold_at.date()
        if self.first is not None and self.last is not None and self.first <= day <= self.last:
            return  # inside the period already: plausible or not, it changes nothing
        if date_problem(sale, self._upload.received_at, self._upload.rules) is not None:
            return
        self.first = day if self.first is None else min(self.first, day)
        self.last = day if self.last is None else max(self.last, day)


def _report_closed(
    upload: Upload,
    index: int,
    distributor: str | None,
    report_id: str,
    lines: int,
    days: _SaleDays,
) -> ReportClosed:
    """The header the gateway makes for a CSV or JSON report, once its lines are counted.

    Its period is the one given, else the first and last sale date of the report (the
    day of receipt when no line is valid).
    """
    received = upload.received_at.date()
    start, end = upload.period or (days.first or received, days.last or received)
    info: dict[str, Any] = {
        "report_id": report_id,
        "replaces": upload.replaces,
        "distributor_id": distributor,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "line_count": lines,
    }
    if distributor is None:
        detail = "no distributor: give distributor_id for the report"
        return ReportClosed(index, None, report_id, None, info, ("missing_distributor", detail))
    header = ReportSubmitted(
        event_id=derived_id("report", upload.source, distributor, report_id, upload.digest),
        occurred_at=upload.received_at,
        recorded_at=upload.received_at,
        source=upload.source,
        source_ref=upload.name[:256],
        distributor_id=distributor,
        report_id=report_id,
        period_start=start,
        period_end=end,
        line_count=lines,
        submitted_at=upload.received_at,
        replaces_report_id=upload.replaces,
    )
    return ReportClosed(index, distributor, report_id, header, info)


# --- X12 867 -------------------------------------------------------------------------


def read_867(upload: Upload, file: Stored) -> Iterator[Item]:
    """Every 867 report of the interchange; a report with report-level errors is rejected
    as a whole (each of its lines with the report's first reason)."""
    index = 1
    with file.open() as stream:
        for item in iter_867(
            stream,
            received_at=upload.received_at,
            distributor_id=upload.uploader,
            source_name=upload.name,
        ):
            if isinstance(item, ReportLine):
                yield _867_line(upload, index, item)
                continue
            yield from _867_end(upload, index, item)
            index += 1


def _867_line(upload: Upload, index: int, item: ReportLine) -> Parsed:
    header = item.header
    replaces = None if header is None else header.replaces
    original = item.original.encode()
    outcome = item.outcome
    if isinstance(outcome, LineError):
        report = header.report_number if header is not None else ""
        ref = x12_source_ref(upload.name, f"867 {report}".rstrip(), outcome.segment_index)
        return Parsed(
            item.number,
            ref,
            None,
            outcome.reason,
            outcome.element,
            outcome.message,
            original,
            index,
            replaces,
            None if header is None else header.distributor_id,
        )
    assert outcome.source_ref is not None
    return Parsed(
        item.number, outcome.source_ref, outcome, None, None, None, original, index, replaces
    )


def _867_end(upload: Upload, index: int, end: ReportEnd) -> Iterator[Item]:
    header = end.header
    info = _header_info(header) | {
        "line_count": end.line_count,
        "ignored_count": end.ignored_count,
        "ignored": [
            {
                "segment": ignored.segment_index,
                "line": ignored.line,
                "code": f"QTY*{ignored.code}",
                "description": ignored.description,
                "quantity": ignored.quantity,
            }
            for ignored in end.ignored
        ],
        "report_errors": [_problem(error) for error in end.report_errors],
    }
    rejected = _rejection(end.report_errors, f"report {header.report_number or '?'}")
    if rejected is not None and end.line_count == 0:
        yield from _error_lines(upload, "867", header.report_number, index, end.report_errors)
    yield ReportClosed(
        index, header.distributor_id, header.report_number or None, end.submitted, info, rejected
    )


def _header_info(header: ReportHeader) -> dict[str, Any]:
    return {
        "report_id": header.report_number or None,
        "purpose": header.purpose,
        "replaces": header.replaces,
        "distributor_id": header.distributor_id,
        "period_start": _iso(header.period_start),
        "period_end": _iso(header.period_end),
        "currency": header.currency,
        "control_number": header.control_number,
    }


# --- X12 852 -------------------------------------------------------------------------


def read_852(upload: Upload, file: Stored) -> Iterator[Item]:
    """Every 852 report: its on-hand counts; ignored activities are listed in its info."""
    with file.open() as stream:
        activities = parse_852_all(
            stream,
            received_at=upload.received_at,
            distributor_id=upload.uploader,
            source_name=upload.name,
        )
    for index, activity in enumerate(activities, start=1):
        yield from _852_report(upload, index, activity)


#: at most this many ignored activities are listed per report (all are counted)
MAX_IGNORED_LISTED: Final = 1000


def _852_report(upload: Upload, index: int, activity: ParsedActivity) -> Iterator[Item]:
    report = activity.report_id or activity.control_number
    for count, segment in zip(activity.counts, activity.count_segments, strict=True):
        assert count.source_ref is not None
        yield Parsed(segment, count.source_ref, count, report=index)
    problems = list(_error_lines(upload, "852", report, index, activity.line_errors))
    rejected = _rejection(activity.report_errors, f"report {report}")
    if rejected is not None:  # each count it would have given is rejected with it
        reason, detail = rejected
        for segment, text in activity.withheld:
            ref = x12_source_ref(upload.name, f"852 {report}".rstrip(), segment)
            problems.append(Parsed(segment, ref, None, reason, None, detail, text.encode(), index))
        if not problems:  # no line: the report's errors answer it
            problems = list(_error_lines(upload, "852", report, index, activity.report_errors))
    yield from sorted(problems, key=lambda parsed: parsed.line)
    info = {
        "report_id": activity.report_id,
        "control_number": activity.control_number,
        "handling": activity.handling,
        "distributor_id": activity.distributor_id,
        "period_start": _iso(activity.period_start),
        "period_end": _iso(activity.period_end),
        "counts": len(activity.counts),
        "ignored_count": len(activity.ignored),
        "ignored": [
            {
                "segment": ignored.segment_index,
                "sku": ignored.sku,
                "code": ignored.code,
                "description": ignored.description,
                "quantity": ignored.quantity,
            }
            for ignored in activity.ignored[:MAX_IGNORED_LISTED]
        ],
        "report_errors": [_problem(error) for error in activity.report_errors],
    }
    yield ReportClosed(index, activity.distributor_id, activity.report_id, None, info)


# --- shared --------------------------------------------------------------------------


def _error_lines(
    upload: Upload, kind: str, report: str, index: int, errors: list[LineError]
) -> Iterator[Parsed]:
    for error in errors:
        ref = x12_source_ref(upload.name, f"{kind} {report}".rstrip(), error.segment_index)
        original = error.original_segment_text.encode()
        line = error.line or error.segment_index
        yield Parsed(line, ref, None, error.reason, error.element, error.message, original, index)


#: the report-level reason that outranks the others: the report is another distributor's
#: (the gateway refuses a distributor's upload of it as a whole, whatever else is wrong)
FOREIGN_REASON: Final = "distributor_mismatch"


def _rejection(errors: list[LineError], what: str) -> tuple[str, str] | None:
    """Why a report is rejected as a whole: its first error's reason, unless it names
    another distributor than the uploader's (then that, wherever it was found)."""
    if not errors:
        return None
    problems = "; ".join(f"segment {e.segment_index}: {e.message}" for e in errors)
    reasons = [e.reason for e in errors]
    reason = FOREIGN_REASON if FOREIGN_REASON in reasons else reasons[0]
    return reason, f"{what} rejected as a whole: {problems}"


def _problem(error: LineError) -> dict[str, Any]:
    return {
        "segment": error.segment_index,
        "element": error.element,
        "reason": error.reason,
        "message": error.message,
    }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
