"""X12 849 (Response to Product Transfer Account Adjustment): the answer to a claim, line
by line, written from the decisions and read back (docs/CLAIMS.md has the segments).

Per line: ``CON*CT`` the authorization (when it changes from the line before), ``LIN``
(LIN01 the line number, VP the sku), ``REF*TN`` the POS transaction id, one ``AAA`` per
status or reason (AAA01 Y accepted / adjusted, N rejected / pending; AAA03 the code of
`edi844_codes.RESPONSE_CODES`; AAA04 Y on a pending line: held, answered again),
``QTY*39`` / ``QTY*AA`` claimed and accepted quantity, ``UIT02`` the book cost and
``CTP*CON`` the authorized cost when known, ``AMT*DB`` / ``AMT*AA`` claimed and accepted
amount. Summary: ``CTT`` (lines, sum of QTY02), ``AMT*DB`` total claimed, ``AMT*TT``
total accepted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from domain.claim_rules import LineDecision, LineStatus
from domain.timeutil import utc
from streams.ingest.parsers.common import LineError
from streams.ingest.parsers.edi844_codes import (
    AMOUNT_ACCEPTED,
    AMOUNT_CLAIMED,
    AMOUNT_TOTAL,
    CONTRACT_PRICE,
    DISTRIBUTOR_ENTITY,
    HOLD,
    PURPOSE_ORIGINAL,
    QTY_ACCEPTED,
    REASON_OF_CODE,
    RESPONSE_CODES,
    TRANSACTION_QUALIFIER,
)
from streams.ingest.parsers.x12 import Segment, X12Error, iter_transaction_sets
from streams.ingest.parsers.x12_writer import Parties, interchange, segment


@dataclass(frozen=True, slots=True)
class ResponseLine:
    """One line of an 849 as read back."""

    line_no: int
    transaction_id: str
    sku: str
    authorization_id: str
    status: LineStatus
    reasons: tuple[str, ...]
    quantity_claimed: int
    quantity_accepted: int
    amount_claimed: Decimal
    amount_accepted: Decimal


@dataclass(frozen=True, slots=True)
class ClaimResponse:
    """One 849: the claim it answers and its lines."""

    claim_id: str
    distributor_id: str
    currency: str
    lines: list[ResponseLine] = field(default_factory=list)


def response_line(decision: LineDecision) -> ResponseLine:
    """What an 849 line says of a decision."""
    return ResponseLine(
        decision.line_no,
        decision.transaction_id,
        decision.sku,
        decision.authorization_id,
        decision.status,
        decision.reasons,
        decision.quantity_claimed,
        decision.quantity_accepted,
        decision.amount_claimed,
        decision.amount_accepted,
    )


def write_849(
    claim_id: str, distributor_id: str, decisions: Sequence[LineDecision], parties: Parties
) -> bytes:
    """The 849 answering one claim, its lines in line_no order."""
    ordered = sorted(decisions, key=lambda decision: decision.line_no)
    currency = ordered[0].currency if ordered else "USD"
    body = [
        segment("BRC", PURPOSE_ORIGINAL, claim_id, utc(parties.at).strftime("%Y%m%d")),
        segment("CUR", "SE", currency),
        segment("N1", DISTRIBUTOR_ENTITY, "", "91", distributor_id),
    ]
    authorization = None
    for decision in ordered:
        if decision.authorization_id != authorization:
            authorization = decision.authorization_id
            body.append(segment("CON", "CT", authorization))
        body += _line_segments(decision)
    quantities = sum(d.quantity_claimed + d.quantity_accepted for d in ordered)
    body.append(segment("CTT", len(ordered), quantities))
    body.append(
        segment("AMT", AMOUNT_CLAIMED, sum((d.amount_claimed for d in ordered), Decimal(0)))
    )
    body.append(segment("AMT", AMOUNT_TOTAL, sum((d.amount_accepted for d in ordered), Decimal(0))))
    return interchange(parties, [("849", body)])


def _line_segments(decision: LineDecision) -> list[str]:
    valid = "Y" if decision.takes_units else "N"
    hold = HOLD if decision.status == "pending_pos" else ""
    codes = decision.reasons or ("accepted",)
    lines = [
        segment("LIN", decision.line_no, "VP", decision.sku),
        segment("REF", TRANSACTION_QUALIFIER, decision.transaction_id),
        *(segment("AAA", valid, "", RESPONSE_CODES[code], hold) for code in codes),
        segment("QTY", "39", decision.quantity_claimed, "EA"),
        segment("QTY", QTY_ACCEPTED, decision.quantity_accepted, "EA"),
    ]
    if decision.book_cost is not None:
        lines.append(segment("UIT", "EA", decision.book_cost))
    if decision.authorized_cost is not None:
        lines.append(segment("CTP", "", CONTRACT_PRICE, decision.authorized_cost))
    lines.append(segment("AMT", AMOUNT_CLAIMED, decision.amount_claimed))
    lines.append(segment("AMT", AMOUNT_ACCEPTED, decision.amount_accepted))
    return lines


def read_849(stream: IO[bytes]) -> list[ClaimResponse]:
    """Every 849 of the interchange in `stream`; an unreadable one raises `X12Error`."""
    return list(iter_transaction_sets(stream, "849", lambda _st: _ResponseReader()))


@dataclass(slots=True)
class _Line:
    lin: Segment
    authorization: str
    values: dict[str, str] = field(default_factory=dict)
    codes: list[tuple[str, str, str]] = field(default_factory=list)


class _ResponseReader:
    def __init__(self) -> None:
        self._head: dict[str, str] = {}
        self._authorization = ""
        self._lines: list[_Line] = []

    def feed(self, seg: Segment) -> Iterator[ClaimResponse]:
        tag, current = seg.tag, self._lines[-1] if self._lines else None
        if tag in ("BRC", "CUR", "N1") and current is None:
            self._head[tag] = seg.get(2) if tag != "N1" else seg.get(4)
        elif tag == "CON":
            self._authorization = seg.get(2)
        elif tag == "LIN":
            self._lines.append(_Line(seg, self._authorization))
        elif tag == "CTT":
            self._lines.append(_Line(seg, ""))  # the summary closes the last line
        elif current is not None and current.lin.tag == "LIN":
            _take(current, seg)
        return iter(())

    def refuse(self, error: LineError) -> None:
        """An 849 whose ST02 repeats another's of its group cannot be told apart: unreadable."""
        raise X12Error(error.segment_index, 2, error.message, "ST")

    def finish(self) -> Iterator[ClaimResponse]:
        lines = [_response(line) for line in self._lines if line.lin.tag == "LIN"]
        head = self._head
        yield ClaimResponse(head.get("BRC", ""), head.get("N1", ""), head.get("CUR", "USD"), lines)


