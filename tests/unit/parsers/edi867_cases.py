"""X12 867 test cases: a report's heading, PTD loop and line, and parsing them."""

from __future__ import annotations

import io

from streams.ingest.parsers.common import LineError
from streams.ingest.parsers.edi867 import (
    ParsedReport,
    parse_867,
)
from tests.unit.parsers.conftest import RECEIVED_AT, SAMPLES
from tests.unit.parsers.edi_builder import interchange

HEADER = [
    "BPT*00*RPT-1*20260406*DD",
    "DTM*090*20260330",
    "DTM*091*20260405",
    "N1*DS*ACME DISTRIBUTION*91*DIST-001",
]
LOOP = ["PTD*SS", "N1*ST*BRIGHT*91*RES-100", "REF*IV*INV1", "DTM*003*20260331"]
LINE = ["LIN*1*VP*WIDGET-100", "QTY*39*10*EA", "UIT*EA*12.50"]


def parse(body: list[str], distributor_id: str | None = None) -> ParsedReport:
    data = interchange(body)
    return parse_867(io.BytesIO(data), received_at=RECEIVED_AT, distributor_id=distributor_id)


def sample(name: str) -> ParsedReport:
    with (SAMPLES / name).open("rb") as stream:
        return parse_867(stream, received_at=RECEIVED_AT)


def only_error(report: ParsedReport) -> LineError:
    assert report.sales == []
    assert len(report.line_errors) == 1, report.line_errors
    return report.line_errors[0]


def only_report_error(report: ParsedReport) -> LineError:
    assert len(report.report_errors) == 1, report.report_errors
    return report.report_errors[0]
