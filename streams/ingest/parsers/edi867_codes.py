"""The X12 867's vocabulary as channelflow reads it: transfer types (PTD01), purposes
(BPT01), quantity and date qualifiers, the entities named, and every error reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from streams.ingest.parsers.x12_envelope import SET_REASONS
from streams.ingest.parsers.x12codes import BAD_UNIT, MISSING_ITEM

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

#: the order of an 867's heading (after its ST) and of a PTD loop before its lines (X12
#: 004010 / 005010, NTE of 003010): where a missing BPT, DTM*090 / DTM*091, N1*DS, or a
#: loop's sale date or N1*ST would have stood (streams/ingest/parsers/x12_order.py)
HEADING_ORDER: Final = ("BPT", "NTE", "CUR", "DTM", "REF", "PER", "MEA", "PSA", "N1")
PTD_LOOP_ORDER: Final = ("PTD", "DTM", "REF", "PRF", "PER", "MAN", "LCD", "LQ", "MEA", "N1")
#: the order of a line's segments the parser names when missing: LIN, QTY, UIT
LINE_ORDER: Final = ("LIN", "QTY", "UIT")
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
    **SET_REASONS,
}
