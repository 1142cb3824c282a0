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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Final, Literal, TypeAlias

from pydantic import ValidationError

from domain.timeutil import utc
from schemas.events import ReportSubmitted, SaleReported
from streams.ingest.parsers.common import (
    DEFAULT_CURRENCY,
    FieldProblem,
    LineError,
    TransactionSetBuilder,
    check_currency,
    check_price,
    event_uuid,
    parse_ccyymmdd,
    parse_x12_decimal,
    validation_summary,
    whole_quantity,
)
from streams.ingest.parsers.x12 import (
    Segment,
    X12Error,
    dtm_datetime,
    iter_transaction_sets,
    x12_source_ref,
)
from streams.ingest.parsers.x12codes import (
    BAD_UNIT,
    MISSING_ITEM,
    lin_item,
    other_distributors,
    party_id,
    unit_code,
)

SOURCE: Final = "edi867"

PtdKind = Literal["sale", "return"]


@dataclass(frozen=True, slots=True)
class PtdType:
    kind: PtdKind
    description: str


#: PTD01 product transfer types that carry sell-through. Sales keep the sign they were
#: sent with (a negative quantity is a correction / return); returns are made negative.
PTD_TYPES: Final[dict[str, PtdType]] = {
    "SS": PtdType("sale", "stock sale"),
    "DS": PtdType("sale", "drop ship sale"),
    "SD": PtdType("sale", "ship and debit sale"),
    "CS": PtdType("sale", "contract sale"),
    "BN": PtdType("return", "return (from the reseller)"),
    "RU": PtdType("return", "return to usable inventory (a reseller return put back in stock)"),
}

#: Why some frequent PTD01 codes are refused (every code not in PTD_TYPES is refused).
PTD_REFUSED: Final[dict[str, str]] = {
    "RV": "return to vendor: the distributor's return to the vendor is sell-in, not "
    "sell-through; report it as a shipment return",
    "RC": "received from vendor: sell-in, not sell-through",
    "IA": "inventory adjustment: not a sale (send counts as an 852)",
    "SA": "stocking adjustment: not a sale",
    "PA": "price adjustment: no quantity moved",
    "SU": "summary: not a line-level report",
    "BB": "demand information only: nothing was transferred",
}

#: BPT01 transaction set purposes.
PURPOSES: Final[dict[str, Literal["original", "replace"]]] = {"00": "original", "05": "replace"}

#: QTY01 qualifiers (X12 element 673) that give a line's sold quantity, in order of
#: preference; a line with both must give the same quantity.
QTY_QUALIFIERS: Final[dict[str, str]] = {"39": "shipped quantity", "32": "quantity sold"}
#: Descriptions of other QTY01 codes met in 867s, for the report's `ignored` list (a QTY
#: with any qualifier not in QTY_QUALIFIERS is ignored).
QTY_IGNORED: Final[dict[str, str]] = {
    "17": "quantity on hand",
    "33": "quantity available for sale (stock quantity)",
    "38": "original quantity",
    "40": "remaining quantity",
}
#: ignored QTY segments kept per report for its answer (all of them are counted)
MAX_IGNORED_KEPT: Final = 1000

#: DTM01 qualifiers giving a line's sale date, in order of preference.
SALE_DATE_QUALIFIERS: Final[tuple[tuple[str, str], ...]] = (
    ("003", "invoice date"),
    ("011", "shipped date"),
)
PERIOD_START: Final = "090"
PERIOD_END: Final = "091"

DISTRIBUTOR_ENTITY: Final = "DS"
RESELLER_ENTITY: Final = "ST"
END_CUSTOMER_ENTITIES: Final = ("EN", "UC")
INVOICE_QUALIFIER: Final = "IV"
PREFERRED_CTP_PRICE: Final = "RES"

