"""What the report parsers share: line errors, number / money / date parsing, event ids.

Everything here is pure and deterministic: the same input gives the same output, event
ids included (uuid5 over the business content), so a re-upload of the same file yields
the same events and the idempotency machinery downstream sees a redelivery.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from schemas.codec import error_message, is_personal
from schemas.currencies import currency_problem
from schemas.types import price_problem, quantity_problem
from streams.ingest.parsers.x12_segment import MissingSegment

if TYPE_CHECKING:  # x12 imports this module
    from streams.ingest.parsers.x12 import Segment

#: Namespace of every event id the report parsers derive (uuid5 of a readable name).
REPORTS_NAMESPACE: Final = uuid5(NAMESPACE_URL, "urn:channelflow:reports")

DEFAULT_CURRENCY: Final = "USD"

_X12_DECIMAL = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")


@dataclass(frozen=True, slots=True)
class LineError:
    """One rejected EDI line (or a report-level problem), with where and why.

    `segment_index` is the 1-based position of the offending segment in the
    interchange, `element` its element name (e.g. ``QTY02``) when one element is at
    fault, `reason` a stable machine code (see the parsers' ``REASONS``), `message` a
    sentence for a human, `original_segment_text` the segment as it was sent, and
    `line` the 1-based number of the report line it belongs to, when it belongs to one;
    `missing` the segment whose absence is the problem, when one is.
    """

    segment_index: int
    element: str | None
    reason: str
    message: str
    original_segment_text: str
    line: int | None = None
    missing: MissingSegment | None = None
    #: the line's further problems, after the first (the message lists them too; the 997
    #: names each)
    also: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem met reading an X12 line: the segment and element at fault, the reason, a
    sentence for a human, and the segment whose absence it is, when it is one."""

    seg: Segment
    element: str | None
    reason: str
    message: str
    missing: MissingSegment | None = None


def line_error(problems: Sequence[Problem], line: int, original: str | None = None) -> LineError:
    """Report line number `line` rejected for every problem met on it: the first names it,
    the message lists the others after it, and `also` keeps them for the 997. `original`:
    the line as sent (the first problem's segment when not given)."""
    first, *rest = problems
    message = first.message
    if rest:
        also = "; ".join(
            f"{p.element or p.seg.tag} at segment {p.seg.index}: {p.message}" for p in rest
        )
        message = f"{message} (also: {also})"
    text = first.seg.text if original is None else original
    reason, index = first.reason, first.seg.index
    return LineError(index, first.element, reason, message, text, line, first.missing, tuple(rest))


@dataclass(frozen=True, slots=True)
class SetErrors:
    """Records the errors of a whole report or claim (not of one of its lines) into `errors`,
    each noted at a segment; `missing` the segment whose absence it is, when one is."""

    errors: list[LineError]

    def __call__(
        self,
        seg: Segment,
        element: str | None,
        reason: str,
        message: str,
        missing: MissingSegment | None = None,
    ) -> None:
        self.errors.append(LineError(seg.index, element, reason, message, seg.text, None, missing))


class FieldProblem(Exception):
    """A field value that cannot be used; `reason` is the machine code for it."""

    def __init__(self, reason: str, message: str, element: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        #: the element / field at fault, when the raiser knows it
        self.element = element


#: an amount written with a comma as its decimal mark ("12,50", "1.234,50"): a comma
#: followed by other than three digits, which no thousands separator is
_DECIMAL_COMMA: Final = re.compile(r"-?(?:\d{1,3}(?:[.' ]\d{3})+|\d+),(?:\d{1,2}|\d{4,})")


def comma_hint(value: str) -> str | None:
    """What to write instead of an amount with a comma in it (a European locale's export,
    a spreadsheet's thousands separators), or None when it has none."""
    if _DECIMAL_COMMA.fullmatch(value):
        written = re.sub(r"[.' ]", "", value).replace(",", ".")
        return f"the decimal mark is a point, not a comma: write {written}"
    if "," in value:
        return (
            "write a plain decimal with a point and no thousands separators (1234.50, not 1,234.50)"
        )
    return None


def parse_x12_decimal(text: str, what: str, reason: str) -> Decimal:
    """An X12 `R` (decimal) value: optional minus, digits, optional point; nothing else."""
    value = text.strip()
    if not value:
        raise FieldProblem(reason, f"{what} is empty", what)
    if not _X12_DECIMAL.fullmatch(value):
        hint = comma_hint(value)
        raise FieldProblem(
            reason, f"{what} {value!r} is not a number{f': {hint}' if hint else ''}", what
        )
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        raise FieldProblem(reason, f"{what} {value!r} is not a number", what) from None


def whole_quantity(amount: Decimal, what: str, reason: str) -> int:
    """A quantity as an integer: fractions and what the wire schema's range refuses are
    rejected."""
    if amount != amount.to_integral_value():
        raise FieldProblem(reason, f"{what} {amount} is not a whole number of units", what)
    quantity = int(amount)
    problem = quantity_problem(quantity)
    if problem is not None:
        raise FieldProblem(reason, f"{what} {amount} {problem}", what)
    return quantity


def check_price(amount: Decimal, what: str, reason: str) -> Decimal:
    """A unit price as the wire schema's `Price` takes it (not negative, at most six places)."""
    problem = price_problem(amount)
    if problem is not None:
        raise FieldProblem(reason, f"{what} {amount} {problem}", what)
    return amount


def check_currency(text: str, what: str, reason: str) -> str:
    value = text.strip()
    problem = currency_problem(value)
    if problem is not None:
        raise FieldProblem(reason, f"{what} {value!r} is {problem}", what)
    return value


#: what a file may be padded with after its last line or segment, which is no data: NUL
#: (a transfer's fixed-size blocks filled up) and SUB (Ctrl-Z, the end-of-file mark of DOS
#: tools); with blanks, a line of nothing else is skipped as blank (CSV), and the end of an
#: interchange may hold them after its IEA (X12)
FILE_PADDING: Final = "\x00\x1a"


def utf16_marked(head: bytes) -> bool:
    """Whether a file starting with `head` begins with a UTF-16 byte-order mark (a text
    editor's or a spreadsheet's "Unicode" save): no report format reads it, and each says
    so in its own words."""
    return head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def digits(value: str) -> bool:
    """Whether `value` is ASCII digits only: `str.isdigit` also takes "²" or "①", which
    `int` refuses (a Latin-1 byte 0xB2 in a segment would end the parse in a traceback)."""
    return value.isascii() and value.isdigit()


def parse_ccyymmdd(text: str, what: str, reason: str) -> date:
    """An X12 date, CCYYMMDD (eight digits, a real calendar day)."""
    value = text.strip()
    form = f"{what} {value!r} is not a date in the form CCYYMMDD, the year first (20260401)"
    if len(value) != 8 or not digits(value):
        raise FieldProblem(reason, form, what)
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        if value[:2] not in ("19", "20"):  # no year first (MMDDCCYY, DDMMCCYY): not guessed
            raise FieldProblem(reason, form, what) from None
        raise FieldProblem(reason, f"{what} {value!r} is not a calendar date", what) from None


def parse_hhmm(text: str, what: str, reason: str) -> time:
    """An X12 time: HHMM, HHMMSS, HHMMSSD or HHMMSSDD (decimal seconds)."""
    value = text.strip()
    if len(value) not in (4, 6, 7, 8) or not digits(value):
        raise FieldProblem(reason, f"{what} {value!r} is not a time in the form HHMM[SS[DD]]", what)
    hour, minute = int(value[:2]), int(value[2:4])
    second = int(value[4:6]) if len(value) >= 6 else 0
    fraction = value[6:]
    micro = int(fraction.ljust(6, "0")) if fraction else 0
    try:
        return time(hour, minute, second, micro)
    except ValueError:
        raise FieldProblem(reason, f"{what} {value!r} is not a valid time of day", what) from None


def end_of_day(day: date) -> datetime:
    """23:59:59 UTC of `day`: when a count for the day is taken to be."""
    return datetime.combine(day, time(23, 59, 59), UTC)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), UTC)


