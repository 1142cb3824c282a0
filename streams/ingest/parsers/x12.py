"""A small streaming ASC X12 tokenizer, driven by the ISA segment.

The interchange header ISA is fixed-width (106 characters with its terminator), so it
defines the delimiters of everything after it:

- element separator: the byte right after ``ISA`` (index 3);
- component (sub-element) separator: ISA16 (index 104);
- segment terminator: the byte after ISA16 (index 105).

CR and/or LF right after a segment terminator are line breaks for humans and are
skipped; whitespace after the last segment is ignored. The tokenizer reads the binary
stream in chunks (never the whole file) and yields one `Segment` at a time, checking the
envelope as it goes: ISA … IEA around GS … GE groups around ST … SE transaction sets,
with their control numbers and counts (SE01 = segments in the set, ST and SE included;
GE01 = transaction sets in the group; IEA01 = groups in the interchange). Every
structural problem raises `X12Error` naming the 1-based segment index (and the element,
when one is at fault). One interchange per stream: anything after IEA is an error.

Bytes are decoded as UTF-8 per segment, falling back to Latin-1 for a segment that is
not valid UTF-8 (X12's character sets are ASCII subsets; the fallback never fails and
keeps every byte visible in error messages).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import IO, Final, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streams.ingest.parsers.common import FieldProblem, at_offset, parse_ccyymmdd, parse_hhmm

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
_BOM: Final = b"\xef\xbb\xbf"
_CONTROL_TAGS: Final = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})


R_co = TypeVar("R_co", covariant=True)


class X12Error(Exception):
    """A structural error: the interchange cannot be read further.

    `segment_index` is the 1-based position of the segment in the interchange,
    `element_index` the 1-based element position (e.g. 1 for SE01) when one element is
    at fault, else None.
    """

    def __init__(self, segment_index: int, element_index: int | None, message: str) -> None:
        self.segment_index = segment_index
        self.element_index = element_index
        self.message = message
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


def tokenize(
    stream: IO[bytes],
    *,
    chunk_size: int = CHUNK_SIZE,
    max_segment_bytes: int = MAX_SEGMENT_BYTES,
) -> Iterator[Segment]:
    """Yield the segments of the interchange in `stream`; raise `X12Error` when malformed.

    The envelope is checked as segments pass, so a consumer sees every segment before
    a count error at its trailer: consumers must collect what they need and only act
    on it once the generator has finished without error.
    """
    source = _Source(stream, chunk_size)
    isa, delimiters = _read_isa(source)
    yield isa
    envelope = _Envelope(isa)
    terminator = delimiters.segment.encode("latin-1")
    index = 1
    while True:
        try:
            raw = source.next_segment(terminator, max_segment_bytes)
        except _RawProblem as problem:
            raise X12Error(index + 1, None, str(problem)) from None
        if raw is None:
            break
        index += 1
        segment = _segment(index, raw, delimiters)
        envelope.check(segment)
        yield segment
    envelope.finish(index)


class SetBuilder(Protocol[R_co]):
    """Builds one transaction set's result from its segments (ST and SE excluded)."""

    def feed(self, seg: Segment) -> None: ...

    def finish(self) -> R_co: ...


class StreamingSetBuilder(Protocol[R_co]):
    """Builds one transaction set, handing out results as soon as segments complete them."""

    def feed(self, seg: Segment) -> Iterable[R_co]: ...

    def finish(self) -> Iterable[R_co]: ...


def iter_transaction_sets(
    stream: IO[bytes], code: str, start: Callable[[Segment], StreamingSetBuilder[R_co]]
) -> Iterator[R_co]:
    """What the builders of every `code` transaction set hand out, in order.

    Like `tokenize`, a structural error can still be raised after results were yielded:
    act on them only once the generator has finished without error.
    """
    builder: StreamingSetBuilder[R_co] | None = None
    for seg in tokenize(stream):
        if seg.tag == "ST":
            if seg.get(1) != code:
                raise X12Error(
                    seg.index, 1, f"expected an {code} transaction set, found ST01 {seg.get(1)!r}"
                )
            builder = start(seg)
        elif seg.tag == "SE":
            assert builder is not None  # the tokenizer checks ST/SE nesting
            yield from builder.finish()
            builder = None
        elif builder is not None:
            yield from builder.feed(seg)


