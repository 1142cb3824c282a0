"""Building one 852 activity report from its segments (streams/ingest/parsers/edi852.py says
what is read, and how): header, distributor, the LIN/ZA loops and their counts."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial

from pydantic import ValidationError

from schemas.events import InventoryCounted
from streams.ingest.parsers.common import (
    FieldProblem,
    LineError,
    SetErrors,
    TransactionSetBuilder,
    digits,
    end_of_day,
    event_uuid,
    parse_ccyymmdd,
    validation_summary,
)
from streams.ingest.parsers.edi852_codes import (
    DISTRIBUTOR_ENTITIES,
    HANDLING_CODES,
    HEADING_ORDER,
    ON_HAND_RANK,
    OTHER_ACTIVITY_CODES,
    SOURCE,
)
from streams.ingest.parsers.edi852_counts import (
    Activity,
    AtSegment,
    Count,
    IgnoredActivity,
    Item,
    ParsedActivity,
    at_segment,
    counted_at_of,
    keep_count,
    origins_of,
    quantity_of,
)
from streams.ingest.parsers.x12 import (
    Segment,
    x12_source_ref,
)
from streams.ingest.parsers.x12_order import SegmentOrder
from streams.ingest.parsers.x12_segment import Origins
from streams.ingest.parsers.x12codes import (
    DISTRIBUTOR_MISMATCH,
    lin_item,
    other_distributors,
    party_id,
)


class ActivityBuilder(TransactionSetBuilder):
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
        self._items: list[Item] = []
        self._activity: Activity | None = None
        self._orphans: list[Segment] = []
        self._ctt: Segment | None = None
        wanted = ("XQ", ""), ("N1", DISTRIBUTOR_ENTITIES[0])
        self._order = SegmentOrder(st, HEADING_ORDER, *wanted)

    def feed(self, seg: Segment) -> None:
        self._order.see(seg)
        tag = seg.tag
        item = self._items[-1] if self._items else None
        if tag == "N1" and seg.get(1) == DISTRIBUTOR_ENTITIES[0]:
            self._distributors.append(seg)
        if tag == "XQ" and self._xq is None:
            self._xq = seg
        elif tag == "N1" and item is None and seg.get(1) in DISTRIBUTOR_ENTITIES:
            self._parties.setdefault(seg.get(1), seg)
        elif tag == "LIN":
            self._items.append(Item(seg))
            self._activity = None
        elif tag == "ZA":
            if item is None:
                self._orphans.append(seg)
            else:
                self._activity = Activity(seg)
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
        report_errors: list[LineError] = list(self._refused)
        fail = SetErrors(report_errors)

        handling, report_id, start, end = self._header(fail)
        distributor = self._distributor(fail)
        expected = self._uploader or distributor
        report_errors += other_distributors(self._distributors, self._party(), expected)
        self._check_item_count(fail)
        line_errors = self._orphan_errors()
        ignored: list[IgnoredActivity] = []
        chosen: dict[tuple[str, datetime], Count] = {}
        period_end = end_of_day(end) if end is not None else None
        withheld: list[tuple[int, str]] = []
        for item in self._items:
            self._item(item, period_end, chosen, ignored, line_errors, withheld)
        counts: list[InventoryCounted] = []
        count_segments: list[int] = []
        count_origins: list[Origins] = []
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
                    count_origins.append(count.origins)
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
            count_origins,
            sorted(withheld),
        )

    def _check_item_count(self, fail: SetErrors) -> None:
        """CTT01, when given, counts the LIN loops."""
        ctt = self._ctt
        if ctt is None:
            return
        declared = ctt.get(1)
        if not digits(declared) or int(declared) != len(self._items):
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

    def _header(self, fail: SetErrors) -> tuple[str | None, str | None, date | None, date | None]:
        xq = self._xq
        if xq is None:
            message = "the report has no XQ (reporting date) segment"
            fail(self._st, None, "missing_xq", message, self._order.missing("XQ"))
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

    def _distributor(self, fail: SetErrors) -> str | None:
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
        message = "no distributor: N1*DS (or N1*RL) with the distributor's id in N104 is required"
        if n1 is not None:
            fail(n1, "N104", "missing_distributor", message)
        else:
            missing = self._order.missing("N1", DISTRIBUTOR_ENTITIES[0])
            fail(self._xq or self._st, None, "missing_distributor", message, missing)
        return None

    def _item(
        self,
        item: Item,
        period_end: datetime | None,
        chosen: dict[tuple[str, datetime], Count],
        ignored: list[IgnoredActivity],
        errors: list[LineError],
        withheld: list[tuple[int, str]],
    ) -> None:
        try:
            _, sku, item_at = lin_item(item.lin)
        except FieldProblem as problem:
            errors.append(
                LineError(
                    item.lin.index, problem.element, problem.reason, problem.message, item.lin.text
                )
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
                on_hand, unit = at_segment(za, partial(quantity_of, activity))
                counted_at = at_segment(
                    activity.dtm or za, partial(counted_at_of, activity, period_end)
                )
            except AtSegment as failure:
                seg, fault = failure.seg, failure.problem
                errors.append(
                    LineError(seg.index, fault.element, fault.reason, fault.message, seg.text)
                )
                continue
            if counted_at is None:  # no period: a report error says why
                withheld.append((za.index, za.text))
                continue
            origins = origins_of(item.lin, item_at, activity, self._xq)
            count = Count(rank, za, on_hand, unit, origins)
            keep_count(chosen, (sku, counted_at), count, ignored, errors)

    def _count(
        self,
        distributor: str,
        report_id: str | None,
        sku: str,
        counted_at: datetime,
        count: Count,
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