#: Line-error and report-error reasons.
REASONS: Final[dict[str, str]] = {
    # line errors
    "unsupported_ptd_type": "PTD01 is not a sell-through transfer type (see PTD_TYPES)",
    "orphan_line": "a LIN/QTY/UIT/CTP outside any PTD loop",
    MISSING_ITEM: "no LIN, or no item id with a known qualifier",
    "missing_quantity": "no sold quantity (QTY*39 or QTY*32) on the line",
    "conflicting_quantity": "QTY*39 and QTY*32 on one line give different quantities or units",
    "bad_quantity": "QTY02 not a number, not whole, or out of range",
    BAD_UNIT: "a unit code that is not two letters/digits, or a composite with a multiplier",
    "unit_mismatch": "QTY03 and the price's unit differ",
    "missing_price": "neither UIT02 nor CTP03",
    "bad_price": "price not a number, negative, or more than 6 decimals",
    "missing_sale_date": "no DTM with a sale-date qualifier in the line or its PTD loop",
    "bad_date": "a date/time that is not CCYYMMDD / HHMM[SS] / a known time code",
    "missing_reseller": "no N1*ST with an N104 id in the PTD loop",
    "duplicate_line": "the same transaction id twice in one report",
    "invalid_field": "a value the wire schema refuses (e.g. an id with '|')",
    # report errors
    "missing_bpt": "no BPT segment",
    "duplicate_bpt": "more than one BPT segment",
    "unsupported_purpose": "BPT01 not 00 (original) or 05 (replace)",
    "missing_report_number": "BPT02 empty",
    "missing_replaced_report": "BPT01 = 05 without BPT09",
    "bad_replacement": "BPT09 names the report itself",
    "bad_currency": "CUR02 not an ISO 4217 code",
    "missing_period": "DTM*090 or DTM*091 missing",
    "bad_period": "DTM*091 before DTM*090",
    "missing_distributor": "no N1*DS N104 and no distributor given",
    "distributor_mismatch": "an N1*DS N104 differs from the uploader or the report's distributor",
    "ctt_mismatch": "CTT01 line count or CTT02 hash total does not match",
}

_LINE_TAGS: Final = frozenset({"LIN", "QTY", "UIT", "CTP"})
_ENVELOPE_TAGS: Final = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})


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


@dataclass(slots=True)
class _Loop:
    ptd: Segment | None  # None: lines met before any PTD
    ship_to: Segment | None = None
    end_customer: Segment | None = None
    invoice: Segment | None = None
    dates: dict[str, Segment] = field(default_factory=dict)
    #: the loop's own segments (PTD and what precedes its first line), as sent
    segments: list[Segment] = field(default_factory=list)


@dataclass(slots=True)
class _Line:
    number: int
    first: Segment
    loop: _Loop
    lin: Segment | None = None
    #: sold-quantity qualifier -> its QTY
    quantities: dict[str, Segment] = field(default_factory=dict)
    other_qty: list[Segment] = field(default_factory=list)
    uit: Segment | None = None
    ctps: list[Segment] = field(default_factory=list)
    ship_to: Segment | None = None
    end_customer: Segment | None = None
    invoice: Segment | None = None
    dates: dict[str, Segment] = field(default_factory=dict)
    #: every segment from the line's first to the next line, as sent
    segments: list[Segment] = field(default_factory=list)

    def original(self) -> str:
        """The line as sent, after its PTD loop's own segments: what a person needs to fix it."""
        return "\n".join(seg.text for seg in (*self.loop.segments, *self.segments))


#: record a report-level error against (segment, element, reason, message)
_Fail: TypeAlias = Callable[[Segment, str | None, str, str], None]
#: what a report's BPT says: (purpose, its code, report number, report date, replaced)
_Beginning: TypeAlias = tuple[
    Literal["original", "replace"] | None, str, str, date | None, str | None
]


@dataclass(frozen=True, slots=True)
class _Problem:
    seg: Segment
    element: str | None
    reason: str
    message: str