def at_offset(day: date, at: time, offset_hours: float) -> datetime:
    return datetime.combine(day, at, UTC) - timedelta(hours=offset_hours)


_NAMESPACE_BYTES: Final = REPORTS_NAMESPACE.bytes
#: uuid5's version and variant bits, set on the first 128 bits of the SHA-1 (RFC 4122)
_UUID5_CLEAR: Final = ~((0xF000 << 64) | (0xC000 << 48))
_UUID5_SET: Final = (5 << 76) | (0x8000 << 48)


def event_uuid(kind: str, *parts: object) -> UUID:
    """The deterministic event id of one parsed fact: a uuid5 over its kind and parts.

    Equal to ``uuid5(REPORTS_NAMESPACE, f"{kind}:{text}")`` where `text` is the parts'
    `str` (None as "") joined by U+001F, built without the stdlib's per-call overhead
    (it is computed for every line of every report).
    """
    text = "\x1f".join(["" if part is None else str(part) for part in parts])
    raw = hashlib.sha1(_NAMESPACE_BYTES + f"{kind}:{text}".encode(), usedforsecurity=False).digest()
    return UUID(int=(int.from_bytes(raw[:16]) & _UUID5_CLEAR) | _UUID5_SET)


def validation_summary(error: ValidationError) -> tuple[str | None, str]:
    """(first field at fault, one-line message) of a pydantic error."""
    problems = error.errors()
    first = problems[0] if problems else None
    field = ".".join(str(part) for part in first["loc"]) if first and first["loc"] else None
    text = "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or 'value'}: {_plain(item)}" for item in problems
    )
    return field, text


def _plain(item: ErrorDetails) -> str:
    """A pydantic error message in words a distributor understands."""
    value, kind = item.get("input"), item["type"]
    if kind == "string_too_long" and isinstance(value, str):
        limit = (item.get("ctx") or {}).get("max_length")
        message = f"too long ({len(value):,} characters, at most {limit:,})"
    elif kind == "string_too_short" and isinstance(value, str):
        message = "must not be empty"
    else:
        return error_message(item)
    return message if is_personal(item) else f"{value!r}: {message}"


__all__ = [
    "DEFAULT_CURRENCY",
    "REPORTS_NAMESPACE",
    "FieldProblem",
    "LineError",
    "check_currency",
    "check_price",
    "comma_hint",
    "digits",
    "end_of_day",
    "event_uuid",
    "parse_ccyymmdd",
    "parse_hhmm",
    "parse_x12_decimal",
    "start_of_day",
    "validation_summary",
    "whole_quantity",
]


class TransactionSetBuilder:
    """What every report builder keeps of its transaction set: the ST segment, when it was
    received, the uploader's distributor (None: an admin upload), the file's name, and the
    errors of its envelope that refuse it whole (`refuse`)."""

    def __init__(
        self,
        st: Segment,
        received_at: datetime,
        distributor_id: str | None,
        source_name: str | None,
    ) -> None:
        self._st = st
        self._received_at = received_at
        self._uploader = distributor_id
        self._source_name = source_name
        self._refused: list[LineError] = []

    def refuse(self, error: LineError) -> None:
        """Reject the set as a whole for `error`, found by its envelope (its ST02 used
        before in its group): its report errors start with it."""
        self._refused.append(error)
