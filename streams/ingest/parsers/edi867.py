"""X12 867 (Product Transfer and Resale Report) → `SaleReported` lines + `ReportSubmitted`.

One transaction set (ST … SE) is one report. What is read, and how:

Header (before the first PTD)
    ``BPT01`` purpose (`PURPOSES`: 00 original, 05 replace), ``BPT02`` report number
    (the `report_id`), ``BPT03`` report date (CCYYMMDD), ``BPT09`` the report number a
    replacement replaces (required when BPT01 = 05, and must differ from BPT02);
    ``CUR02`` currency (default USD); ``DTM*090`` / ``DTM*091`` report period start /
    end (both required: compliance is per period); ``N1*DS`` the distributor
    (`distributor_id` = N104).

Detail: PTD loops
    ``PTD01`` the transfer type (`PTD_TYPES`): sales keep the reported sign, returns
    become negative quantities; any other type makes each line of the loop a line error
    `unsupported_ptd_type` (recorded, never skipped silently). In the loop (or on one
    line, which then wins): ``N1*ST`` the ship-to = reseller (N104), ``N1*EN`` /
    ``N1*UC`` the end customer (N104, else N102), ``REF*IV`` the invoice number (also
    read from PTD04/PTD05 when PTD04 = IV), ``DTM`` the sale date (`SALE_DATE_QUALIFIERS`,
    DTM02 date, DTM03 time, DTM04 time code; default 00:00 UTC).

Lines
    A line is a LIN, a sold quantity and a price (UIT02, else CTP03 preferring CTP02 =
    RES), in either order (LIN-first guides and QTY-loop guides both occur): a second LIN
    or a second QTY of the same sold-quantity qualifier in the same loop starts the next
    line. The sold quantity is a QTY*39 (shipped quantity) or a QTY*32 (quantity sold)
    (`QTY_QUALIFIERS`: distributors' guides use one or the other); a line with both must
    give the same quantity (`conflicting_quantity`). A QTY with any other qualifier (on
    hand, available for sale, ...) says nothing about the sale: it is ignored and listed
    in the report's `ignored` (`IgnoredQuantity`), never silently. The item id is chosen by
    `x12codes.ITEM_QUALIFIERS` and given to `sku` as sent; the unit is QTY03's unit code,
    else the price's (UIT01 / CTP05), else none (= the item's base unit). Units and item
    ids are resolved to SKU + base units later by the product catalog.

Transaction ids
    ``{invoice}-{LIN01}`` (the invoice number and the line's assigned number, e.g.
    ``INV123-1``); LIN01 missing → the line's ordinal in the report; no invoice →
    ``{report number}-{ordinal}``. Two lines with the same transaction id in one report:
    the second is a line error `duplicate_line`.

Event ids
    uuid5 over (distributor, report number, line ordinal, the line's business content):
    re-uploading the same file gives the same ids (a redelivery downstream), while a
    changed line under the same report number gets a new id, so it is judged as a
    conflicting duplicate instead of being dropped as a redelivery.

Totals
    ``CTT01`` must equal the number of LIN segments in the set and ``CTT02`` (when sent)
    the sum of every QTY02 as sent (before return signs). The hash total is not checked
    when some QTY02 is not a number (those lines are already errors). A mismatch is a
    report-level error.

Report-level errors (`ParsedReport.report_errors`) reject the whole report: `sales` is
then empty and `submitted` None, while `line_errors` still lists what was wrong with
single lines. Structural errors (envelope, delimiters, counts) raise `X12Error`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import IO, Final

from pydantic import ValidationError

from domain.timeutil import utc
from schemas.events import ReportSubmitted, SaleReported
from streams.ingest.parsers.common import (
    FieldProblem,
    LineError,
    TransactionSetBuilder,
    event_uuid,
    parse_x12_decimal,
    validation_summary,
)
from streams.ingest.parsers.edi867_codes import (
    DISTRIBUTOR_ENTITY,
    END_CUSTOMER_ENTITIES,
    INVOICE_QUALIFIER,
    MAX_IGNORED_KEPT,
    PERIOD_END,
    PERIOD_START,
    PTD_REFUSED,
    PTD_TYPES,
    PURPOSES,
    QTY_IGNORED,
    QTY_QUALIFIERS,
    REASONS,
    RESELLER_ENTITY,
    SALE_DATE_QUALIFIERS,
    SOURCE,
    PtdType,
)
from streams.ingest.parsers.edi867_heading import Heading, ReportHeader
from streams.ingest.parsers.edi867_lines import Line, LineFields, Loop, Problem, line_error
from streams.ingest.parsers.x12 import (
    Segment,
    X12Error,
    iter_transaction_sets,
    x12_source_ref,
)
from streams.ingest.parsers.x12codes import (
    other_distributors,
)

_LINE_TAGS: Final = frozenset({"LIN", "QTY", "UIT", "CTP"})
_ENVELOPE_TAGS: Final = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})


@dataclass(frozen=True, slots=True)
class IgnoredQuantity:
    """A QTY that is not a sold quantity, on a line that has one: left out, and said so."""

    segment_index: int
    #: the line's ordinal in its report
    line: int
    code: str
    description: str
    quantity: str


@dataclass(frozen=True, slots=True)
class ParsedReport:
    """One 867 transaction set: its valid lines as events, and everything wrong with it."""

    header: ReportHeader
    sales: list[SaleReported]
    submitted: ReportSubmitted | None
    line_errors: list[LineError]
    report_errors: list[LineError]
    #: lines in the report, valid and invalid (= ReportSubmitted.line_count)
    line_count: int
    #: the first MAX_IGNORED_KEPT QTY segments left out, and how many there were
    ignored: list[IgnoredQuantity] = field(default_factory=list)
    ignored_count: int = 0

    @property
    def accepted(self) -> bool:
        """True when the report as a whole is usable (its valid lines may be applied)."""
        return not self.report_errors


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One line of a report, handed out as soon as its segments are complete."""

    #: 1-based ordinal of the line in its report
    number: int
    #: 1-based position of the line's first segment in the interchange
    segment_index: int
    #: the line's segments as sent, after its PTD loop's own (one segment per text line)
    original: str
    outcome: SaleReported | LineError
    #: the report's heading as read (None for a line before any PTD loop)
    header: ReportHeader | None = None