class _LineFields:
    """One line's fields as its sections are read (item, quantity and unit, price, sale
    date, parties, transaction id), with every problem met on the way and where each
    field came from (to blame the right element when the wire schema refuses a value)."""

    def __init__(self, line: _Line, ptd: Segment) -> None:
        self.line, self.ptd = line, ptd
        self.problems: list[_Problem] = []
        self.origins: dict[str, tuple[Segment, str | None]] = {}
        self.sku: str | None = None
        self.lin01 = ""
        self.quantity: int | None = None
        self.unit: str | None = None  # the quantity's, else the price's
        self.price: Decimal | None = None
        self.sold_at: datetime | None = None
        self.reseller = ""
        self.end_customer: str | None = None
        self.transaction_id = ""

    def attempt(self, seg: Segment, element: str | None, fn: Callable[[], object]) -> object:
        """`fn()`, or None with its `FieldProblem` recorded against (segment, element)."""
        try:
            return fn()
        except FieldProblem as problem:
            at = problem.element or element
            self.problems.append(_Problem(seg, at, problem.reason, problem.message))
            return None

    def item(self) -> None:
        line = self.line
        if line.lin is None:
            self.problems.append(
                _Problem(line.first, None, MISSING_ITEM, "the line has no LIN (item) segment")
            )
            return
        lin = line.lin
        self.lin01 = lin.get(1)
        found = self.attempt(lin, None, lambda: lin_item(lin))
        if isinstance(found, tuple):
            _, self.sku, position = found
            self.origins["sku"] = (lin, lin.name(position))

    def sold_quantity(self) -> Segment | None:
        """The line's sold-quantity QTY (the preferred one; the others must agree)."""
        line = self.line
        sold = [line.quantities[code] for code in QTY_QUALIFIERS if code in line.quantities]
        if not sold:
            wanted = " or ".join(f"QTY*{code} ({label})" for code, label in QTY_QUALIFIERS.items())
            others = ", ".join(f"QTY*{q.get(1)}" for q in line.other_qty) or "none"
            self.problems.append(
                _Problem(
                    line.first,
                    None,
                    "missing_quantity",
                    f"the line has no sold quantity: {wanted}; other QTY found: {others}",
                )
            )
            return None
        qty = sold[0]
        self.problems += [_conflict(qty, other) for other in sold[1:] if _differ(qty, other)]
        return qty

    def quantity_and_unit(self, qty: Segment, kind: PtdKind) -> None:
        """The quantity (negative for a return) and its unit."""
        amount = self.attempt(
            qty, "QTY02", lambda: parse_x12_decimal(qty.get(2), "QTY02", "bad_quantity")
        )
        if isinstance(amount, Decimal):
            whole = self.attempt(
                qty, "QTY02", lambda: whole_quantity(amount, "QTY02", "bad_quantity")
            )
            if isinstance(whole, int):
                self.quantity = -abs(whole) if kind == "return" else whole
        unit = self.attempt(qty, "QTY03", lambda: unit_code(qty, 3))
        self.unit = unit if isinstance(unit, str) else None
        self.origins["quantity"] = (qty, "QTY02")
        self.origins["unit"] = (qty, "QTY03")

    def price_and_unit(self, qty: Segment | None) -> None:
        """The unit price; its unit must be the quantity's (when both are given)."""
        self.price, price_unit = self._price()
        qty_unit = self.unit
        if qty is not None and qty_unit and price_unit and qty_unit != price_unit:
            self.problems.append(
                _Problem(
                    qty,
                    "QTY03",
                    "unit_mismatch",
                    f"quantity is in {qty_unit} but the price is per {price_unit}",
                )
            )
        self.unit = qty_unit or price_unit

    def _price(self) -> tuple[Decimal | None, str | None]:
        line = self.line
        uit = line.uit
        if uit is not None and uit.get(2):
            price = self.attempt(uit, "UIT02", lambda: _money(uit.get(2), "UIT02"))
            unit = self.attempt(uit, "UIT01", lambda: unit_code(uit, 1))
            self.origins["unit_price"] = (uit, "UIT02")
            return (
                price if isinstance(price, Decimal) else None,
                unit if isinstance(unit, str) else None,
            )
        priced = [ctp for ctp in line.ctps if ctp.get(3)]
        if priced:
            ctp = next((c for c in priced if c.get(2) == PREFERRED_CTP_PRICE), priced[0])
            price = self.attempt(ctp, "CTP03", lambda: _money(ctp.get(3), "CTP03"))
            unit = self.attempt(ctp, "CTP05", lambda: unit_code(ctp, 5))
            self.origins["unit_price"] = (ctp, "CTP03")
            return (
                price if isinstance(price, Decimal) else None,
                unit if isinstance(unit, str) else None,
            )
        where = line.uit or line.lin or line.first
        self.attempt(
            where,
            "UIT02" if line.uit is not None else None,
            lambda: _raise("missing_price", "the line has no unit price (UIT02 or CTP03)"),
        )
        return None, None

    def sale_date(self) -> None:
        line = self.line
        dates = {**line.loop.dates, **line.dates}
        for qualifier, _ in SALE_DATE_QUALIFIERS:
            dtm = dates.get(qualifier)
            if dtm is not None:
                try:
                    self.sold_at = dtm_datetime(dtm, "bad_date")
                except FieldProblem as problem:
                    element = problem.element or "DTM02"
                    self.problems.append(_Problem(dtm, element, problem.reason, problem.message))
                return
        wanted = ", ".join(f"DTM*{q} ({label})" for q, label in SALE_DATE_QUALIFIERS)
        found = ", ".join(f"DTM*{q}" for q in dates) or "none"
        self.problems.append(
            _Problem(
                line.loop.ptd or line.first,
                None,
                "missing_sale_date",
                f"no sale date: expected {wanted} in the line or its PTD loop; found {found}",
            )
        )

    def parties(self) -> None:
        """The reseller (ship-to, required) and the end customer, from the line or its loop."""
        line, loop = self.line, self.line.loop
        ship_to = line.ship_to or loop.ship_to
        self.reseller = party_id(ship_to) if ship_to is not None else ""
        if ship_to is None:
            self.problems.append(
                _Problem(
                    self.ptd,
                    None,
                    "missing_reseller",
                    "no N1*ST (ship-to = reseller) in the PTD loop or on the line",
                )
            )
        elif not self.reseller:
            self.problems.append(
                _Problem(ship_to, "N104", "missing_reseller", "N1*ST has no reseller id in N104")
            )
        else:
            self.origins["reseller_id"] = (ship_to, "N104")
        customer = line.end_customer or loop.end_customer
        if customer is not None:
            self.end_customer = customer.get(4) or customer.get(2) or None
            self.origins["end_customer"] = (customer, "N104" if customer.get(4) else "N102")

    def transaction(self, header: ReportHeader) -> None:
        """The transaction id: the invoice (REF*IV, else PTD05) and the item, else the
        report's number and the line's."""
        line = self.line
        invoice_seg = line.invoice or line.loop.invoice
        invoice = invoice_seg.get(2) if invoice_seg is not None else ""
        if invoice_seg is not None:
            self.origins["transaction_id"] = (invoice_seg, "REF02")
        elif self.ptd.get(4) == INVOICE_QUALIFIER and self.ptd.get(5):
            invoice = self.ptd.get(5)
            self.origins["transaction_id"] = (self.ptd, "PTD05")
        if invoice:
            self.transaction_id = f"{invoice}-{self.lin01 or line.number}"
        else:
            self.transaction_id = f"{header.report_number or 'REPORT'}-{line.number}"


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
        self._bpt: Segment | None = None
        self._extra_bpt: Segment | None = None
        self._cur: Segment | None = None
        self._period: dict[str, Segment] = {}
        self._ds: Segment | None = None
        self._distributors: list[Segment] = []  # every N1*DS of the set, wherever it stands
        self._ctt: Segment | None = None
        self._in_detail = False
        self._loop: _Loop | None = None
        self._line: _Line | None = None
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
            self._loop = _Loop(seg)
        elif tag == "CTT":
            self._complete_line()
            self._ctt = seg
        elif tag in _LINE_TAGS:
            self._line_segment(seg)
        elif self._in_detail:
            self._detail_segment(seg)
        else:
            self._header_segment(seg)
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

    def _header_segment(self, seg: Segment) -> None:
        tag = seg.tag
        if tag == "BPT":
            if self._bpt is None:
                self._bpt = seg
            elif self._extra_bpt is None:
                self._extra_bpt = seg
        elif tag == "CUR" and self._cur is None:
            self._cur = seg
        elif tag == "DTM" and seg.get(1) in (PERIOD_START, PERIOD_END):
            self._period.setdefault(seg.get(1), seg)
        elif tag == "N1" and seg.get(1) == DISTRIBUTOR_ENTITY and self._ds is None:
            self._ds = seg

    def _new_line(self, seg: Segment) -> _Line:
        self._complete_line()
        if self._loop is None:
            self._loop = _Loop(None)
        self._line_count += 1
        line = _Line(self._line_count, seg, self._loop)
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
        target: _Line | _Loop | None = self._line or self._loop
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
        errors += other_distributors(self._distributors, self._ds, distributor)
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
            self._header_value = self._read_header(self._report_errors)
        return self._header_value

    def _read_header(self, errors: list[LineError]) -> ReportHeader:
        def fail(seg: Segment, element: str | None, reason: str, message: str) -> None:
            errors.append(LineError(seg.index, element, reason, message, seg.text))

        purpose, purpose_code, report_number, report_date, replaces = self._beginning(fail)
        if self._extra_bpt is not None:
            fail(self._extra_bpt, None, "duplicate_bpt", "a second BPT segment in one report")
        currency = self._currency(fail)
        start, end = self._report_period(fail)
        distributor = self._distributor(fail)
        return ReportHeader(
            self._st.get(2),
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

    def _beginning(self, fail: _Fail) -> _Beginning:
        """The BPT segment: purpose, report number and date, the report replaced."""
        bpt = self._bpt
        if bpt is None:
            fail(self._st, None, "missing_bpt", "the report has no BPT (beginning segment)")
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

    def _replaced(self, bpt: Segment, report_number: str, fail: _Fail) -> str | None:
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

    def _currency(self, fail: _Fail) -> str:
        if self._cur is None:
            return DEFAULT_CURRENCY
        try:
            return check_currency(self._cur.get(2), "CUR02", "bad_currency")
        except FieldProblem as problem:
            fail(self._cur, "CUR02", problem.reason, problem.message)
            return DEFAULT_CURRENCY

    def _report_period(self, fail: _Fail) -> tuple[date | None, date | None]:
        """The report's period (DTM*090 to DTM*091): both required, in order."""
        period: dict[str, date] = {}
        for qualifier, label in ((PERIOD_START, "start"), (PERIOD_END, "end")):
            dtm = self._period.get(qualifier)
            if dtm is None:
                fail(
                    self._bpt or self._st,
                    None,
                    "missing_period",
                    f"no DTM*{qualifier} (report period {label})",
                )
                continue
            try:
                period[qualifier] = parse_ccyymmdd(dtm.get(2), "DTM02", "bad_date")
            except FieldProblem as problem:
                fail(dtm, "DTM02", problem.reason, problem.message)
        start, end = period.get(PERIOD_START), period.get(PERIOD_END)
        if start is not None and end is not None and end < start:
            dtm = self._period[PERIOD_END]
            fail(dtm, "DTM02", "bad_period", f"period end {end} is before its start {start}")
        return start, end

    def _distributor(self, fail: _Fail) -> str | None:
        named = party_id(self._ds) if self._ds is not None else ""
        if named and self._uploader is not None and named != self._uploader:
            assert self._ds is not None
            fail(
                self._ds,
                "N104",
                "distributor_mismatch",
                f"N1*DS names distributor {named!r}, but the report was uploaded by "
                f"{self._uploader!r}",
            )
            return None
        if named:
            return named
        if self._uploader is not None:
            return self._uploader
        fail(
            self._ds or self._bpt or self._st,
            "N104" if self._ds is not None else None,
            "missing_distributor",
            "no distributor: N1*DS with the distributor's id in N104 is required",
        )
        return None

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

    def _resolve(self, line: _Line, header: ReportHeader | None) -> SaleReported | LineError:
        loop = line.loop
        if loop.ptd is None or header is None:
            return _line_error(
                line,
                _Problem(
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
            return _line_error(
                line,
                _Problem(
                    loop.ptd,
                    "PTD01",
                    "unsupported_ptd_type",
                    f"PTD01 {code!r} ({why}) is not supported; supported types: {supported}",
                ),
            )
        fields = _LineFields(line, loop.ptd)
        fields.item()
        qty = fields.sold_quantity()
        if qty is not None:
            self._ignore(line)
            fields.quantity_and_unit(qty, ptd_type.kind)
        fields.price_and_unit(qty)
        fields.sale_date()
        fields.parties()
        fields.transaction(header)
        if fields.problems:
            return _line_error(line, *fields.problems)
        return self._sale(fields, header)

    def _sale(self, fields: _LineFields, header: ReportHeader) -> SaleReported | LineError:
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
            return _line_error(line, _Problem(seg, element, "invalid_field", message))

    def _ignore(self, line: _Line) -> None:
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
                source_ref=self._ref(header, (self._bpt or self._st).index),
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
                "distributor_id": (self._ds, "N104"),
                "report_id": (self._bpt, "BPT02"),
                "replaces_report_id": (self._bpt, "BPT09"),
            }
            found, element = origin.get(name or "", (None, ""))
            seg = found or self._bpt or self._st
            errors.append(LineError(seg.index, element or name, "invalid_field", message, seg.text))
            return None


def _quantity_of(qty: Segment) -> tuple[Decimal | str, str]:
    """What a sold-quantity QTY says: QTY02 (as a number when it is one), QTY03's unit."""
    try:
        amount: Decimal | str = parse_x12_decimal(qty.get(2), "QTY02", "bad_quantity")
    except FieldProblem:
        amount = qty.get(2)
    return amount, (qty.components(3) or [""])[0]


def _differ(first: Segment, other: Segment) -> bool:
    """Two sold quantities of one line that do not agree (a unit left out agrees with any)."""
    (amount, unit), (other_amount, other_unit) = _quantity_of(first), _quantity_of(other)
    return amount != other_amount or bool(unit and other_unit and unit != other_unit)


def _conflict(first: Segment, other: Segment) -> _Problem:
    def says(qty: Segment) -> str:
        return f"QTY*{qty.get(1)} says {' '.join(filter(None, (qty.get(2), qty.get(3))))}"

    return _Problem(
        other,
        "QTY02",
        "conflicting_quantity",
        f"{says(other)} but {says(first)}: a line has one sold quantity",
    )


def _money(text: str, what: str) -> Decimal:
    return check_price(parse_x12_decimal(text, what, "bad_price"), what, "bad_price")


def _raise(reason: str, message: str) -> object:
    raise FieldProblem(reason, message)


def _line_error(line: _Line, *problems: _Problem) -> LineError:
    first = problems[0]
    message = first.message
    if len(problems) > 1:
        rest = "; ".join(
            f"{p.element or p.seg.tag} at segment {p.seg.index}: {p.message}" for p in problems[1:]
        )
        message = f"{message} (also: {rest})"
    return LineError(
        first.seg.index, first.element, first.reason, message, first.seg.text, line.number
    )


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
