"""Pure, streaming parsers of distributor reports: X12 867 / 852 and the CSV template.

No Kafka, no I/O beyond reading the binary stream they are given, deterministic output
(event ids are uuid5 over the business content). See each module's docstring for the
code tables, and docs/INGEST.md for the CSV template.
"""

from streams.ingest.parsers.common import LineError
from streams.ingest.parsers.csv_report import (
    CsvFormatError,
    CsvHeaderError,
    CsvLineError,
    parse_csv,
)
from streams.ingest.parsers.edi852 import IgnoredActivity, ParsedActivity, parse_852, parse_852_all
from streams.ingest.parsers.edi867 import ParsedReport, ReportHeader, parse_867, parse_867_all
from streams.ingest.parsers.x12 import Segment, X12Error, tokenize

__all__ = [
    "CsvFormatError",
    "CsvHeaderError",
    "CsvLineError",
    "IgnoredActivity",
    "LineError",
    "ParsedActivity",
    "ParsedReport",
    "ReportHeader",
    "Segment",
    "X12Error",
    "parse_852",
    "parse_852_all",
    "parse_867",
    "parse_867_all",
    "parse_csv",
    "tokenize",
]
