"""X12 852 (Product Activity Data) → `InventoryCounted` per item.

One transaction set (ST … SE) is one activity report. What is read, and how:

Header
    ``XQ01`` handling code (`HANDLING_CODES`; recorded, all carry the same data),
    ``XQ02`` the reporting date / period start, ``XQ03`` the period end (default:
    XQ02), ``XQ04`` the sender's report id (optional). ``N1*DS`` (distributor) or, when
    there is none, ``N1*RL`` (reporting location) gives the distributor id in N104.

Detail: LIN loops, each with ZA loops
    ``LIN`` names the item (`x12codes.ITEM_QUALIFIERS`, first known qualifier wins; the
    id is given to `sku` as sent, the catalog resolves it). Each ``ZA`` reports one
    activity: ``ZA01`` the activity code, ``ZA02`` the quantity, ``ZA03`` its unit,
    ``ZA04``/``ZA05`` an optional date qualifier and date. When ZA02 is empty the
    ``SDQ`` segments of the ZA loop give the quantity per location (SDQ01 unit,
    then location/quantity pairs) and their sum is used.

On-hand codes (`ON_HAND_CODES`) become one `InventoryCounted` per item and count time:
``OH`` gross quantity on hand, ``QE`` ending balance quantity, ``QA`` current inventory
quantity available for shipment or sale. When one item has several of them for the same
time, the first in that order wins (gross figures reconcile with physical stock) and the
others go to `ignored` as superseded. Every other activity code (QS sold, QR received,
QP on order, …) is listed in `ignored` with its code, never silently dropped.

Count time (`counted_at`): the ZA's own date (ZA05, or a DTM in the ZA loop, with its
time and time code when given) — at 23:59:59 UTC of that day when no time is given;
otherwise the period end (XQ03, else XQ02) at 23:59:59 UTC.

``CTT01``, when sent, must equal the number of LIN loops (a report-level error
otherwise). Report-level errors (`report_errors`) reject the whole report: `counts` is
then empty. Structural errors raise `X12Error`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import IO, TypeAlias, TypeVar

from pydantic import ValidationError

from domain.timeutil import utc
from schemas.events import InventoryCounted
from streams.ingest.parsers.common import (
    FieldProblem,
    LineError,
    TransactionSetBuilder,
    end_of_day,
    event_uuid,
    parse_ccyymmdd,
    parse_x12_decimal,
    validation_summary,
    whole_quantity,
)
from streams.ingest.parsers.edi852_codes import (
    DISTRIBUTOR_ENTITIES,
    HANDLING_CODES,
    ON_HAND_CODES,
    ON_HAND_RANK,
    OTHER_ACTIVITY_CODES,
    REASONS,
    SOURCE,
)
from streams.ingest.parsers.x12 import (
    Segment,
    X12Error,
    dtm_datetime,
    transaction_sets,
    x12_source_ref,
)
from streams.ingest.parsers.x12codes import (
    BAD_UNIT,
    DISTRIBUTOR_MISMATCH,
    UNIT_CODE,
    lin_item,
    other_distributors,
    party_id,
)

_T = TypeVar("_T")
#: record a report-level error against (segment, element, reason, message)
_Fail: TypeAlias = Callable[[Segment, str | None, str, str], None]


@dataclass(frozen=True, slots=True)
class IgnoredActivity:
    """A ZA that does not become a count, and why."""

    segment_index: int
    sku: str
    code: str
    description: str
    quantity: str


@dataclass(frozen=True, slots=True)
class ParsedActivity:
    """One 852 transaction set: its counts, what was ignored, and what was wrong."""

    control_number: str
    handling: str | None
    report_id: str | None
    period_start: date | None
    period_end: date | None
    distributor_id: str | None
    counts: list[InventoryCounted]
    ignored: list[IgnoredActivity]
    line_errors: list[LineError]
    report_errors: list[LineError]
    #: the ZA segment index each count was read from (parallel to `counts`)
    count_segments: list[int] = field(default_factory=list)
    #: (segment index, text) of each on-hand ZA that would have been a count but for the
    #: report's errors: the lines a rejected report rejects with it
    withheld: list[tuple[int, str]] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.report_errors


def parse_852_all(
    stream: IO[bytes],
    *,
    received_at: datetime,
    distributor_id: str | None = None,
    source_name: str | None = None,
) -> list[ParsedActivity]:
    """Every 852 transaction set of the interchange in `stream`, in order.

    `received_at` (timezone-aware) becomes `recorded_at`; `distributor_id`, when given,
    is used when the report names none and must match the one it names. `source_name`
    (e.g. the file name) prefixes each count's `source_ref` ("inv.edi 852 R-9 segment 12").
    """
    received = utc(received_at, "received_at")
    return transaction_sets(
        stream, "852", lambda st: _ActivityBuilder(st, received, distributor_id, source_name)
    )


def parse_852(
    stream: IO[bytes], *, received_at: datetime, distributor_id: str | None = None
) -> ParsedActivity:
    """The one 852 report of the interchange in `stream` (`X12Error` unless exactly one)."""
    reports = parse_852_all(stream, received_at=received_at, distributor_id=distributor_id)
    if len(reports) != 1:
        raise X12Error(
            1,
            None,
            f"expected exactly one 852 transaction set, found {len(reports)} "
            "(use parse_852_all for several)",
        )
    return reports[0]


@dataclass(slots=True)
class _Item:
    lin: Segment
    activities: list[_Activity] = field(default_factory=list)


@dataclass(slots=True)
class _Activity:
    za: Segment
    sdqs: list[Segment] = field(default_factory=list)
    dtm: Segment | None = None


@dataclass(frozen=True, slots=True)
class _Count:
    rank: int
    za: Segment
    on_hand: int
    unit: str | None


class _ActivityBuilder(TransactionSetBuilder):
    def __init__(
        self,
        st: Segment,
        received_at: datetime,
        distributor_id: str | None,
        source_name: str | None,
    ) -> None:
        super().__init__(st, received_at, distributor_id, source_name)
        self._xq: Segment | None = None
        self._parties: dict[str, Segment] = {}
        self._distributors: list[Segment] = []  # every N1*DS of the set, wherever it stands
        self._items: list[_Item] = []
        self._activity: _Activity | None = None
        self._orphans: list[Segment] = []
        self._ctt: Segment | None = None

    def feed(self, seg: Segment) -> None:
        tag = seg.tag
        item = self._items[-1] if self._items else None
        if tag == "N1" and seg.get(1) == DISTRIBUTOR_ENTITIES[0]:
            self._distributors.append(seg)
        if tag == "XQ" and self._xq is None:
            self._xq = seg
        elif tag == "N1" and item is None and seg.get(1) in DISTRIBUTOR_ENTITIES:
            self._parties.setdefault(seg.get(1), seg)
        elif tag == "LIN":
            self._items.append(_Item(seg))
            self._activity = None
        elif tag == "ZA":
            if item is None:
                self._orphans.append(seg)
            else:
                self._activity = _Activity(seg)
                item.activities.append(self._activity)
        elif tag == "SDQ":
            if self._activity is None:
                self._orphans.append(seg)
            else:
                self._activity.sdqs.append(seg)
        elif tag == "DTM" and self._activity is not None and self._activity.dtm is None:
            self._activity.dtm = seg
        elif tag == "CTT":
            self._ctt = seg
            self._activity = None

    def finish(self) -> ParsedActivity:
        report_errors: list[LineError] = []

        def fail(seg: Segment, element: str | None, reason: str, message: str) -> None:
            report_errors.append(LineError(seg.index, element, reason, message, seg.text))

        handling, report_id, start, end = self._header(fail)
        distributor = self._distributor(fail)
        expected = self._uploader or distributor
        report_errors += other_distributors(self._distributors, self._party(), expected)
        self._check_item_count(fail)
        line_errors = self._orphan_errors()
        ignored: list[IgnoredActivity] = []
        chosen: dict[tuple[str, datetime], _Count] = {}
        period_end = end_of_day(end) if end is not None else None
        withheld: list[tuple[int, str]] = []
        for item in self._items:
            self._item(item, period_end, chosen, ignored, line_errors, withheld)
        counts: list[InventoryCounted] = []
        count_segments: list[int] = []
        if report_errors:
            withheld += [(count.za.index, count.za.text) for count in chosen.values()]
        else:
            assert distributor is not None
            for (sku, counted_at), count in chosen.items():
                made = self._count(distributor, report_id, sku, counted_at, count)
                if isinstance(made, LineError):
                    line_errors.append(made)
                else:
                    counts.append(made)
                    count_segments.append(count.za.index)
        line_errors.sort(key=lambda error: error.segment_index)
        return ParsedActivity(
            self._st.get(2),
            handling,
            report_id,
            start,
            end,
            distributor,
            counts,
            ignored,
            line_errors,
            report_errors,
            count_segments,
            sorted(withheld),
        )

    def _check_item_count(self, fail: _Fail) -> None:
        """CTT01, when given, counts the LIN loops."""
        ctt = self._ctt
        if ctt is None:
            return
        declared = ctt.get(1)
        if not declared.isdigit() or int(declared) != len(self._items):
            fail(
                ctt,
                "CTT01",
                "ctt_mismatch",
                f"CTT01 says {declared!r} line items but the report has "
                f"{len(self._items)} LIN loops",
            )

    def _orphan_errors(self) -> list[LineError]:
        """The ZA and SDQ segments met before any LIN."""
        return [
            LineError(
                seg.index,
                None,
                "orphan_segment",
                f"{seg.tag} before any LIN: activity must follow the item it is about",
                seg.text,
            )
            for seg in self._orphans
        ]

    def _header(self, fail: _Fail) -> tuple[str | None, str | None, date | None, date | None]:
        xq = self._xq
        if xq is None:
            fail(self._st, None, "missing_xq", "the report has no XQ (reporting date) segment")
            return None, None, None, None
        handling = xq.get(1)
        if handling not in HANDLING_CODES:
            known = ", ".join(f"{code} ({text})" for code, text in HANDLING_CODES.items())
            fail(
                xq,
                "XQ01",
                "unsupported_handling",
                f"XQ01 handling code {handling!r} is not supported; known: {known}",
            )
        start = end = None
        try:
            start = parse_ccyymmdd(xq.get(2), "XQ02", "bad_date")
        except FieldProblem as problem:
            fail(xq, "XQ02", problem.reason, problem.message)
        if xq.get(3):
            try:
                end = parse_ccyymmdd(xq.get(3), "XQ03", "bad_date")
            except FieldProblem as problem:
                fail(xq, "XQ03", problem.reason, problem.message)
        else:
            end = start
        if start is not None and end is not None and end < start:
            fail(xq, "XQ03", "bad_period", f"period end {end} is before its start {start}")
        return handling or None, xq.get(4) or None, start, end

    def _party(self) -> Segment | None:
        """The N1 the distributor is read from: N1*DS, else N1*RL (before the first LIN)."""
        return next((self._parties[c] for c in DISTRIBUTOR_ENTITIES if c in self._parties), None)

    def _distributor(self, fail: _Fail) -> str | None:
        n1 = self._party()
        named = party_id(n1) if n1 is not None else ""
        if named and self._uploader is not None and named != self._uploader:
            assert n1 is not None
            fail(
                n1,
                "N104",
                DISTRIBUTOR_MISMATCH,
                f"N1*{n1.get(1)} names distributor {named!r}, but the report was uploaded by "
                f"{self._uploader!r}",
            )
            return None
        if named:
            return named
        if self._uploader is not None:
            return self._uploader
        fail(
            n1 or self._xq or self._st,
            "N104" if n1 is not None else None,
            "missing_distributor",
            "no distributor: N1*DS (or N1*RL) with the distributor's id in N104 is required",
        )
        return None

    def _item(
        self,
        item: _Item,
        period_end: datetime | None,
        chosen: dict[tuple[str, datetime], _Count],
        ignored: list[IgnoredActivity],
        errors: list[LineError],
        withheld: list[tuple[int, str]],
    ) -> None:
        try:
            _, sku, _ = lin_item(item.lin)
        except FieldProblem as problem:
            errors.append(
                LineError(item.lin.index, None, problem.reason, problem.message, item.lin.text)
            )
            return
        for activity in item.activities:
            za = activity.za
            code = za.get(1)
            rank = ON_HAND_RANK.get(code)
            if rank is None:
                description = OTHER_ACTIVITY_CODES.get(code, "activity code not used")
                ignored.append(IgnoredActivity(za.index, sku, code, description, za.get(2)))
                continue
            try:
                on_hand, unit = _at(za, partial(_quantity, activity))
                counted_at = _at(activity.dtm or za, partial(_counted_at, activity, period_end))
            except _AtSegment as failure:
                seg, fault = failure.seg, failure.problem
                errors.append(
                    LineError(seg.index, fault.element, fault.reason, fault.message, seg.text)
                )
                continue
            if counted_at is None:  # no period: a report error says why
                withheld.append((za.index, za.text))
                continue
            count = _Count(rank, za, on_hand, unit)
            _keep_count(chosen, (sku, counted_at), count, ignored, errors)

    def _count(
        self,
        distributor: str,
        report_id: str | None,
        sku: str,
        counted_at: datetime,
        count: _Count,
    ) -> InventoryCounted | LineError:
        try:
            return InventoryCounted(
                event_id=event_uuid(
                    "edi852-count",
                    distributor,
                    report_id,
                    sku,
                    count.unit,
                    counted_at.isoformat(),
                    count.on_hand,
                    count.za.get(1),
                ),
                occurred_at=counted_at,
                recorded_at=self._received_at,
                source=SOURCE,
                source_ref=x12_source_ref(
                    self._source_name, f"852 {report_id or self._st.get(2)}", count.za.index
                ),
                distributor_id=distributor,
                sku=sku,
                on_hand=count.on_hand,
                unit=count.unit,
                counted_at=counted_at,
            )
        except ValidationError as error:
            name, message = validation_summary(error)
            return LineError(count.za.index, name, "invalid_field", message, count.za.text)


def _keep_count(
    chosen: dict[tuple[str, datetime], _Count],
    key: tuple[str, datetime],
    count: _Count,
    ignored: list[IgnoredActivity],
    errors: list[LineError],
) -> None:
    """Keep an item's on-hand count at a time: of two, the code with precedence (the other
    is ignored, and said so); the same code twice is an error."""
    sku, counted_at = key
    za, rank = count.za, count.rank
    held = chosen.get(key)
    if held is None:
        chosen[key] = count
    elif held.rank == rank:
        errors.append(
            LineError(
                za.index,
                "ZA01",
                "duplicate_count",
                f"a second ZA*{za.get(1)} for {sku} at {counted_at.isoformat()} (the first "
                f"is segment {held.za.index})",
                za.text,
            )
        )
    else:
        winner, loser = (held, count) if held.rank < rank else (count, held)
        chosen[key] = winner
        ignored.append(
            IgnoredActivity(
                loser.za.index,
                sku,
                loser.za.get(1),
                f"superseded by ZA*{winner.za.get(1)} (segment {winner.za.index}) "
                "for the same item and time",
                loser.za.get(2),
            )
        )


def _quantity(activity: _Activity) -> tuple[int, str | None]:
    za = activity.za
    unit = _unit(za.get(3), "ZA03")
    if za.get(2):
        amount = parse_x12_decimal(za.get(2), "ZA02", "bad_quantity")
        quantity = whole_quantity(amount, "ZA02", "bad_quantity")
        element = "ZA02"
    elif activity.sdqs:
        total = Decimal(0)
        for sdq in activity.sdqs:
            sdq_unit = _at(sdq, partial(_unit, sdq.get(1), "SDQ01"))
            if unit is None:
                unit = sdq_unit
            elif sdq_unit is not None and sdq_unit != unit:
                problem = FieldProblem(
                    "unit_mismatch",
                    f"SDQ01 unit {sdq_unit} differs from the ZA's unit {unit}",
                    "SDQ01",
                )
                raise _AtSegment(sdq, problem)
            total += _at(sdq, partial(_sdq_total, sdq))
        quantity = whole_quantity(total, "SDQ04", "bad_quantity")
        element = "SDQ04"
    else:
        raise FieldProblem(
            "missing_quantity",
            f"ZA*{za.get(1)} has no quantity (neither ZA02 nor SDQ location quantities)",
            "ZA02",
        )
    if quantity < 0:
        raise FieldProblem(
            "negative_on_hand", f"on-hand quantity {quantity} is below zero", element
        )
    return quantity, unit


class _AtSegment(Exception):
    """A field problem and the segment it was found in."""

    def __init__(self, seg: Segment, problem: FieldProblem) -> None:
        super().__init__(problem.message)
        self.seg = seg
        self.problem = problem


def _at(seg: Segment, fn: Callable[[], _T]) -> _T:
    """`fn()`, a `FieldProblem` it raises tied to `seg` (unless already tied)."""
    try:
        return fn()
    except FieldProblem as problem:
        raise _AtSegment(seg, problem) from None


def _sdq_total(sdq: Segment) -> Decimal:
    """The sum of an SDQ's location quantities (SDQ04, SDQ06, … paired with SDQ03, …)."""
    total = Decimal(0)
    for position in range(4, len(sdq.elements) + 1, 2):
        if sdq.get(position - 1) or sdq.get(position):
            what = sdq.name(position)
            total += parse_x12_decimal(sdq.get(position), what, "bad_quantity")
    return total


def _unit(code: str, what: str) -> str | None:
    if not code:
        return None
    if not UNIT_CODE.fullmatch(code):
        raise FieldProblem(
            BAD_UNIT,
            f"{what} unit {code!r} is not an X12 unit code (two letters or digits, e.g. EA)",
            what,
        )
    return code


def _counted_at(activity: _Activity, period_end: datetime | None) -> datetime | None:
    za, dtm = activity.za, activity.dtm
    if za.get(5):
        return end_of_day(parse_ccyymmdd(za.get(5), "ZA05", "bad_date"))
    if dtm is not None:
        if dtm.get(3):
            return dtm_datetime(dtm, "bad_date")
        return end_of_day(parse_ccyymmdd(dtm.get(2), "DTM02", "bad_date"))
    return period_end


__all__ = [
    "DISTRIBUTOR_ENTITIES",
    "HANDLING_CODES",
    "ON_HAND_CODES",
    "OTHER_ACTIVITY_CODES",
    "REASONS",
    "SOURCE",
    "IgnoredActivity",
    "ParsedActivity",
    "parse_852",
    "parse_852_all",
]
