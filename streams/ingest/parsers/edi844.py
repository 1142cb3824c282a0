"""X12 844 (Product Transfer Account Adjustment) → `DebitClaimSubmitted`, pure.

One transaction set (ST … SE) is one claim. What is read (docs/CLAIMS.md):

Heading
    ``BAA01`` purpose (00 original only), ``BAA02`` the claim number (`claim_id`),
    ``CUR02`` currency (default USD), ``N1*DS`` the distributor (N104).

Detail
    ``CON02`` the authorization the lines after it claim against (one CON loop per
    authorization). A line is a ``LIN`` (LIN01 the line number, the item id by
    `x12codes.ITEM_QUALIFIERS`) and what follows it up to the next LIN, CON or CTT:
    ``REF*TN`` the POS line's transaction id, ``QTY*39`` (or 32) the quantity claimed,
    ``UIT02`` the unit cost the distributor paid, ``CTP*CON`` (CTP03) the authorized unit
    cost, ``AMT*DB`` the amount claimed. PAD, PID, DTM and other segments are passed over.

Summary
    ``CTT01`` the number of LIN, ``CTT02`` (when sent) the sum of QTY02; an ``AMT*DB``
    after CTT the claim's total, which must be the sum of the lines' amounts.

Errors name the segment and element. A claim with any error, of a line or of the claim,
yields no event (`ParsedClaim.claim` None): nothing of it is half-applied, and the
corrected claim is sent again under the same claim number. The event id is a uuid5 over
the distributor, the claim number and the business segments: the same file again is a
redelivery, a resend of the same claim with a new envelope a duplicate downstream.
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
from schemas.claims import ClaimLine, DebitClaimSubmitted
from streams.ingest.parsers.common import (
    DEFAULT_CURRENCY,
    FieldProblem,
    LineError,
    SetErrors,
    TransactionSetBuilder,
    check_currency,
    event_uuid,
    parse_x12_decimal,
    validation_summary,
)
from streams.ingest.parsers.edi844_codes import (
    AMOUNT_CLAIMED,
    DISTRIBUTOR_ENTITY,
    HEADING_ORDER,
    PURPOSE_ORIGINAL,
    SOURCE,
)
from streams.ingest.parsers.edi844_lines import ClaimLineSegments, read_line
from streams.ingest.parsers.x12 import Segment, X12Error, iter_transaction_sets, x12_source_ref
from streams.ingest.parsers.x12_order import SegmentOrder

_LINE_TAGS: Final = frozenset({"REF", "QTY", "UIT", "CTP", "AMT"})


@dataclass(frozen=True, slots=True)
class ParsedClaim:
    """One 844 transaction set: the claim as an event, or everything wrong with it."""

    claim_id: str
    distributor_id: str | None
    claim: DebitClaimSubmitted | None
    line_errors: list[LineError]
    claim_errors: list[LineError]
    line_count: int
    #: a refused claim's lines that were read fine: (LIN segment index, the line's text)
    withheld: tuple[tuple[int, str], ...] = ()
    #: where the claim starts: its BAA's segment index (the ST's without one)
    segment: int = 0

    @property
    def accepted(self) -> bool:
        return self.claim is not None


def parse_844_all(
    stream: IO[bytes],
    *,
    received_at: datetime,
    distributor_id: str | None = None,
    source_name: str | None = None,
) -> list[ParsedClaim]:
    """Every 844 claim of the interchange in `stream`, in order.

    `received_at` becomes `recorded_at` and `submitted_at`; `distributor_id` (the
    authenticated uploader) is used when a claim has no N1*DS and must match it when it
    has one. A structurally broken interchange raises `X12Error`.
    """
    received = utc(received_at, "received_at")
    return list(
        iter_transaction_sets(
            stream, "844", lambda st: _ClaimBuilder(st, received, distributor_id, source_name)
        )
    )


def parse_844(
    stream: IO[bytes], *, received_at: datetime, distributor_id: str | None = None
) -> ParsedClaim:
    """The one 844 claim of the interchange in `stream` (see `parse_844_all`)."""
    claims = parse_844_all(stream, received_at=received_at, distributor_id=distributor_id)
    if len(claims) != 1:
        raise X12Error(1, None, f"expected exactly one 844 transaction set, found {len(claims)}")
    return claims[0]


@dataclass(slots=True)
class _Heading:
    baa: Segment | None = None
    cur: Segment | None = None
    ds: Segment | None = None
    others: list[Segment] = field(default_factory=list)  # further N1*DS


class _ClaimBuilder(TransactionSetBuilder):
    """Collects one claim's segments, then reads it whole at SE."""

    def __init__(
        self, st: Segment, received_at: datetime, uploader: str | None, source_name: str | None
    ) -> None:
        super().__init__(st, received_at, uploader, source_name)
        self._heading = _Heading()
        self._authorization: Segment | None = None
        self._lines: list[ClaimLineSegments] = []
        self._current: ClaimLineSegments | None = None
        self._detail = False
        self._ctt: Segment | None = None
        self._total: Segment | None = None
        self._digest = hashlib.sha256()
        self._order = SegmentOrder(st, HEADING_ORDER, ("BAA", ""), ("N1", DISTRIBUTOR_ENTITY))

    def feed(self, seg: Segment) -> Iterator[ParsedClaim]:
        self._digest.update(seg.text.encode("utf-8", "surrogateescape"))
        self._order.see(seg)
        tag = seg.tag
        if tag == "CON":
            self._authorization, self._current, self._detail = seg, None, True
        elif tag == "LIN":
            self._current = ClaimLineSegments(seg, self._authorization)
            self._lines.append(self._current)
            self._detail = True
        elif tag == "CTT":
            self._ctt, self._current, self._detail = seg, None, True
        elif tag == "AMT" and self._ctt is not None and seg.get(1) == AMOUNT_CLAIMED:
            self._total = seg
        elif self._current is not None and tag in _LINE_TAGS:
            self._current.take(seg)
        elif not self._detail:
            self._heading_segment(seg)
        return iter(())

    def _heading_segment(self, seg: Segment) -> None:
        heading = self._heading
        if seg.tag == "BAA" and heading.baa is None:
            heading.baa = seg
        elif seg.tag == "CUR" and heading.cur is None:
            heading.cur = seg
        elif seg.tag == "N1" and seg.get(1) == DISTRIBUTOR_ENTITY:
            if heading.ds is None:
                heading.ds = seg
            else:
                heading.others.append(seg)

    def finish(self) -> Iterator[ParsedClaim]:
        errors: list[LineError] = list(self._refused)
        fail = SetErrors(errors)
        claim_id = self._claim_number(fail)
        distributor = self._distributor(fail)
        currency = self._currency(fail)
        lines = self._lines
        line_errors: list[LineError] = []
        claim_lines = self._claim_lines(lines, currency, line_errors)
        self._check_totals(lines, claim_lines, fail)
        claim = None
        if not errors and not line_errors and distributor is not None:
            claim = self._claim(claim_id, distributor, claim_lines, fail)
        withheld: tuple[tuple[int, str], ...] = ()
        if claim is None:
            wrong = {error.line for error in line_errors}
            withheld = tuple(
                (segments.lin.index, segments.original())
                for ordinal, segments in enumerate(lines, 1)
                if ordinal not in wrong
            )
        start = (self._heading.baa or self._st).index
        yield ParsedClaim(
            claim_id, distributor, claim, line_errors, errors, len(lines), withheld, start
        )

    def _claim_number(self, fail: SetErrors) -> str:
        baa = self._heading.baa
        message = "BAA02 (the claim number) is missing"
        if baa is None:
            fail(self._st, None, "missing_claim_number", message, self._order.missing("BAA"))
            return ""
        if not baa.get(2):
            fail(baa, "BAA02", "missing_claim_number", message)
            return ""
        if baa.get(1) != PURPOSE_ORIGINAL:
            message = f"BAA01 {baa.get(1)!r} is not 00 (original): a correction is a new claim"
            fail(baa, "BAA01", "unsupported_purpose", message)
        return baa.get(2)

    def _distributor(self, fail: SetErrors) -> str | None:
        """The uploader's distributor, else the one N1*DS names; an N1*DS naming another
        is a `distributor_mismatch` (a claim is one distributor's own)."""
        ds = self._heading.ds
        distributor = self._uploader or (None if ds is None else ds.get(4) or None)
        if distributor is None:
            message = "no N1*DS names the distributor"
            if ds is not None:  # an N1*DS without its N104
                fail(ds, "N104", "missing_distributor", message)
            else:
                missing = self._order.missing("N1", DISTRIBUTOR_ENTITY)
                fail(self._st, None, "missing_distributor", message, missing)
            return None
        for seg in ([] if ds is None else [ds]) + self._heading.others:
            if seg.get(4) and seg.get(4) != distributor:
                message = (
                    f"N1*DS names distributor {seg.get(4)!r}, but the claim is "
                    f"{distributor!r}'s: a distributor claims for itself only"
                )
                fail(seg, "N104", "distributor_mismatch", message)
        return distributor

    def _currency(self, fail: SetErrors) -> str:
        cur = self._heading.cur
        if cur is None or not cur.get(2):
            return DEFAULT_CURRENCY
        try:
            return check_currency(cur.get(2), "CUR02", "bad_currency")
        except FieldProblem as problem:
            fail(cur, "CUR02", problem.reason, problem.message)
            return DEFAULT_CURRENCY

    def _claim_lines(
        self, lines: list[ClaimLineSegments], currency: str, errors: list[LineError]
    ) -> list[ClaimLine]:
        claim_lines: list[ClaimLine] = []
        first_of: dict[str, int] = {}
        for ordinal, segments in enumerate(lines, 1):
            number = segments.lin.get(1)
            first = first_of.setdefault(number, ordinal)
            outcome = read_line(segments, ordinal, currency)
            if first != ordinal:
                message = f"line number {number} was already used by line {first}"
                outcome = LineError(segments.lin.index, "LIN01", "duplicate_line", message,
                                    segments.original(), ordinal)  # fmt: skip
            if isinstance(outcome, LineError):
                errors.append(outcome)
            else:
                claim_lines.append(outcome)
        return claim_lines

    def _check_totals(
        self, lines: list[ClaimLineSegments], claim_lines: list[ClaimLine], fail: SetErrors
    ) -> None:
        if not lines:
            fail(self._st, None, "no_lines", "the claim has no LIN line")
        ctt = self._ctt
        if ctt is not None:
            if ctt.get(1) != str(len(lines)):
                message = f"CTT01 says {ctt.get(1)!r} lines but the claim has {len(lines)} LIN"
                fail(ctt, "CTT01", "ctt_mismatch", message)
            quantities = [each.qty.get(2) for each in lines if each.qty is not None]
            _hash_total(ctt, quantities, fail)
        total = self._total
        if total is not None and len(claim_lines) == len(lines):
            claimed = sum((each.amount_claimed for each in claim_lines), Decimal(0))
            _claim_total(total, claimed, fail)

    def _claim(
        self, claim_id: str, distributor: str, lines: list[ClaimLine], fail: SetErrors
    ) -> DebitClaimSubmitted | None:
        content = self._digest.hexdigest()
        seg = self._heading.baa or self._st
        try:
            return DebitClaimSubmitted(
                event_id=event_uuid("edi844-claim", distributor, claim_id, content),
                occurred_at=self._received_at,
                recorded_at=self._received_at,
                source=SOURCE,
                source_ref=x12_source_ref(self._source_name, f"844 {claim_id}", seg.index),
                claim_id=claim_id,
                distributor_id=distributor,
                lines=lines,
                submitted_at=self._received_at,
            )
        except ValidationError as error:
            name, message = validation_summary(error)
            element = {"claim_id": "BAA02", "distributor_id": "N104"}.get(name or "", name)
            fail(seg, element, "invalid_field", message)
            return None


def _hash_total(ctt: Segment, quantities: list[str], fail: SetErrors) -> None:
    if not ctt.get(2):
        return
    try:
        declared = parse_x12_decimal(ctt.get(2), "CTT02", "ctt_mismatch")
        total = sum((parse_x12_decimal(q, "QTY02", "bad_quantity") for q in quantities), Decimal(0))
    except FieldProblem as problem:
        if problem.element == "CTT02":
            fail(ctt, "CTT02", problem.reason, problem.message)
        return  # a QTY02 that is no number is a line error already
    if declared != total:
        message = f"CTT02 {declared} is not the sum of QTY02 {total}"
        fail(ctt, "CTT02", "ctt_mismatch", message)


def _claim_total(amt: Segment, lines_total: Decimal, fail: SetErrors) -> None:
    try:
        declared = parse_x12_decimal(amt.get(2), "AMT02", "total_mismatch")
    except FieldProblem as problem:
        fail(amt, "AMT02", problem.reason, problem.message)
        return
    if declared != lines_total:
        message = f"the claim's total {declared} is not the sum of its lines' amounts {lines_total}"
        fail(amt, "AMT02", "total_mismatch", message)


__all__ = ["ParsedClaim", "parse_844", "parse_844_all"]