class _Whole(Generic[R_co]):
    """A `SetBuilder` as a streaming one that hands out its one result at the end."""

    def __init__(self, builder: SetBuilder[R_co]) -> None:
        self._builder = builder

    def feed(self, seg: Segment) -> Iterable[R_co]:
        self._builder.feed(seg)
        return ()

    def finish(self) -> Iterable[R_co]:
        return (self._builder.finish(),)


def transaction_sets(
    stream: IO[bytes], code: str, start: Callable[[Segment], SetBuilder[R_co]]
) -> list[R_co]:
    """Every `code` transaction set of the interchange, each built by `start(ST)`."""
    return list(iter_transaction_sets(stream, code, lambda st: _Whole(start(st))))


def first_transaction_set(stream: IO[bytes]) -> str | None:
    """ST01 of the interchange's first transaction set (e.g. "867"), None if it has none.

    Reads only as far as that ST; raises `X12Error` when the input is not X12.
    """
    for seg in tokenize(stream):
        if seg.tag == "ST":
            return seg.get(1) or None
    return None


def x12_source_ref(source_name: str | None, report: str, segment_index: int) -> str:
    """Where an event was read: "weekly.edi 867 R-17 segment 31" (an envelope `source_ref`)."""
    text = f"{report} segment {segment_index}"
    if source_name:
        text = f"{source_name[:96]} {text}"
    return text[:256]


