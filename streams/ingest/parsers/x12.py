"""A small streaming ASC X12 tokenizer, driven by the ISA segment.

The interchange header ISA is fixed-width (106 characters with its terminator), so it
defines the delimiters of everything after it:

- element separator: the byte right after ``ISA`` (index 3);
- component (sub-element) separator: ISA16 (index 104);
- segment terminator: the byte after ISA16 (index 105).

CR and/or LF right after a segment terminator are line breaks for humans and are
skipped; whitespace and a file's padding (NUL, Ctrl-Z) after the last segment are
ignored. The tokenizer reads the binary stream in chunks (never the whole file) and
yields one `Segment` at a time, checking the envelope as it goes: ISA … IEA around
GS … GE groups around ST … SE transaction sets, with their control numbers and counts
(SE01 = segments in the set, ST and SE included; GE01 = transaction sets in the group;
IEA01 = groups in the interchange). Every structural problem raises `X12Error` naming
the 1-based segment index (and the element, when one is at fault). One interchange per
stream: anything after IEA but blanks and padding is an error.

Bytes are decoded as UTF-8 per segment, falling back to Latin-1 for a segment that is
not valid UTF-8 (X12's character sets are ASCII subsets; the fallback never fails and
keeps every byte visible in error messages).

Here: `tokenize`, the transaction-set drivers the 867 and 852 parsers (and any other X12
parser) build on, and DTM dates. Beside it: segments and `X12Error` (`x12_segment.py`),
cutting segments out of the bytes (`x12_stream.py`), the envelope checks (`x12_envelope.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time
from typing import IO, Final, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streams.ingest.parsers.common import (
    FieldProblem,
    LineError,
    at_offset,
    parse_ccyymmdd,
    parse_hhmm,
)
from streams.ingest.parsers.x12_envelope import Envelope, SetControls
from streams.ingest.parsers.x12_segment import Segment, X12Error
from streams.ingest.parsers.x12_stream import (
    CHUNK_SIZE,
    MAX_SEGMENT_BYTES,
    ByteSource,
    RawProblem,
    read_isa,
    segment_of,
)

R_co = TypeVar("R_co", covariant=True)


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
    source = ByteSource(stream, chunk_size)
    isa, delimiters = read_isa(source)
    yield isa
    envelope = Envelope(isa)
    terminator = delimiters.segment.encode("latin-1")
    index = 1
    while True:
        try:
            raw = source.next_segment(terminator, max_segment_bytes)
        except RawProblem as problem:
            raise X12Error(index + 1, None, str(problem)) from None
        if raw is None:
            break
        index += 1
        segment = segment_of(index, raw, delimiters)
        try:  # free in the loop: it names the segment at fault when there is one
            envelope.check(segment)
        except X12Error as error:
            if error.segment_index == segment.index:
                error.tag = segment.tag
            raise
        yield segment
    envelope.finish(index)


class SetBuilder(Protocol[R_co]):
    """Builds one transaction set's result from its segments (ST and SE excluded)."""

    def feed(self, seg: Segment) -> None: ...

    def refuse(self, error: LineError) -> None: ...

    def finish(self) -> R_co: ...


class StreamingSetBuilder(Protocol[R_co]):
    """Builds one transaction set, handing out results as soon as segments complete them."""

    def feed(self, seg: Segment) -> Iterable[R_co]: ...

    def refuse(self, error: LineError) -> None:
        """Reject the set as a whole for an error of its envelope (its ST02 repeated)."""

    def finish(self) -> Iterable[R_co]: ...


def iter_transaction_sets(
    stream: IO[bytes], code: str, start: Callable[[Segment], StreamingSetBuilder[R_co]]
) -> Iterator[R_co]:
    """What the builders of every `code` transaction set hand out, in order.

    Like `tokenize`, a structural error can still be raised after results were yielded:
    act on them only once the generator has finished without error. A set whose ST02
    an earlier set of its group used is refused by its builder (`SetControls`).
    """
    builder: StreamingSetBuilder[R_co] | None = None
    controls = SetControls()
    for seg in tokenize(stream):
        if seg.tag == "GS":
            controls.see(seg)
        elif seg.tag == "ST":
            if seg.get(1) != code:
                found = f"found ST01 {seg.get(1)!r}"
                raise X12Error(seg.index, 1, f"expected an {code} transaction set, {found}", "ST")
            builder = start(seg)
            repeated = controls.see(seg)
            if repeated is not None:
                builder.refuse(repeated)
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

    def refuse(self, error: LineError) -> None:
        self._builder.refuse(error)

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
    st = first_set_header(stream)
    return None if st is None else st.get(1) or None


def first_set_header(stream: IO[bytes]) -> Segment | None:
    """The interchange's first ST segment, None if it has none (as `first_transaction_set`)."""
    for seg in tokenize(stream):
        if seg.tag == "ST":
            return seg
    return None


def x12_source_ref(source_name: str | None, report: str, segment_index: int) -> str:
    """Where an event was read: "weekly.edi 867 R-17 segment 31" (an envelope `source_ref`)."""
    text = f"{report} segment {segment_index}"
    if source_name:
        text = f"{source_name[:96]} {text}"
    return text[:256]


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
    "TIME_CODE_OFFSETS",
    "TIME_CODE_ZONES",
    "Segment",
    "X12Error",
    "dtm_datetime",
    "first_set_header",
    "first_transaction_set",
    "iter_transaction_sets",
    "tokenize",
    "transaction_sets",
    "x12_source_ref",
    "zoned",
]
