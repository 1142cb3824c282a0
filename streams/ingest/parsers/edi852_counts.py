"""What an 852 report is read into (streams/ingest/parsers/edi852.py says what is read, and
how): its items, activities and counts, the parsed report; and how a ZA's quantity, unit and
count time are read, and which of an item's counts at one time is kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import TypeVar

from schemas.events import InventoryCounted
from streams.ingest.parsers.common import (
    FieldProblem,
    LineError,
    end_of_day,
    parse_ccyymmdd,
    parse_x12_decimal,
    whole_quantity,
)
from streams.ingest.parsers.x12 import (
    Segment,
    dtm_datetime,
)
from streams.ingest.parsers.x12_segment import Origins
from streams.ingest.parsers.x12codes import (
    BAD_UNIT,
    UNIT_CODE,
)

_T = TypeVar("_T")


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
    #: where each count's fields were read (parallel to `counts`)
    count_origins: list[Origins] = field(default_factory=list)
    #: (segment index, text) of each on-hand ZA that would have been a count but for the
    #: report's errors: the lines a rejected report rejects with it
    withheld: list[tuple[int, str]] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.report_errors


@dataclass(slots=True)
class Item:
    lin: Segment
    activities: list[Activity] = field(default_factory=list)


@dataclass(slots=True)
class Activity:
    za: Segment
    sdqs: list[Segment] = field(default_factory=list)
    dtm: Segment | None = None


@dataclass(frozen=True, slots=True)
class Count:
    rank: int
    za: Segment
    on_hand: int
    unit: str | None
    origins: Origins = field(default_factory=dict)


def keep_count(
    chosen: dict[tuple[str, datetime], Count],
    key: tuple[str, datetime],
    count: Count,
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


def quantity_of(activity: Activity) -> tuple[int, str | None]:
    za = activity.za
    unit = unit_code(za.get(3), "ZA03")
    if za.get(2):
        amount = parse_x12_decimal(za.get(2), "ZA02", "bad_quantity")
        quantity = whole_quantity(amount, "ZA02", "bad_quantity")
        element = "ZA02"
    elif activity.sdqs:
        total = Decimal(0)
        for sdq in activity.sdqs:
            sdq_unit = at_segment(sdq, partial(unit_code, sdq.get(1), "SDQ01"))
            if unit is None:
                unit = sdq_unit
            elif sdq_unit is not None and sdq_unit != unit:
                problem = FieldProblem(
                    "unit_mismatch",
                    f"SDQ01 unit {sdq_unit} differs from the ZA's unit {unit}",
                    "SDQ01",
                )
                raise AtSegment(sdq, problem)
            total += at_segment(sdq, partial(sdq_total, sdq))
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


class AtSegment(Exception):
    """A field problem and the segment it was found in."""

    def __init__(self, seg: Segment, problem: FieldProblem) -> None:
        super().__init__(problem.message)
        self.seg = seg
        self.problem = problem


def at_segment(seg: Segment, fn: Callable[[], _T]) -> _T:
    """`fn()`, a `FieldProblem` it raises tied to `seg` (unless already tied)."""
    try:
        return fn()
    except FieldProblem as problem:
        raise AtSegment(seg, problem) from None


def sdq_total(sdq: Segment) -> Decimal:
    """The sum of an SDQ's location quantities (SDQ04, SDQ06, … paired with SDQ03, …)."""
    total = Decimal(0)
    for position in range(4, len(sdq.elements) + 1, 2):
        if sdq.get(position - 1) or sdq.get(position):
            what = sdq.name(position)
            total += parse_x12_decimal(sdq.get(position), what, "bad_quantity")
    return total


def unit_code(code: str, what: str) -> str | None:
    if not code:
        return None
    if not UNIT_CODE.fullmatch(code):
        raise FieldProblem(
            BAD_UNIT,
            f"{what} unit {code!r} is not an X12 unit code (two letters or digits, e.g. EA)",
            what,
        )
    return code


def origins_of(lin: Segment, item_at: int, activity: Activity, period: Segment | None) -> Origins:
    """Where a count's fields were read: its item (LIN`item_at`), quantity and unit (ZA02
    and ZA03, or its SDQs'), and time (ZA05, its DTM, else the report's period end in its
    XQ), as `counted_at_of` and `quantity_of` read them."""
    za, dtm = activity.za, activity.dtm
    origins: Origins = {"sku": (lin, lin.name(item_at))}
    if za.get(2):
        origins["on_hand"] = (za, "ZA02")
    elif activity.sdqs:
        origins["on_hand"] = (activity.sdqs[0], "SDQ04")
    if za.get(3):
        origins["unit"] = (za, "ZA03")
    elif activity.sdqs:
        origins["unit"] = (activity.sdqs[0], "SDQ01")
    if za.get(5):
        origins["counted_at"] = (za, "ZA05")
    elif dtm is not None:
        origins["counted_at"] = (dtm, "DTM02")
    elif period is not None:
        origins["counted_at"] = (period, "XQ03" if period.get(3) else "XQ02")
    return origins


def counted_at_of(activity: Activity, period_end: datetime | None) -> datetime | None:
    za, dtm = activity.za, activity.dtm
    if za.get(5):
        return end_of_day(parse_ccyymmdd(za.get(5), "ZA05", "bad_date"))
    if dtm is not None:
        if dtm.get(3):
            return dtm_datetime(dtm, "bad_date")
        return end_of_day(parse_ccyymmdd(dtm.get(2), "DTM02", "bad_date"))
    return period_end
