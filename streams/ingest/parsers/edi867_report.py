"""Building one 867 report as its segments arrive (streams/ingest/parsers/edi867.py says what
is read, and how): lines handed out once complete, the heading, totals and the report's
`ReportSubmitted` resolved at its SE."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Final

from pydantic import ValidationError

from schemas.events import ReportSubmitted, SaleReported
from streams.ingest.parsers.common import (
    FieldProblem,
    LineError,
    Problem,
    TransactionSetBuilder,
    digits,
    event_uuid,
    line_error,
    parse_x12_decimal,
    validation_summary,
)
from streams.ingest.parsers.edi867_codes import (
    DISTRIBUTOR_ENTITY,
    END_CUSTOMER_ENTITIES,
    INVOICE_QUALIFIER,
    MAX_IGNORED_KEPT,
    PTD_REFUSED,
    PTD_TYPES,
    QTY_IGNORED,
    QTY_QUALIFIERS,
    RESELLER_ENTITY,
    SOURCE,
)
from streams.ingest.parsers.edi867_heading import Heading, ReportHeader
from streams.ingest.parsers.edi867_lines import Line, LineFields, Loop
from streams.ingest.parsers.edi867_results import IgnoredQuantity, ReportEnd, ReportLine
from streams.ingest.parsers.x12 import (
    Segment,
    x12_source_ref,
)
from streams.ingest.parsers.x12_segment import Origins
from streams.ingest.parsers.x12codes import (
    other_distributors,
)

_LINE_TAGS: Final = frozenset({"LIN", "QTY", "UIT", "CTP"})


class ReportBuilder(TransactionSetBuilder):
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
        self._heading.order.see(seg)
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
            self._loop.take(seg)
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
        outcome, origins = self._resolve(line, header)
        if isinstance(outcome, SaleReported):
            first = self._transactions.setdefault(outcome.transaction_id, line.number)
            if first != line.number:
                where = line.lin or line.first
                outcome = LineError(
                    where.index,
                    "LIN01" if where is line.lin else None,  # the id is invoice + LIN01
                    "duplicate_line",
                    f"transaction id {outcome.transaction_id!r} (invoice + LIN01) was "
                    f"already used by line {first} of this report",
                    where.text,
                    line.number,
                )
        self._done.append(
            ReportLine(line.number, line.first.index, line.original(), outcome, header, origins)
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
        errors = [*self._refused, *self._report_errors]
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
        if not digits(declared) or int(declared) != self._lin_count:
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

    def _resolve(
        self, line: Line, header: ReportHeader | None
    ) -> tuple[SaleReported | LineError, Origins]:
        """The line's sale, or why it has none; and where each of the sale's fields was read."""
        loop = line.loop
        if loop.ptd is None or header is None:
            return line_error(
                [
                    Problem(
                        line.first,
                        None,
                        "orphan_line",
                        f"{line.first.tag} before any PTD segment: lines belong in a PTD loop",
                    )
                ],
                line.number,
            ), {}
        code = loop.ptd.get(1)
        ptd_type = PTD_TYPES.get(code)
        if ptd_type is None:
            why = PTD_REFUSED.get(code, "not a sell-through transfer type")
            supported = ", ".join(sorted(PTD_TYPES))
            return line_error(
                [
                    Problem(
                        loop.ptd,
                        "PTD01",
                        "unsupported_ptd_type",
                        f"PTD01 {code!r} ({why}) is not supported; supported types: {supported}",
                    )
                ],
                line.number,
            ), {}
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
            return line_error(fields.problems, line.number), {}
        return self._sale(fields, header), fields.origins

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
            return line_error([Problem(seg, element, "invalid_field", message)], line.number)

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
