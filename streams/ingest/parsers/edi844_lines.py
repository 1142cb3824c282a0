"""One 844 claim line (LIN and what follows it in its CON loop) read field by field, with
every problem met on the way reported as one `LineError` naming the segment and element."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import ValidationError

from schemas.claims import ClaimLine
from streams.ingest.parsers.common import (
    FieldProblem,
    LineError,
    Problem,
    check_price,
    digits,
    line_error,
    parse_x12_decimal,
    validation_summary,
    whole_quantity,
)
from streams.ingest.parsers.edi844_codes import (
    AMOUNT_CLAIMED,
    CONTRACT_PRICE,
    LINE_ORDER,
    QTY_CLAIMED,
    TRANSACTION_QUALIFIER,
)
from streams.ingest.parsers.x12 import Segment
from streams.ingest.parsers.x12_segment import MissingSegment, missing_segment
from streams.ingest.parsers.x12codes import lin_item


@dataclass(slots=True)
class ClaimLineSegments:
    """The segments of one claim line as they arrive (the first of each kind counts)."""

    lin: Segment
    authorization: Segment | None
    ref: Segment | None = None
    qty: Segment | None = None
    uit: Segment | None = None
    ctp: Segment | None = None
    amt: Segment | None = None
    segments: list[Segment] = field(default_factory=list)

    def take(self, seg: Segment) -> None:
        self.segments.append(seg)
        code = seg.get(1)
        if seg.tag == "REF" and code == TRANSACTION_QUALIFIER:
            self.ref = self.ref or seg
        elif seg.tag == "QTY" and code in QTY_CLAIMED:
            self.qty = self.qty or seg
        elif seg.tag == "UIT":
            self.uit = self.uit or seg
        elif seg.tag == "CTP" and seg.get(2) == CONTRACT_PRICE:
            self.ctp = self.ctp or seg
        elif seg.tag == "AMT" and code == AMOUNT_CLAIMED:
            self.amt = self.amt or seg

    def original(self) -> str:
        return "\n".join(seg.text for seg in (self.lin, *self.segments))

    def ordered(self) -> list[Segment | None]:
        """The line's segments in their order (`LINE_ORDER`), None where one is missing."""
        return [self.lin, self.ref, self.qty, self.uit, self.ctp, self.amt]

    def get(self, tag: str) -> Segment | None:
        """The line's `tag` segment (one of `LINE_ORDER`), None when it has none."""
        return self.ordered()[LINE_ORDER.index(tag)]

    def missing(self, tag: str) -> MissingSegment:
        """The line's `tag` segment as missing: where it would have stood."""
        return missing_segment(tag, self.ordered()[: LINE_ORDER.index(tag)], self.lin)


class _Fields:
    """The line's values, read one at a time; a problem is kept and reading goes on."""

    def __init__(self, line: ClaimLineSegments) -> None:
        self.line = line
        self.problems: list[Problem] = []

    def problem(self, seg: Segment, element: str | None, reason: str, message: str) -> None:
        self.problems.append(Problem(seg, element, reason, message))

    def text(self, tag: str, position: int, reason: str, what: str) -> str:
        """Element `position` of the line's `tag` segment ("" and a problem when missing)."""
        line = self.line
        seg = line.get(tag)
        if seg is None:
            missing = line.missing(tag)
            self.problems.append(Problem(line.lin, None, reason, f"{what} is missing", missing))
            return ""
        value = seg.get(position)
        if not value:
            self.problem(seg, seg.name(position), reason, f"{what} is missing")
        return value

    def number(self, tag: str, position: int, reason: str, what: str) -> Decimal | None:
        text = self.text(tag, position, reason, what)
        seg = self.line.get(tag)
        if not text or seg is None:
            return None
        try:
            return parse_x12_decimal(text, seg.name(position), reason)
        except FieldProblem as problem:
            self.problem(seg, seg.name(position), reason, problem.message)
            return None

    def quantity(self, tag: str, position: int, what: str) -> int | None:
        """A whole quantity above zero."""
        value = self.number(tag, position, "bad_quantity", what)
        seg = self.line.get(tag)
        if value is None or seg is None:
            return None
        name = seg.name(position)
        try:
            quantity = whole_quantity(value, name, "bad_quantity")
        except FieldProblem as problem:
            self.problem(seg, name, problem.reason, problem.message)
            return None
        if quantity <= 0:
            self.problem(seg, name, "bad_quantity", f"{name} {quantity} is not above zero")
            return None
        return quantity

    def money(
        self, tag: str, position: int, reason: str, what: str, positive: bool = False
    ) -> Decimal | None:
        """A price or cost (never negative), or with `positive` an amount above zero."""
        value = self.number(tag, position, reason, what)
        seg = self.line.get(tag)
        if value is None or seg is None:
            return None
        name = seg.name(position)
        if positive and value <= 0:
            self.problem(seg, name, reason, f"{name} {value} is not a positive amount")
            return None
        try:
            return check_price(value, name, reason)
        except FieldProblem as problem:
            self.problem(seg, name, reason, problem.message)
            return None


def read_line(line: ClaimLineSegments, ordinal: int, currency: str) -> ClaimLine | LineError:
    """The claim line, or why it cannot be one (the first problem, the others after it)."""
    fields = _Fields(line)
    lin = line.lin
    if line.authorization is None:
        message = "LIN before any CON: a line claims under the authorization its CON names"
        fields.problem(lin, None, "orphan_line", message)
    number = lin.get(1)
    if not digits(number) or int(number) <= 0:
        fields.problem(lin, "LIN01", "bad_line_number", f"LIN01 {number!r} is not a line number")
    sku, sku_element = "", None
    try:
        _, sku, position = lin_item(lin)
        sku_element = lin.name(position)
    except FieldProblem as problem:
        fields.problem(lin, problem.element, problem.reason, problem.message)
    authorization = "" if line.authorization is None else line.authorization.get(2)
    if line.authorization is not None and not authorization:
        message = "CON02 (the authorization) is missing"
        fields.problem(line.authorization, "CON02", "orphan_line", message)
    transaction = fields.text("REF", 2, "missing_transaction", "REF*TN (the POS transaction id)")
    quantity = fields.quantity("QTY", 2, "QTY*39 (quantity claimed)")
    paid = fields.money("UIT", 2, "bad_cost", "UIT02 (cost paid)")
    authorized = fields.money("CTP", 3, "bad_cost", "CTP*CON (authorized cost)")
    amount = fields.money("AMT", 2, "bad_amount", "AMT*DB (amount claimed)", positive=True)
    if fields.problems or quantity is None or paid is None or authorized is None or amount is None:
        return line_error(fields.problems, ordinal, line.original())
    try:
        return ClaimLine(
            line_no=int(number),
            transaction_id=transaction,
            sku=sku,
            quantity=quantity,
            authorization_id=authorization,
            cost_paid=paid,
            authorized_cost=authorized,
            amount_claimed=amount,
            currency=currency,
        )
    except ValidationError as error:
        name, message = validation_summary(error)
        origin = {
            "transaction_id": (line.ref, "REF02"),
            "sku": (lin, sku_element),
            "authorization_id": (line.authorization, "CON02"),
        }
        seg, element = origin.get(name or "", (lin, None))
        refused = Problem(seg or lin, element, "invalid_field", message)
        return line_error([refused], ordinal, line.original())
