"""An 867's heading (the segments before its first PTD loop) as it arrives, and what it
says (`ReportHeader`): purpose and report number (BPT), currency (CUR), the report period
(DTM*090 / DTM*091) and the distributor (N1*DS), each checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, TypeAlias

from streams.ingest.parsers.common import (
    DEFAULT_CURRENCY,
    FieldProblem,
    LineError,
    SetErrors,
    check_currency,
    parse_ccyymmdd,
)
from streams.ingest.parsers.edi867_codes import (
    DISTRIBUTOR_ENTITY,
    HEADING_ORDER,
    PERIOD_END,
    PERIOD_START,
    PURPOSES,
)
from streams.ingest.parsers.x12 import Segment
from streams.ingest.parsers.x12_order import SegmentOrder
from streams.ingest.parsers.x12codes import party_id

#: what a report's BPT says: (purpose, its code, report number, report date, replaced)
_Beginning: TypeAlias = tuple[
    Literal["original", "replace"] | None, str, str, date | None, str | None
]


@dataclass(frozen=True, slots=True)
class ReportHeader:
    """What the heading of one 867 said (fields are None / "" when missing or invalid)."""

    control_number: str
    purpose: Literal["original", "replace"] | None
    purpose_code: str
    report_number: str
    report_date: date | None
    replaces: str | None
    currency: str
    period_start: date | None
    period_end: date | None
    distributor_id: str | None


@dataclass(slots=True)
class Heading:
    """The heading segments of one 867 (the first of each kind), the uploader's
    distributor (None: an admin upload), and where a missing one would have stood."""

    st: Segment
    uploader: str | None
    bpt: Segment | None = None
    extra_bpt: Segment | None = None
    cur: Segment | None = None
    period: dict[str, Segment] = field(default_factory=dict)
    ds: Segment | None = None
    order: SegmentOrder = field(init=False)

    def __post_init__(self) -> None:
        wanted = ("BPT", ""), ("DTM", PERIOD_START), ("DTM", PERIOD_END), ("N1", DISTRIBUTOR_ENTITY)
        self.order = SegmentOrder(self.st, HEADING_ORDER, *wanted)

    def take(self, seg: Segment) -> None:
        """Keep a heading segment (the first of each kind; a second BPT, to refuse it)."""
        tag = seg.tag
        if tag == "BPT":
            if self.bpt is None:
                self.bpt = seg
            elif self.extra_bpt is None:
                self.extra_bpt = seg
        elif tag == "CUR" and self.cur is None:
            self.cur = seg
        elif tag == "DTM" and seg.get(1) in (PERIOD_START, PERIOD_END):
            self.period.setdefault(seg.get(1), seg)
        elif tag == "N1" and seg.get(1) == DISTRIBUTOR_ENTITY and self.ds is None:
            self.ds = seg

    def read(self, errors: list[LineError]) -> ReportHeader:
        """What the heading says; what is wrong with it goes to `errors`."""

        fail = SetErrors(errors)

        purpose, purpose_code, report_number, report_date, replaces = self._beginning(fail)
        if self.extra_bpt is not None:
            fail(self.extra_bpt, None, "duplicate_bpt", "a second BPT segment in one report")
        currency = self._currency(fail)
        start, end = self._report_period(fail)
        distributor = self._distributor(fail)
        return ReportHeader(
            self.st.get(2),
            purpose,
            purpose_code,
            report_number,
            report_date,
            replaces,
            currency,
            start,
            end,
            distributor,
        )

    def _beginning(self, fail: SetErrors) -> _Beginning:
        """The BPT segment: purpose, report number and date, the report replaced."""
        bpt = self.bpt
        if bpt is None:
            message = "the report has no BPT (beginning segment)"
            fail(self.st, None, "missing_bpt", message, self.order.missing("BPT"))
            return None, "", "", None, None
        purpose_code, report_number = bpt.get(1), bpt.get(2)
        purpose = PURPOSES.get(purpose_code)
        if purpose is None:
            fail(
                bpt,
                "BPT01",
                "unsupported_purpose",
                f"BPT01 purpose {purpose_code!r} is not supported: use 00 (original) or "
                "05 (replace)",
            )
        if not report_number:
            fail(bpt, "BPT02", "missing_report_number", "BPT02 report number is empty")
        report_date: date | None = None
        if bpt.get(3):
            try:
                report_date = parse_ccyymmdd(bpt.get(3), "BPT03", "bad_date")
            except FieldProblem as problem:
                fail(bpt, "BPT03", problem.reason, problem.message)
        replaces = self._replaced(bpt, report_number, fail) if purpose == "replace" else None
        return purpose, purpose_code, report_number, report_date, replaces

    def _replaced(self, bpt: Segment, report_number: str, fail: SetErrors) -> str | None:
        """The report a replacement replaces (BPT09): required, and not itself."""
        replaces = bpt.get(9) or None
        if replaces is None:
            fail(
                bpt,
                "BPT09",
                "missing_replaced_report",
                "a replacement report (BPT01 = 05) must name the report it replaces in BPT09",
            )
        elif replaces == report_number:
            fail(
                bpt,
                "BPT09",
                "bad_replacement",
                f"BPT09 {replaces!r} is this report's own number: a replacement "
                "needs a new report number",
            )
        return replaces

    def _currency(self, fail: SetErrors) -> str:
        if self.cur is None:
            return DEFAULT_CURRENCY
        try:
            return check_currency(self.cur.get(2), "CUR02", "bad_currency")
        except FieldProblem as problem:
            fail(self.cur, "CUR02", problem.reason, problem.message)
            return DEFAULT_CURRENCY

    def _report_period(self, fail: SetErrors) -> tuple[date | None, date | None]:
        """The report's period (DTM*090 to DTM*091): both required, in order."""
        period: dict[str, date] = {}
        for qualifier, label in ((PERIOD_START, "start"), (PERIOD_END, "end")):
            dtm = self.period.get(qualifier)
            if dtm is None:
                fail(
                    self.bpt or self.st,
                    None,
                    "missing_period",
                    f"no DTM*{qualifier} (report period {label})",
                    self.order.missing("DTM", qualifier),
                )
                continue
            try:
                period[qualifier] = parse_ccyymmdd(dtm.get(2), "DTM02", "bad_date")
            except FieldProblem as problem:
                fail(dtm, "DTM02", problem.reason, problem.message)
        start, end = period.get(PERIOD_START), period.get(PERIOD_END)
        if start is not None and end is not None and end < start:
            dtm = self.period[PERIOD_END]
            fail(dtm, "DTM02", "bad_period", f"period end {end} is before its start {start}")
        return start, end

    def _distributor(self, fail: SetErrors) -> str | None:
        named = party_id(self.ds) if self.ds is not None else ""
        if named and self.uploader is not None and named != self.uploader:
            assert self.ds is not None
            fail(
                self.ds,
                "N104",
                "distributor_mismatch",
                f"N1*DS names distributor {named!r}, but the report was uploaded by "
                f"{self.uploader!r}",
            )
            return None
        if named:
            return named
        if self.uploader is not None:
            return self.uploader
        message = "no distributor: N1*DS with the distributor's id in N104 is required"
        if self.ds is not None:
            fail(self.ds, "N104", "missing_distributor", message)
        else:
            missing = self.order.missing("N1", DISTRIBUTOR_ENTITY)
            fail(self.bpt or self.st, None, "missing_distributor", message, missing)
        return None
