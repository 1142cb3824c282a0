"""X12 867 and 852 reports: each line, each report's end and why a report is rejected as a
whole."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, Final

from streams.ingest.formats.upload import Item, Parsed, ReportClosed, Stored, Upload
from streams.ingest.parsers.common import LineError
from streams.ingest.parsers.edi852 import ParsedActivity, parse_852_all
from streams.ingest.parsers.edi867 import ReportEnd, ReportHeader, ReportLine, iter_867
from streams.ingest.parsers.x12 import x12_source_ref
from streams.ingest.parsers.x12_segment import MissingSegment


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
            segment=outcome.segment_index,
            missing=outcome.missing,
            also=outcome.also,
        )
    assert outcome.source_ref is not None
    return Parsed(
        item.number,
        outcome.source_ref,
        outcome,
        None,
        None,
        None,
        original,
        index,
        replaces,
        where=item.origins,
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
    counts = []
    read = zip(activity.counts, activity.count_segments, activity.count_origins, strict=True)
    for count, segment, origins in read:
        assert count.source_ref is not None
        counts.append(Parsed(segment, count.source_ref, count, report=index, where=origins))
    problems = list(_error_lines(upload, "852", report, index, activity.line_errors))
    rejected = _rejection(activity.report_errors, f"report {report}")
    if rejected is not None:  # each count it would have given is rejected with it
        reason, detail = rejected
        for segment, text in activity.withheld:
            ref = x12_source_ref(upload.name, f"852 {report}".rstrip(), segment)
            problems.append(Parsed(segment, ref, None, reason, None, detail, text.encode(), index))
        if not problems:  # no line: the report's errors answer it
            problems = list(_error_lines(upload, "852", report, index, activity.report_errors))
    # in file order, counts and problems together, as the answer lists them
    yield from sorted((*counts, *problems), key=lambda parsed: parsed.line)
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


def _error_lines(
    upload: Upload, kind: str, report: str, index: int, errors: list[LineError]
) -> Iterator[Parsed]:
    for error in errors:
        ref = x12_source_ref(upload.name, f"{kind} {report}".rstrip(), error.segment_index)
        original = error.original_segment_text.encode()
        line = error.line or error.segment_index
        yield Parsed(
            line,
            ref,
            None,
            error.reason,
            error.element,
            error.message,
            original,
            index,
            segment=error.segment_index,
            missing=error.missing,
            also=error.also,
        )


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
    """A report error in the answer: where it was noted and why; for a segment missing, its
    ID, its qualifier ("" when any) and the segment it belongs before (as the 997 names it:
    `missing_of` reads it)."""
    missing = error.missing
    return {
        "segment": error.segment_index,
        "element": error.element,
        "reason": error.reason,
        "message": error.message,
        "missing": None
        if missing is None
        else {"id": missing.tag, "qualifier": missing.qualifier, "before": missing.index},
    }


def missing_of(problem: dict[str, Any]) -> MissingSegment | None:
    """The segment missing that a report error of the answer names, if it names one."""
    missing = problem.get("missing")
    if missing is None:
        return None
    return MissingSegment(missing["id"], missing["before"], missing.get("qualifier", ""))


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