@dataclass(frozen=True, slots=True)
class ReportEnd:
    """The end of one report: its header, and whether it stands as a whole.

    With `report_errors` the report is rejected as a whole: `submitted` is None and
    none of its lines (handed out before) may be applied.
    """

    header: ReportHeader
    submitted: ReportSubmitted | None
    report_errors: list[LineError]
    #: lines in the report, valid and invalid (= ReportSubmitted.line_count)
    line_count: int
    #: the first MAX_IGNORED_KEPT QTY segments left out, and how many there were
    ignored: list[IgnoredQuantity] = field(default_factory=list)
    ignored_count: int = 0


def iter_867(
    stream: IO[bytes],
    *,
    received_at: datetime,
    distributor_id: str | None = None,
    source_name: str | None = None,
) -> Iterator[ReportLine | ReportEnd]:
    """The lines of every 867 transaction set in `stream`, each report closed by a `ReportEnd`.

    Memory holds one line at a time (and the report's transaction ids, to refuse a
    repeated one). Arguments as for `parse_867_all`; `source_name` (e.g. the file name)
    prefixes each event's `source_ref` ("weekly.edi 867 R-17 segment 31"). An
    `X12Error` can come after lines were handed out: act on them only once the
    iteration has finished.
    """
    received = utc(received_at, "received_at")
    return iter_transaction_sets(
        stream, "867", lambda st: _ReportBuilder(st, received, distributor_id, source_name)
    )


def parse_867_all(
    stream: IO[bytes], *, received_at: datetime, distributor_id: str | None = None
) -> list[ParsedReport]:
    """Every 867 transaction set of the interchange in `stream`, in order.

    `received_at` (timezone-aware) becomes `recorded_at` and `submitted_at`.
    `distributor_id`, when given (the authenticated uploader), is used when the report
    has no N1*DS and must match it when it has one. Nothing is returned unless the
    whole interchange is structurally sound: `X12Error` otherwise.
    """
    reports: list[ParsedReport] = []
    sales: list[SaleReported] = []
    line_errors: list[LineError] = []
    for item in iter_867(stream, received_at=received_at, distributor_id=distributor_id):
        if isinstance(item, ReportLine):
            if isinstance(item.outcome, LineError):
                line_errors.append(item.outcome)
            else:
                sales.append(item.outcome)
            continue
        line_errors.sort(key=lambda error: error.line or 0)
        reports.append(
            ParsedReport(
                item.header,
                [] if item.report_errors else sales,
                item.submitted,
                line_errors,
                item.report_errors,
                item.line_count,
                item.ignored,
                item.ignored_count,
            )
        )
        sales, line_errors = [], []
    return reports


