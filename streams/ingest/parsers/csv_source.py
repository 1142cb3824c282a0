"""Reading a CSV report's records from a binary stream: one physical line at a time, each
at most so long, blank records skipped, the line each record starts on counted."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Final

from streams.ingest.parsers.common import FILE_PADDING, utf16_marked
from streams.ingest.parsers.content_kind import DOORS, content_kind
from streams.ingest.parsers.csv_line_parser import LineParser
from streams.ingest.parsers.csv_template import (
    REQUIRED_COLUMNS,
    CsvFormatError,
    CsvHeaderError,
    CsvLine,
    check_header,
    check_separator,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class _Unclosable(io.RawIOBase):
    """A read-only view of the caller's stream that closing never closes."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


class _Lines:
    """Physical text lines (endings kept), counted, each at most `limit` characters."""

    def __init__(self, text: IO[str], limit: int) -> None:
        self._readline = text.readline
        self._limit = limit
        self.count = 0
        self.record: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._readline(self._limit + 1)
        if not line:
            raise StopIteration
        self.count += 1
        if len(line) > self._limit:
            raise CsvFormatError(
                self.count,
                f"line longer than {self._limit:,} characters: not a CSV line (is this the "
                "right file? lines must end with CR LF or LF)",
            )
        self.record.append(line)
        return line

    def take_record(self) -> str:
        record = self.record
        text = record[0] if len(record) == 1 else "".join(record)
        record.clear()
        return text.rstrip("\r\n")


class CsvSource:
    """The CSV records of a binary stream, read as UTF-8 text one physical line at a time."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        buffered = io.BufferedReader(_Unclosable(stream), buffer_size=64 * 1024)
        self._not_text = not_text(buffered.peek(HEAD_BYTES)[:HEAD_BYTES])
        self._text = io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="replace", newline="")
        self._lines = _Lines(self._text, limit)
        self._reader = csv.reader(self._lines, strict=True)
        #: whether the last record read was not CSV (the stream may have cut it)
        self.ended_in_error = False
        #: each column's name as the header spells it (its blanks trimmed), once read
        self.spelling: dict[str, str] = {}

    def header(self) -> list[str]:
        if self._not_text is not None:
            raise CsvHeaderError(self._not_text)
        while True:
            try:
                row = next(self._reader)
            except StopIteration:
                raise CsvHeaderError(
                    "the file is empty: the first line must be the header "
                    f"({', '.join(REQUIRED_COLUMNS)}, sku, ...)",
                    missing=list(REQUIRED_COLUMNS),
                ) from None
            except csv.Error as error:
                raise CsvHeaderError(f"the header line is not valid CSV: {error}") from None
            original = self._lines.take_record()
            if has_content(row) and not check_separator(original):
                names = check_header(row)
                self.spelling = {n: cell.strip() for n, cell in zip(names, row, strict=False)}
                return names

    def skip(self, lines: int) -> None:
        """Count `lines` physical lines as read (lines of the file the stream leaves out)."""
        self._lines.count += lines

    def raw_rows(self) -> Iterator[list[str]]:
        """Data records as cells, blank ones skipped (`has_content`); a record that is not CSV
        ends it."""
        while True:
            try:
                row = next(self._reader)
            except (StopIteration, csv.Error):
                return
            self._lines.take_record()
            if has_content(row):
                yield row

    def rows(self, parse: LineParser) -> Iterator[CsvLine]:
        lines, reader = self._lines, self._reader
        while True:
            start = lines.count + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                self.ended_in_error = True
                original = lines.take_record()
                message = f"line {start} is not valid CSV: {error}"
                cells = next(csv.reader(io.StringIO(original), strict=False), [])
                unreadable = parse.unreadable(start, cells, "csv_syntax", None, message, original)
                yield start, parse.redact(unreadable), None
                continue
            self.ended_in_error = False
            original = lines.take_record()
            if not has_content(row):
                continue  # blank line (or a row of empty cells, as spreadsheets write)
            outcome, column = parse(start, row, original)
            yield start, parse.redact(outcome), column


#: how much of the file's start says whether it is UTF-8 text
HEAD_BYTES = 4096


def not_text(head: bytes) -> str | None:
    """Why a file starting with `head` is not a UTF-8 CSV report, or None. A spreadsheet's
    "Unicode text" export is UTF-16: read as UTF-8 its header is garbled past recognition;
    an X12 interchange or JSON sent to the CSV door is named as such, not as a header."""
    if utf16_marked(head):
        return "the file is UTF-16 text, not UTF-8: save it as 'CSV UTF-8' and send it again"
    kind = content_kind(head)
    if kind == "x12":
        return f"the file is an X12 interchange, not a CSV report: send it to {DOORS[kind]}"
    if kind == "json":
        return f"the file is JSON, not a CSV report: JSON events go to {DOORS[kind]}"
    if b"\x00" in head.split(b"\n", 1)[0]:  # in the header: a NUL in a line is that line's
        return "the file is not text (NUL bytes in its first line): a CSV report is UTF-8 text"
    return None


def has_content(row: list[str]) -> bool:
    """False for a blank line, a record of empty or whitespace-only cells, or one of
    nothing else but a file's padding (`FILE_PADDING`: the Ctrl-Z a DOS tool ends a
    file with, NUL bytes)."""
    return bool("".join(row).strip().strip(_BLANK_OR_PADDING))


_BLANK_OR_PADDING: Final = FILE_PADDING + " \t\r\n\f\v"
