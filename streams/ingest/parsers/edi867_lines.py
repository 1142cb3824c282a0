"""One 867 line (LIN and what follows it, in its PTD loop) read field by field: item,
quantity and unit, price, sale date, parties and transaction id, with every problem met
on the way (`LineFields`), and a line's problems as one `LineError`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final

from streams.ingest.parsers.common import (
    FieldProblem,
    Problem,
    check_price,
    parse_x12_decimal,
    whole_quantity,
)
from streams.ingest.parsers.edi867_codes import (
    END_CUSTOMER_ENTITIES,
    INVOICE_QUALIFIER,
    PREFERRED_CTP_PRICE,
    PTD_LOOP_ORDER,
    QTY_QUALIFIERS,
    RESELLER_ENTITY,
    SALE_DATE_QUALIFIERS,
    PtdKind,
)
from streams.ingest.parsers.x12 import Segment, dtm_datetime
from streams.ingest.parsers.x12_order import SegmentOrder
from streams.ingest.parsers.x12_segment import MissingSegment, missing_segment
from streams.ingest.parsers.x12codes import MISSING_ITEM, lin_item, party_id, unit_code

#: a PTD loop's mandatory segments (ID, qualifier) when its lines do not carry them: the
#: sale date (the first qualifier read) and the ship-to = reseller
SALE_DATE: Final = ("DTM", SALE_DATE_QUALIFIERS[0][0])
SHIP_TO: Final = ("N1", RESELLER_ENTITY)


@dataclass(slots=True)
class Loop:
    ptd: Segment | None  # None: lines met before any PTD
    ship_to: Segment | None = None
    end_customer: Segment | None = None
    invoice: Segment | None = None
    dates: dict[str, Segment] = field(default_factory=dict)
    #: the loop's own segments (PTD and what precedes its first line), as sent
    segments: list[Segment] = field(default_factory=list)
    #: where the loop's sale date and N1*ST would have stood (None: no PTD)
    order: SegmentOrder | None = None

    def __post_init__(self) -> None:
        if self.ptd is not None:
            self.order = SegmentOrder(self.ptd, PTD_LOOP_ORDER, SALE_DATE, SHIP_TO)

    def take(self, seg: Segment) -> None:
        """Keep one of the loop's own segments."""
        self.segments.append(seg)
        if self.order is not None:
            self.order.see(seg)

    def missing(self, wanted: tuple[str, str]) -> MissingSegment | None:
        """The loop's `SALE_DATE` or `SHIP_TO` as missing: where it would have stood."""
        return None if self.order is None else self.order.missing(*wanted)


@dataclass(slots=True)
class Line:
    number: int
    first: Segment
    loop: Loop
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
        """The line as sent, after its PTD loop's own segments: what a person needs to fix it.
        An end customer's N1 is left out: it names a person (docs/PRIVACY.md)."""
        return "\n".join(
            seg.text
            for seg in (*self.loop.segments, *self.segments)
            if not (seg.tag == "N1" and seg.get(1) in END_CUSTOMER_ENTITIES)
        )


