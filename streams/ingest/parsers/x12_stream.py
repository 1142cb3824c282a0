"""Cutting an X12 interchange's segments out of a binary stream: chunked reads, the
fixed-width ISA that defines the delimiters, and one raw segment at a time
(streams/ingest/parsers/x12.py's `tokenize` drives it)."""

from __future__ import annotations

import re
from typing import IO, Final

from streams.ingest.parsers.common import FILE_PADDING, digits, utf16_marked
from streams.ingest.parsers.x12_segment import Delimiters, Segment, X12Error, segment_text

ISA_LENGTH: Final = 106
#: Widths of ISA01..ISA16 (the ISA is fixed-width).
ISA_WIDTHS: Final = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
#: Longest segment accepted, in bytes: far above any real one, so a missing terminator
#: is caught without reading the rest of the stream into memory.
MAX_SEGMENT_BYTES: Final = 64 * 1024
CHUNK_SIZE: Final = 64 * 1024

_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_LINE_BREAKS: Final = b"\r\n"
_LEADING_NOISE: Final = b" \t\r\n"
#: what may follow the last segment: blanks and a file's padding (NUL, Ctrl-Z)
_TRAILING_NOISE: Final = _LEADING_NOISE + FILE_PADDING.encode()
_BOM: Final = b"\xef\xbb\xbf"


class ByteSource:
    """Chunked reads from a binary stream with a small look-ahead buffer."""

    def __init__(self, stream: IO[bytes], chunk_size: int) -> None:
        self._stream = stream
        self._chunk = max(1, chunk_size)
        self.buf = bytearray()
        self.pos = 0
        self.eof = False

    def fill(self) -> bool:
        """Read one more chunk; False at end of stream."""
        if self.eof:
            return False
        if self.pos:
            del self.buf[: self.pos]
            self.pos = 0
        data = self._stream.read(self._chunk)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def available(self) -> int:
        return len(self.buf) - self.pos

    def skip_leading_noise(self) -> None:
        """Skip a UTF-8 byte-order mark and blank space before the ISA."""
        first = True
        while True:
            if self.available() < 3 and not self.eof:
                self.fill()
                continue
            if first and self.buf.startswith(_BOM, self.pos):
                self.pos += len(_BOM)
            first = False
            while self.pos < len(self.buf) and self.buf[self.pos] in _LEADING_NOISE:
                self.pos += 1
            if self.pos < len(self.buf) or not self.fill():
                return

    def next_segment(self, terminator: bytes, max_bytes: int) -> bytes | None:
        """The next raw segment (CR/LF after the previous terminator removed, blanks
        skipped), or None at the end of the stream. Raises `RawProblem`."""
        scan = self.pos
        while True:
            end = self.buf.find(terminator, scan)
            if end < 0:
                scanned = self.available()
                if scanned > max_bytes:
                    raise RawProblem(
                        f"segment longer than {max_bytes} bytes: missing segment "
                        f"terminator {terminator.decode('latin-1')!r}?"
                        f"{terminator_hint(bytes(self.buf[self.pos :]), terminator)}"
                    )
                if self.fill():
                    scan = self.pos + scanned  # no terminator in what was already searched
                    continue
                rest = bytes(self.buf[self.pos :]).strip(_TRAILING_NOISE)
                if rest:
                    raise RawProblem(
                        f"unterminated segment at end of input {preview(rest)}: every "
                        f"segment must end with {terminator.decode('latin-1')!r}"
                        f"{terminator_hint(rest, terminator)}"
                    )
                return None
            raw = bytes(self.buf[self.pos : end]).lstrip(_LINE_BREAKS)
            self.pos = scan = end + 1
            if terminator == b"\n":
                raw = raw.rstrip(b"\r")
            if not raw:
                continue
            if len(raw) > max_bytes:
                raise RawProblem(f"segment longer than {max_bytes} bytes")
            return raw


class RawProblem(Exception):
    """A segment that cannot be cut out of the byte stream."""


def preview(raw: bytes, limit: int = 40) -> str:
    text = segment_text(raw[:limit])
    return repr(text + ("…" if len(raw) > limit else ""))


def terminator_hint(rest: bytes, terminator: bytes) -> str:
    """What the segments that run on without `terminator` seem to end with, when they are
    written one per line: the character before each line break, or the line break alone
    (the usual mistake: a file whose ISA says one terminator and whose segments use
    another). Empty when the text shows no such pattern."""
    lines = [line.rstrip(b"\r") for line in rest.split(b"\n")[:-1]]
    if len(lines) < 2 or not all(lines):
        return ""
    declared = terminator.decode("latin-1")
    where = "(the character right after ISA16, at position 106)"
    ends = {line[-1] for line in lines}
    if len(ends) == 1 and is_delimiter(only := next(iter(ends)), terminator=True):
        return (
            f"; the segments here end with {chr(only)!r}, but the ISA declares {declared!r} "
            f"{where}: write the same terminator in both"
        )
    if not any(is_delimiter(end, terminator=True) for end in ends):
        return (
            f"; the segments here end with a line break only, but the ISA declares "
            f"{declared!r} {where}: end every segment with it"
        )
    return ""


