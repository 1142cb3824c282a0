"""The codes channelflow reads in an X12 844 claim and writes in an 849 response
(docs/CLAIMS.md has the segment tables)."""

from __future__ import annotations

from typing import Final

from streams.ingest.parsers.x12_envelope import SET_REASONS

SOURCE: Final = "edi844"
#: BAA01 transaction set purpose: only originals (a corrected claim is a new claim id)
PURPOSE_ORIGINAL: Final = "00"
DISTRIBUTOR_ENTITY: Final = "DS"
#: the order of an 844's heading after its ST: where a missing BAA or N1*DS would have
#: stood (streams/ingest/parsers/x12_order.py)
HEADING_ORDER: Final = ("BAA", "CUR", "NTE", "REF", "PER", "DTM", "N1")
#: the IDs of a claim line's segments, in their order: LIN, REF*TN, QTY*39, UIT, CTP*CON,
#: AMT*DB (`edi844_lines.ClaimLineSegments.ordered`)
LINE_ORDER: Final = ("LIN", "REF", "QTY", "UIT", "CTP", "AMT")
#: REF01 of the POS line's transaction id
TRANSACTION_QUALIFIER: Final = "TN"
#: QTY01 of the quantity claimed (shipped / sold quantity)
QTY_CLAIMED: Final = ("39", "32")
#: CTP02 of the authorized (contract) cost
CONTRACT_PRICE: Final = "CON"
#: AMT01 of the amount claimed (a line's, and the claim's total after CTT)
AMOUNT_CLAIMED: Final = "DB"

#: 849 codes: QTY01 / AMT01 of the accepted figures, next to the claimed ones
QTY_ACCEPTED: Final = "AA"
AMOUNT_ACCEPTED: Final = "AA"
#: AMT01 of the 849's total accepted (after CTT)
AMOUNT_TOTAL: Final = "TT"

#: the 844's line and claim problems, as reasons of `LineError`
REASONS: Final[dict[str, str]] = {
    "missing_claim_number": "BAA02 (the claim number) is missing",
    "unsupported_purpose": "BAA01 is not 00 (original)",
    "missing_distributor": "no N1*DS and no authenticated distributor",
    "distributor_mismatch": "N1*DS names another distributor than the uploader",
    "bad_currency": "CUR02 is not an ISO 4217 code",
    "orphan_line": "a LIN before any CON (authorization)",
    "bad_line_number": "LIN01 is not a positive whole number",
    "duplicate_line": "LIN01 repeats a line number of the claim",
    "missing_item": "no LIN item id with a known qualifier",
    "missing_transaction": "no REF*TN (the POS line's transaction id)",
    "bad_quantity": "QTY*39 missing, not a whole number, or not above zero",
    "bad_cost": "UIT02 (cost paid) or CTP*CON (authorized cost) missing or not a price",
    "bad_amount": "AMT*DB missing, not a number, or not above zero",
    "invalid_field": "a value the wire schema refuses",
    "no_lines": "the claim has no line",
    "ctt_mismatch": "CTT01 is not the number of LIN, or CTT02 not the sum of QTY02",
    "total_mismatch": "the AMT*DB after CTT is not the sum of the lines' amounts",
    **SET_REASONS,
}

#: 849 AAA03: each status or reason as two characters (AAA01 Y: accepted or adjusted,
#: N: rejected or pending; AAA04 Y on a pending line: held, answered again)
RESPONSE_CODES: Final[dict[str, str]] = {
    "accepted": "AC",
    "quantity_reduced": "QR",
    "cap_partial": "CP",
    "cost_corrected": "CC",
    "amount_corrected": "AM",
    "pending_pos": "PP",
    "unknown_authorization": "UA",
    "wrong_distributor": "WD",
    "wrong_sku": "WS",
    "no_pos_line": "NP",
    "sku_mismatch": "SM",
    "expired": "EX",
    "not_yet_valid": "NV",
    "wrong_reseller": "WR",
    "wrong_end_customer": "WE",
    "return_line": "RL",
    "currency_mismatch": "CM",
    "no_book_cost": "NB",
    "already_claimed": "DC",
    "cap_exhausted": "CX",
    "no_debit_due": "ND",
}
REASON_OF_CODE: Final = {code: reason for reason, code in RESPONSE_CODES.items()}
HOLD: Final = "Y"