def parse_867(
    stream: IO[bytes], *, received_at: datetime, distributor_id: str | None = None
) -> ParsedReport:
    """The one 867 report of the interchange in `stream` (see `parse_867_all`).

    An interchange with no 867 set, or with several, raises `X12Error`.
    """
    reports = parse_867_all(stream, received_at=received_at, distributor_id=distributor_id)
    if len(reports) != 1:
        raise X12Error(
            1,
            None,
            f"expected exactly one 867 transaction set, found {len(reports)} "
            "(use parse_867_all for several)",
        )
    return reports[0]


class _ReportBuilder(TransactionSetBuilder):
    """Builds one report as its segments arrive, handing out each line once complete."""

    def __init__(
        self,
        st: Segment,
        received_at: datetime,
        distributor_id: str | None,
        source_name: str | None,
    ) -> None:
        super().__init__(st, received_at, distributor_id, source_name)
        self._heading = Heading(st, distributor_id)
        self._distributors: list[Segment] = []  # every N1*DS of the set, wherever it stands
        self._ctt: Segment | None = None
        self._in_detail = False
        self._loop: Loop | None = None
        self._line: Line | None = None
        self._line_count = 0
        self._done: list[ReportLine] = []  # completed lines not handed out yet
        self._header_value: ReportHeader | None = None
        self._report_errors: list[LineError] = []
        self._transactions: dict[str, int] = {}  # transaction id -> its first line
        self._lin_count = 0
        self._qty_total = Decimal(0)
        self._qty_total_known = True
        self._ignored: list[IgnoredQuantity] = []
        self._ignored_count = 0
        self._digest = hashlib.sha256()  # of the business segments, for the report's id

    # --- collecting ---------------------------------------------------------------

    def feed(self, seg: Segment) -> list[ReportLine]:
        """Take the next segment; returns the lines it completed."""
        self._digest.update(seg.text.encode("utf-8", "surrogateescape"))
        tag = seg.tag
        if tag == "N1" and seg.get(1) == DISTRIBUTOR_ENTITY:
            self._distributors.append(seg)
        if tag == "LIN":
            self._lin_count += 1
        elif tag == "QTY":
            self._add_to_hash(seg)
        if tag == "PTD":
            self._complete_line()
            self._in_detail = True
            self._loop = Loop(seg)
        elif tag == "CTT":
            self._complete_line()
            self._ctt = seg
        elif tag in _LINE_TAGS:
            self._line_segment(seg)
        elif self._in_detail:
            self._detail_segment(seg)
        else:
            self._heading.take(seg)
        if self._line is not None:
            self._line.segments.append(seg)
        elif self._loop is not None:
            self._loop.segments.append(seg)
        done, self._done = self._done, []
        return done

    def _add_to_hash(self, qty: Segment) -> None:
        try:
            self._qty_total += parse_x12_decimal(qty.get(2), "QTY02", "bad_quantity")
        except FieldProblem:
            self._qty_total_known = False

    def _new_line(self, seg: Segment) -> Line:
        self._complete_line()
        if self._loop is None:
            self._loop = Loop(None)
        self._line_count += 1
        line = Line(self._line_count, seg, self._loop)
        self._line = line
        return line

    def _complete_line(self) -> None:
        """Resolve the current line (no segment can change it any more) into `_done`."""
        line, self._line = self._line, None
        if line is None:
            return
        header = self._header() if line.loop.ptd is not None else None
        outcome = self._resolve(line, header)
        if isinstance(outcome, SaleReported):
            first = self._transactions.setdefault(outcome.transaction_id, line.number)
            if first != line.number:
                where = line.lin or line.first
                outcome = LineError(
                    where.index,
                    None,
                    "duplicate_line",
                    f"transaction id {outcome.transaction_id!r} (invoice + LIN01) was "
                    f"already used by line {first} of this report",
                    where.text,
                    line.number,
                )
        self._done.append(
            ReportLine(line.number, line.first.index, line.original(), outcome, header)
        )

    def _line_segment(self, seg: Segment) -> None:
        line = self._line
        if seg.tag == "LIN":
            if line is None or line.lin is not None:
                line = self._new_line(seg)
            line.lin = seg
        elif seg.tag == "QTY":
            qualifier = seg.get(1)
            if qualifier in QTY_QUALIFIERS:
                if line is None or qualifier in line.quantities:
                    line = self._new_line(seg)
                line.quantities[qualifier] = seg
            else:
                (line or self._new_line(seg)).other_qty.append(seg)
        elif seg.tag == "UIT":
            line = line or self._new_line(seg)
            if line.uit is None:
                line.uit = seg
        else:  # CTP
            (line or self._new_line(seg)).ctps.append(seg)

    def _detail_segment(self, seg: Segment) -> None:
        target: Line | Loop | None = self._line or self._loop
        if target is None:  # pragma: no cover - detail starts with a PTD
            return
        tag, code = seg.tag, seg.get(1)
        if tag == "DTM" and code:
            target.dates.setdefault(code, seg)
        elif tag == "REF" and code == INVOICE_QUALIFIER and target.invoice is None:
            target.invoice = seg
        elif tag == "N1":
            if code == RESELLER_ENTITY and target.ship_to is None:
                target.ship_to = seg
            elif code in END_CUSTOMER_ENTITIES and target.end_customer is None:
                target.end_customer = seg

    # --- resolving ----------------------------------------------------------------

    def finish(self) -> list[ReportLine | ReportEnd]:
        """The last line, then the report itself (header, totals, its ReportSubmitted)."""
        self._complete_line()
        header = self._header()
        errors = self._report_errors
        distributor = header.distributor_id or self._uploader
        errors += other_distributors(self._distributors, self._heading.ds, distributor)
        self._check_totals(errors)
        submitted = None if errors else self._submitted(header, errors)
        if errors:
            submitted = None
        end = ReportEnd(
            header,
            submitted,
            list(errors),
            self._line_count,
            self._ignored,
            self._ignored_count,
        )
        done, self._done = self._done, []
        return [*done, end]

    def _header(self) -> ReportHeader:
        """The heading, read once: it is complete when the first PTD loop starts."""
        if self._header_value is None:
            self._header_value = self._heading.read(self._report_errors)
        return self._header_value

    def _check_totals(self, errors: list[LineError]) -> None:
        ctt = self._ctt
        if ctt is None:
            return
        declared = ctt.get(1)
        if not declared.isdigit() or int(declared) != self._lin_count:
            errors.append(
                LineError(
                    ctt.index,
                    "CTT01",
                    "ctt_mismatch",
                    f"CTT01 says {declared!r} line items but the report has "
                    f"{self._lin_count} LIN segments",
                    ctt.text,
                )
            )
        if not ctt.get(2) or not self._qty_total_known:
            return
        try:
            hash_total = parse_x12_decimal(ctt.get(2), "CTT02", "ctt_mismatch")
        except FieldProblem as problem:
            errors.append(LineError(ctt.index, "CTT02", problem.reason, problem.message, ctt.text))
            return
        if hash_total != self._qty_total:
            errors.append(
                LineError(
                    ctt.index,
                    "CTT02",
                    "ctt_mismatch",
                    f"CTT02 hash total {hash_total} does not match the sum of QTY02 "
                    f"{self._qty_total}",
                    ctt.text,
                )
            )

    def _resolve(self, line: Line, header: ReportHeader | None) -> SaleReported | LineError:
        loop = line.loop
        if loop.ptd is None or header is None:
            return line_error(
                line,
                Problem(
                    line.first,
                    None,
                    "orphan_line",
                    f"{line.first.tag} before any PTD segment: lines belong in a PTD loop",
                ),
            )
        code = loop.ptd.get(1)
        ptd_type = PTD_TYPES.get(code)
        if ptd_type is None:
            why = PTD_REFUSED.get(code, "not a sell-through transfer type")
            supported = ", ".join(sorted(PTD_TYPES))
            return line_error(
                line,
                Problem(
                    loop.ptd,
                    "PTD01",
                    "unsupported_ptd_type",
                    f"PTD01 {code!r} ({why}) is not supported; supported types: {supported}",
                ),
            )
        fields = LineFields(line, loop.ptd)
        fields.item()
        qty = fields.sold_quantity()
        if qty is not None:
            self._ignore(line)
            fields.quantity_and_unit(qty, ptd_type.kind)
        fields.price_and_unit(qty)
        fields.sale_date()
        fields.parties()
        fields.transaction(header.report_number)
        if fields.problems:
            return line_error(line, *fields.problems)
        return self._sale(fields, header)

    def _sale(self, fields: LineFields, header: ReportHeader) -> SaleReported | LineError:
        """The line as an event (its fields read without a problem), or why the wire
        schema refuses it."""
        line, sku, quantity = fields.line, fields.sku, fields.quantity
        price, sold_at = fields.price, fields.sold_at
        assert sku is not None and quantity is not None and price is not None
        assert sold_at is not None
        distributor = header.distributor_id or self._uploader or "UNKNOWN"
        report_number = header.report_number or None
        content = (
            distributor,
            fields.transaction_id,
            fields.reseller,
            fields.end_customer,
            sku,
            quantity,
            fields.unit,
            price,
            header.currency,
            sold_at.isoformat(),
            report_number,
        )
        try:
            return SaleReported(
                event_id=event_uuid("edi867-sale", report_number, line.number, *content),
                occurred_at=sold_at,
                recorded_at=self._received_at,
                source=SOURCE,
                source_ref=self._ref(header, line.first.index),
                distributor_id=distributor,
                transaction_id=fields.transaction_id,
                reseller_id=fields.reseller,
                end_customer=fields.end_customer,
                end_customer_name=fields.end_customer_name,
                sku=sku,
                quantity=quantity,
                unit=fields.unit,
                unit_price=price,
                currency=header.currency,
                sold_at=sold_at,
                report_id=report_number,
            )
        except ValidationError as error:
            name, message = validation_summary(error)
            seg, element = fields.origins.get(name or "", (line.lin or line.first, None))
            return line_error(line, Problem(seg, element, "invalid_field", message))

    def _ignore(self, line: Line) -> None:
        """List the line's QTY segments that are not a sold quantity in the report's answer."""
        self._ignored_count += len(line.other_qty)
        room = MAX_IGNORED_KEPT - len(self._ignored)
        self._ignored += [
            IgnoredQuantity(
                seg.index,
                line.number,
                seg.get(1),
                QTY_IGNORED.get(seg.get(1), "not a sold quantity"),
                seg.get(2),
            )
            for seg in line.other_qty[: max(room, 0)]
        ]

    def _ref(self, header: ReportHeader, segment_index: int) -> str:
        return x12_source_ref(
            self._source_name, f"867 {header.report_number or self._st.get(2)}", segment_index
        )

    def _submitted(self, header: ReportHeader, errors: list[LineError]) -> ReportSubmitted | None:
        assert header.distributor_id is not None
        assert header.period_start is not None and header.period_end is not None
        content = self._digest.hexdigest()
        try:
            return ReportSubmitted(
                event_id=event_uuid(
                    "edi867-report", header.distributor_id, header.report_number, content
                ),
                occurred_at=self._received_at,
                recorded_at=self._received_at,
                source=SOURCE,
                source_ref=self._ref(header, (self._heading.bpt or self._st).index),
                distributor_id=header.distributor_id,
                report_id=header.report_number,
                period_start=header.period_start,
                period_end=header.period_end,
                line_count=self._line_count,
                submitted_at=self._received_at,
                replaces_report_id=header.replaces,
            )
        except ValidationError as error:
            name, message = validation_summary(error)
            origin: dict[str, tuple[Segment | None, str]] = {
                "distributor_id": (self._heading.ds, "N104"),
                "report_id": (self._heading.bpt, "BPT02"),
                "replaces_report_id": (self._heading.bpt, "BPT09"),
            }
            found, element = origin.get(name or "", (None, ""))
            seg = found or self._heading.bpt or self._st
            errors.append(LineError(seg.index, element or name, "invalid_field", message, seg.text))
            return None


__all__ = [
    "PERIOD_END",
    "PERIOD_START",
    "PTD_REFUSED",
    "PTD_TYPES",
    "PURPOSES",
    "QTY_IGNORED",
    "QTY_QUALIFIERS",
    "REASONS",
    "SALE_DATE_QUALIFIERS",
    "SOURCE",
    "IgnoredQuantity",
    "ParsedReport",
    "PtdType",
    "ReportEnd",
    "ReportHeader",
    "ReportLine",
    "iter_867",
    "parse_867",
    "parse_867_all",
]