def _take(line: _Line, seg: Segment) -> None:
    if seg.tag == "AAA":
        line.codes.append((seg.get(1), seg.get(3), seg.get(4)))
    elif seg.tag in ("REF", "QTY", "AMT"):
        line.values[f"{seg.tag}{seg.get(1)}"] = seg.get(2)


def _response(line: _Line) -> ResponseLine:
    values, lin = line.values, line.lin
    try:
        reasons = tuple(REASON_OF_CODE[code] for _, code, _ in line.codes)
        return ResponseLine(
            int(lin.get(1)),
            values[f"REF{TRANSACTION_QUALIFIER}"],
            lin.get(3),
            line.authorization,
            _status(line.codes),
            () if reasons == ("accepted",) else reasons,
            int(values["QTY39"]),
            int(values[f"QTY{QTY_ACCEPTED}"]),
            Decimal(values[f"AMT{AMOUNT_CLAIMED}"]),
            Decimal(values[f"AMT{AMOUNT_ACCEPTED}"]),
        )
    except (KeyError, ValueError, InvalidOperation) as problem:
        raise X12Error(
            lin.index, None, f"849 line is incomplete or unreadable: {problem}"
        ) from None


def _status(codes: list[tuple[str, str, str]]) -> LineStatus:
    if not codes:
        raise ValueError("no AAA")
    valid, code, follow_up = codes[0]
    if follow_up == HOLD:
        return "pending_pos"
    if valid == "Y":
        return "accepted" if code == RESPONSE_CODES["accepted"] else "adjusted"
    return "rejected"