def is_delimiter(byte: int, *, terminator: bool = False) -> bool:
    char = chr(byte)
    if char.isascii() and char.isalnum():
        return False
    if char == " ":
        return False
    return terminator or char not in "\r\n"


#: how a UTF-16 interchange without a byte-order mark starts: ISA with a NUL beside each letter
_UTF16_ISA: Final = (b"I\x00S\x00A\x00", b"\x00I\x00S\x00A")


def read_isa(source: ByteSource) -> tuple[Segment, Delimiters]:
    """The interchange header: its 106 bytes checked, the delimiters they define."""
    head = _isa_bytes(source)
    _isa_widths(head)
    delimiters = _isa_delimiters(head)
    elements = _isa_elements(head, delimiters)
    source.pos += ISA_LENGTH
    return Segment(1, "ISA", elements, delimiters), delimiters


def _isa_bytes(source: ByteSource) -> bytes:
    """The ISA's bytes, after any leading noise; an error unless there are 106 of them."""
    source.skip_leading_noise()
    while source.available() < ISA_LENGTH and source.fill():
        pass
    head = bytes(source.buf[source.pos : source.pos + ISA_LENGTH])
    if not head:
        raise X12Error(1, None, "empty input: an interchange starts with an ISA segment")
    if utf16_marked(head) or head.startswith(_UTF16_ISA):
        raise X12Error(
            1,
            None,
            "the file is UTF-16 text: an X12 interchange is ASCII; save it as such "
            "(ANSI or UTF-8) and send it again",
        )
    if head[:3] != b"ISA"[: len(head[:3])]:
        raise X12Error(
            1, None, f"expected the interchange header ISA first, found {preview(head, 20)}"
        )
    if len(head) < ISA_LENGTH:
        raise X12Error(
            1,
            None,
            f"input ends inside the ISA segment ({len(head)} of its {ISA_LENGTH} characters)",
        )
    return head


def _isa_widths(head: bytes) -> None:
    """ISA01 … ISA15 each of its fixed width, checked before the delimiters are taken from
    their fixed places: an ISA whose blanks were trimmed (an export that strips padding)
    puts other characters there, and its sender is told which element is short, not that
    a letter cannot be a delimiter."""
    if not is_delimiter(head[3]):
        return  # no element separator to split by: _isa_delimiters says so
    values = head.decode("latin-1").split(chr(head[3]))[1:16]
    for position, (value, width) in enumerate(zip(values, ISA_WIDTHS, strict=False), 1):
        if len(value) != width:
            raise X12Error(
                1,
                position,
                f"ISA{position:02d} must be {width} characters, found {len(value)} "
                "(the ISA is fixed-width: pad its elements with blanks, ids like ISA06 and "
                "ISA08 to 15 characters)",
            )


def _isa_delimiters(head: bytes) -> Delimiters:
    """The element separator (byte 4), component separator (ISA16) and terminator."""
    element_b, component_b, terminator_b = head[3], head[104], head[105]
    if not is_delimiter(element_b):
        raise X12Error(
            1, None, f"element separator {chr(element_b)!r} (ISA byte 4) cannot be a delimiter"
        )
    if not is_delimiter(component_b):
        raise X12Error(
            1, 16, f"component separator {chr(component_b)!r} (ISA16) cannot be a delimiter"
        )
    if not is_delimiter(terminator_b, terminator=True):
        raise X12Error(
            1,
            None,
            f"segment terminator {chr(terminator_b)!r} (the byte after ISA16) cannot be a "
            "delimiter: is the ISA 106 characters long?",
        )
    if len({element_b, component_b, terminator_b}) != 3:
        raise X12Error(
            1,
            None,
            "element separator, component separator and segment terminator must differ "
            f"(found {chr(element_b)!r}, {chr(component_b)!r}, {chr(terminator_b)!r})",
        )
    return Delimiters(chr(element_b), chr(component_b), chr(terminator_b))


def _isa_elements(head: bytes, delimiters: Delimiters) -> list[str]:
    """ISA01..ISA16 (their widths checked by `_isa_widths`); ISA13 a control number."""
    text = head[: ISA_LENGTH - 1].decode("latin-1")
    parts = text.split(delimiters.element)
    if len(parts) != len(ISA_WIDTHS) + 1:
        raise X12Error(
            1,
            None,
            f"the ISA must have {len(ISA_WIDTHS)} elements separated by "
            f"{delimiters.element!r}, found {len(parts) - 1}",
        )
    if not digits(parts[13]):
        raise X12Error(1, 13, f"ISA13 control number {parts[13]!r} must be 9 digits")
    return parts[1:]


def segment_of(index: int, raw: bytes, delimiters: Delimiters) -> Segment:
    text = segment_text(raw)
    parts = text.split(delimiters.element)
    tag = parts[0]
    if not _TAG.fullmatch(tag):
        raise X12Error(
            index,
            None,
            f"{preview(raw, 20)} does not start with a segment tag followed by the element "
            f"separator {delimiters.element!r}",
        )
    return Segment(index, tag, parts[1:], delimiters)