def segment_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class _Source:
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
        skipped), or None at the end of the stream. Raises `_RawProblem`."""
        scan = self.pos
        while True:
            end = self.buf.find(terminator, scan)
            if end < 0:
                scanned = self.available()
                if scanned > max_bytes:
                    raise _RawProblem(
                        f"segment longer than {max_bytes} bytes: missing segment "
                        f"terminator {terminator.decode('latin-1')!r}?"
                    )
                if self.fill():
                    scan = self.pos + scanned  # no terminator in what was already searched
                    continue
                rest = bytes(self.buf[self.pos :]).strip(_LEADING_NOISE)
                if rest:
                    raise _RawProblem(
                        f"unterminated segment at end of input {_preview(rest)}: every "
                        f"segment must end with {terminator.decode('latin-1')!r}"
                    )
                return None
            raw = bytes(self.buf[self.pos : end]).lstrip(_LINE_BREAKS)
            self.pos = scan = end + 1
            if terminator == b"\n":
                raw = raw.rstrip(b"\r")
            if not raw:
                continue
            if len(raw) > max_bytes:
                raise _RawProblem(f"segment longer than {max_bytes} bytes")
            return raw


class _RawProblem(Exception):
    """A segment that cannot be cut out of the byte stream."""


def _preview(raw: bytes, limit: int = 40) -> str:
    text = segment_text(raw[:limit])
    return repr(text + ("…" if len(raw) > limit else ""))


def _is_delimiter(byte: int, *, terminator: bool = False) -> bool:
    char = chr(byte)
    if char.isascii() and char.isalnum():
        return False
    if char == " ":
        return False
    return terminator or char not in "\r\n"


def _read_isa(source: _Source) -> tuple[Segment, Delimiters]:
    source.skip_leading_noise()
    while source.available() < ISA_LENGTH and source.fill():
        pass
    head = bytes(source.buf[source.pos : source.pos + ISA_LENGTH])
    if not head:
        raise X12Error(1, None, "empty input: an interchange starts with an ISA segment")
    if head[:3] != b"ISA"[: len(head[:3])]:
        raise X12Error(
            1, None, f"expected the interchange header ISA first, found {_preview(head, 20)}"
        )
    if len(head) < ISA_LENGTH:
        raise X12Error(
            1,
            None,
            f"input ends inside the ISA segment ({len(head)} of its {ISA_LENGTH} characters)",
        )
    element_b, component_b, terminator_b = head[3], head[104], head[105]
    if not _is_delimiter(element_b):
        raise X12Error(
            1, None, f"element separator {chr(element_b)!r} (ISA byte 4) cannot be a delimiter"
        )
    if not _is_delimiter(component_b):
        raise X12Error(
            1, 16, f"component separator {chr(component_b)!r} (ISA16) cannot be a delimiter"
        )
    if not _is_delimiter(terminator_b, terminator=True):
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
    delimiters = Delimiters(chr(element_b), chr(component_b), chr(terminator_b))
    text = head[: ISA_LENGTH - 1].decode("latin-1")
    parts = text.split(delimiters.element)
    if len(parts) != len(ISA_WIDTHS) + 1:
        raise X12Error(
            1,
            None,
            f"the ISA must have {len(ISA_WIDTHS)} elements separated by "
            f"{delimiters.element!r}, found {len(parts) - 1}",
        )
    for position, (value, width) in enumerate(zip(parts[1:], ISA_WIDTHS, strict=True), 1):
        if len(value) != width:
            raise X12Error(
                1,
                position,
                f"ISA{position:02d} must be {width} characters, found {len(value)} "
                "(the ISA is fixed-width)",
            )
    if not parts[13].isdigit():
        raise X12Error(1, 13, f"ISA13 control number {parts[13]!r} must be 9 digits")
    source.pos += ISA_LENGTH
    return Segment(1, "ISA", parts[1:], delimiters), delimiters


def _segment(index: int, raw: bytes, delimiters: Delimiters) -> Segment:
    text = segment_text(raw)
    parts = text.split(delimiters.element)
    tag = parts[0]
    if not _TAG.fullmatch(tag):
        raise X12Error(
            index,
            None,
            f"{_preview(raw, 20)} does not start with a segment tag followed by the element "
            f"separator {delimiters.element!r}",
        )
    return Segment(index, tag, parts[1:], delimiters)


class _Envelope:
    """ISA/IEA, GS/GE and ST/SE nesting, control numbers and counts."""

    def __init__(self, isa: Segment) -> None:
        self._isa13 = isa.get(13)
        self._state = "interchange"
        self._groups = 0
        self._gs: Segment | None = None
        self._sets = 0
        self._st: Segment | None = None
        self._segments = 0

    def check(self, seg: Segment) -> None:
        tag = seg.tag
        if self._state == "done":
            raise X12Error(seg.index, None, f"{tag} after IEA: one interchange per input")
        if tag == "ISA":
            raise X12Error(seg.index, None, "a second ISA before IEA closed the first")
        if self._state == "set":
            self._segments += 1
            if tag == "SE":
                self._close_set(seg)
            elif tag in _CONTROL_TAGS:
                st = self._st
                assert st is not None
                raise X12Error(
                    seg.index,
                    None,
                    f"{tag} inside transaction set {st.get(2)!r} (ST at segment {st.index}): "
                    "missing SE",
                )
        elif self._state == "group":
            if tag == "ST":
                self._open_set(seg)
            elif tag == "GE":
                self._close_group(seg)
            else:
                raise X12Error(
                    seg.index, None, f"{tag} outside a transaction set (expected ST or GE)"
                )
        elif tag == "GS":
            self._gs, self._sets, self._state = seg, 0, "group"
            self._groups += 1
            if not seg.get(6):
                raise X12Error(seg.index, 6, "GS06 group control number is missing")
        elif tag == "IEA":
            self._close_interchange(seg)
        else:
            raise X12Error(seg.index, None, f"{tag} outside a functional group (expected GS)")

    def _open_set(self, seg: Segment) -> None:
        if not seg.get(1):
            raise X12Error(seg.index, 1, "ST01 transaction set identifier is missing")
        if not seg.get(2):
            raise X12Error(seg.index, 2, "ST02 transaction set control number is missing")
        self._st, self._segments, self._state = seg, 1, "set"
        self._sets += 1

    def _close_set(self, seg: Segment) -> None:
        st = self._st
        assert st is not None
        declared = _count(seg, 1)
        if declared != self._segments:
            raise X12Error(
                seg.index,
                1,
                f"SE01 says {declared} segments but transaction set {st.get(2)!r} has "
                f"{self._segments} (ST and SE included)",
            )
        if seg.get(2) != st.get(2):
            raise X12Error(
                seg.index,
                2,
                f"SE02 control number {seg.get(2)!r} does not match ST02 {st.get(2)!r}",
            )
        self._state = "group"

    def _close_group(self, seg: Segment) -> None:
        gs = self._gs
        assert gs is not None
        declared = _count(seg, 1)
        if declared != self._sets:
            raise X12Error(
                seg.index,
                1,
                f"GE01 says {declared} transaction sets but the group has {self._sets}",
            )
        if seg.get(2) != gs.get(6):
            raise X12Error(
                seg.index,
                2,
                f"GE02 control number {seg.get(2)!r} does not match GS06 {gs.get(6)!r}",
            )
        self._state = "interchange"

    def _close_interchange(self, seg: Segment) -> None:
        declared = _count(seg, 1)
        if declared != self._groups:
            raise X12Error(
                seg.index,
                1,
                f"IEA01 says {declared} functional groups but the interchange has {self._groups}",
            )
        if seg.get(2) != self._isa13:
            raise X12Error(
                seg.index,
                2,
                f"IEA02 control number {seg.get(2)!r} does not match ISA13 {self._isa13!r}",
            )
        self._state = "done"

    def finish(self, last_index: int) -> None:
        missing = {"set": "SE", "group": "GE", "interchange": "IEA"}.get(self._state)
        if missing is not None:
            raise X12Error(
                last_index + 1,
                None,
                f"input ends without {missing} (after segment {last_index})",
            )


def _count(seg: Segment, position: int) -> int:
    value = seg.get(position)
    if not value.isdigit():
        raise X12Error(seg.index, position, f"{seg.name(position)} {value!r} must be a whole count")
    return int(value)


# --- dates -------------------------------------------------------------------------

#: DTM04 time codes understood: fixed offsets (hours from UTC) and US zones whose
#: offset depends on the date (resolved with the IANA database).
TIME_CODE_OFFSETS: Final[dict[str, float]] = {
    "UT": 0,
    "GM": 0,
    "AS": -4,
    "AD": -3,
    "ES": -5,
    "ED": -4,
    "CS": -6,
    "CD": -5,
    "MS": -7,
    "MD": -6,
    "PS": -8,
    "PD": -7,
    "HS": -10,
}
TIME_CODE_ZONES: Final[dict[str, str]] = {
    "AT": "America/Halifax",
    "ET": "America/New_York",
    "CT": "America/Chicago",
    "MT": "America/Denver",
    "PT": "America/Los_Angeles",
    "HT": "Pacific/Honolulu",
}


def dtm_datetime(seg: Segment, reason: str) -> datetime:
    """The UTC instant of a DTM segment: DTM02 date, DTM03 time (default 00:00), DTM04
    time code (default UTC). Raises `FieldProblem` naming the element at fault."""
    day = parse_ccyymmdd(seg.get(2), seg.name(2), reason)
    at = parse_hhmm(seg.get(3), seg.name(3), reason) if seg.get(3) else time(0, 0)
    return zoned(day, at, seg.get(4), seg.name(4), reason)


def zoned(day: date, at: time, code: str, what: str, reason: str) -> datetime:
    try:
        if not code:
            return datetime.combine(day, at, UTC)
        if code in TIME_CODE_OFFSETS:
            return at_offset(day, at, TIME_CODE_OFFSETS[code])
        if code in TIME_CODE_ZONES:
            try:
                zone = ZoneInfo(TIME_CODE_ZONES[code])
            except ZoneInfoNotFoundError:  # pragma: no cover - depends on the host's tz data
                raise FieldProblem(
                    reason, f"{what} {code!r}: no time-zone data on this host", what
                ) from None
            return datetime.combine(day, at, zone).astimezone(UTC)
    except (OverflowError, ValueError):
        raise FieldProblem(
            reason, f"{day.isoformat()} {code} is out of the supported range"
        ) from None
    known = ", ".join(sorted({*TIME_CODE_OFFSETS, *TIME_CODE_ZONES}))
    raise FieldProblem(reason, f"{what} time code {code!r} is not supported (known: {known})", what)


__all__ = [
    "DEFAULT_DELIMITERS",
    "ISA_LENGTH",
    "ISA_WIDTHS",
    "MAX_SEGMENT_BYTES",
    "TIME_CODE_OFFSETS",
    "TIME_CODE_ZONES",
    "Delimiters",
    "Segment",
    "X12Error",
    "dtm_datetime",
    "first_transaction_set",
    "iter_transaction_sets",
    "tokenize",
    "x12_source_ref",
    "zoned",
]