class LineFields:
    """One line's fields as its sections are read (item, quantity and unit, price, sale
    date, parties, transaction id), with every problem met on the way and where each
    field came from (to blame the right element when the wire schema refuses a value)."""

    def __init__(self, line: Line, ptd: Segment) -> None:
        self.line, self.ptd = line, ptd
        self.problems: list[Problem] = []
        self.origins: dict[str, tuple[Segment, str | None]] = {}
        self.sku: str | None = None
        self.lin01 = ""
        self.quantity: int | None = None
        self.unit: str | None = None  # the quantity's, else the price's
        self.price: Decimal | None = None
        self.sold_at: datetime | None = None
        self.reseller = ""
        self.end_customer: str | None = None
        self.end_customer_name: str | None = None
        self.transaction_id = ""

    def attempt(self, seg: Segment, element: str | None, fn: Callable[[], object]) -> object:
        """`fn()`, or None with its `FieldProblem` recorded against (segment, element)."""
        try:
            return fn()
        except FieldProblem as problem:
            at = problem.element or element
            self.problems.append(Problem(seg, at, problem.reason, problem.message))
            return None

    def item(self) -> None:
        line = self.line
        if line.lin is None:
            message = "the line has no LIN (item) segment"
            missing = missing_segment("LIN", (), line.first)
            self.problems.append(Problem(line.first, None, MISSING_ITEM, message, missing))
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
                Problem(
                    line.first,
                    None,
                    "missing_quantity",
                    f"the line has no sold quantity: {wanted}; other QTY found: {others}",
                    missing_segment("QTY", (line.lin,), line.first),
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
                Problem(
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
        message = "the line has no unit price (UIT02 or CTP03)"
        if line.uit is not None or line.ctps:  # a price segment without its price
            seg = line.uit or line.ctps[0]
            element = seg.name(2 if seg is line.uit else 3)
            self.problems.append(Problem(seg, element, "missing_price", message))
        else:
            missing = missing_segment("UIT", (line.lin, *line.quantities.values()), line.first)
            where = line.lin or line.first
            self.problems.append(Problem(where, None, "missing_price", message, missing))
        return None, None

    def sale_date(self) -> None:
        line = self.line
        dates = {**line.loop.dates, **line.dates}
        for qualifier, _ in SALE_DATE_QUALIFIERS:
            dtm = dates.get(qualifier)
            if dtm is not None:
                try:
                    self.sold_at = dtm_datetime(dtm, "bad_date")
                    self.origins["sold_at"] = (dtm, "DTM02")
                except FieldProblem as problem:
                    element = problem.element or "DTM02"
                    self.problems.append(Problem(dtm, element, problem.reason, problem.message))
                return
        wanted = ", ".join(f"DTM*{q} ({label})" for q, label in SALE_DATE_QUALIFIERS)
        found = ", ".join(f"DTM*{q}" for q in dates) or "none"
        self.problems.append(
            Problem(
                line.loop.ptd or line.first,
                None,
                "missing_sale_date",
                f"no sale date: expected {wanted} in the line or its PTD loop; found {found}",
                line.loop.missing(SALE_DATE),
            )
        )

    def parties(self) -> None:
        """The reseller (ship-to, required) and the end customer, from the line or its loop."""
        line, loop = self.line, self.line.loop
        ship_to = line.ship_to or loop.ship_to
        self.reseller = party_id(ship_to) if ship_to is not None else ""
        if ship_to is None:
            self.problems.append(
                Problem(
                    self.ptd,
                    None,
                    "missing_reseller",
                    "no N1*ST (ship-to = reseller) in the PTD loop or on the line",
                    loop.missing(SHIP_TO),
                )
            )
        elif not self.reseller:
            self.problems.append(
                Problem(ship_to, "N104", "missing_reseller", "N1*ST has no reseller id in N104")
            )
        else:
            self.origins["reseller_id"] = (ship_to, "N104")
        customer = line.end_customer or loop.end_customer
        if customer is not None:
            self.end_customer = customer.get(4) or customer.get(2) or None
            self.origins["end_customer"] = (customer, "N104" if customer.get(4) else "N102")
            if customer.get(4) and customer.get(2):  # an id, and a name beside it
                self.end_customer_name = customer.get(2)
                self.origins["end_customer_name"] = (customer, "N102")

    def transaction(self, report_number: str) -> None:
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
            self.transaction_id = f"{report_number or 'REPORT'}-{line.number}"


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


def _conflict(first: Segment, other: Segment) -> Problem:
    def says(qty: Segment) -> str:
        return f"QTY*{qty.get(1)} says {' '.join(filter(None, (qty.get(2), qty.get(3))))}"

    return Problem(
        other,
        "QTY02",
        "conflicting_quantity",
        f"{says(other)} but {says(first)}: a line has one sold quantity",
    )


def _money(text: str, what: str) -> Decimal:
    return check_price(parse_x12_decimal(text, what, "bad_price"), what, "bad_price")
