"""The X12 852's vocabulary as channelflow reads it: handling codes (XQ01), activity
codes (ZA01: which are the quantity on hand, what the others mean), the entities that
name the distributor, and every error reason."""

from __future__ import annotations

from typing import Final

from streams.ingest.parsers.x12_envelope import SET_REASONS
from streams.ingest.parsers.x12codes import BAD_UNIT, DISTRIBUTOR_MISMATCH, MISSING_ITEM

SOURCE: Final = "edi852"


#: XQ01 transaction handling codes accepted (element 305).
HANDLING_CODES: Final[dict[str, str]] = {
    "F": "plan and submit suggested purchase order(s)",
    "G": "plan order(s) and ship product",
    "H": "notification only",
}

#: ZA01 activity codes read as the quantity on hand, in order of precedence.
ON_HAND_CODES: Final[tuple[tuple[str, str], ...]] = (
    ("OH", "gross quantity on hand"),
    ("QE", "ending balance quantity"),
    ("QA", "current inventory quantity available for shipment or sale"),
)
#: an on-hand code's precedence (0 first)
ON_HAND_RANK: Final = {code: rank for rank, (code, _) in enumerate(ON_HAND_CODES)}

#: Descriptions of other ZA01 codes, used in `ignored` (unknown codes are ignored too).
OTHER_ACTIVITY_CODES: Final[dict[str, str]] = {
    "QS": "quantity sold",
    "Q1": "quantity sold (net)",
    "TS": "total sales quantity",
    "QR": "quantity received",
    "QP": "quantity on order, not yet received",
    "QO": "quantity out of stock",
    "QC": "quantity committed",
    "QD": "additional demand quantity",
    "QT": "adjustment to inventory quantity",
    "QI": "quantity in transit",
    "QH": "quantity damaged or on hold",
    "HL": "quantity on hold",
    "DG": "quantity damaged",
    "QB": "beginning balance quantity",
    "QU": "quantity returned by consumer",
    "Q2": "quantity returned",
    "QW": "quantity withdrawn from warehouse inventory",
    "QZ": "quantity transferred",
    "QL": "minimum inventory quantity",
    "QM": "maximum inventory quantity",
    "QN": "planned inventory quantity",
    "QX": "quantity requested",
    "LS": "lost sales",
}

DISTRIBUTOR_ENTITIES: Final = ("DS", "RL")  # in order of preference
#: the order of an 852's heading after its ST: where a missing XQ or distributor's N1
#: would have stood (streams/ingest/parsers/x12_order.py)
HEADING_ORDER: Final = ("XQ", "XPO", "N9", "PER", "N1")

REASONS: Final[dict[str, str]] = {
    # line errors
    MISSING_ITEM: "a LIN without an item id with a known qualifier",
    "orphan_segment": "a ZA or SDQ before any LIN",
    "missing_quantity": "an on-hand ZA with neither ZA02 nor SDQ quantities",
    "bad_quantity": "a quantity that is not a whole number",
    "negative_on_hand": "an on-hand quantity below zero",
    BAD_UNIT: "a unit code that is not two letters/digits",
    "unit_mismatch": "ZA03 and SDQ01 name different units",
    "bad_date": "ZA05 / DTM not a valid date or time",
    "duplicate_count": "the same on-hand code twice for one item and time",
    "invalid_field": "a value the wire schema refuses",
    # report errors
    "missing_xq": "no XQ segment",
    "unsupported_handling": "XQ01 not in HANDLING_CODES",
    "bad_period": "XQ03 before XQ02",
    "missing_distributor": "no N1*DS / N1*RL N104 and no distributor given",
    DISTRIBUTOR_MISMATCH: "an N1 N104 differs from the uploader or the report's distributor",
    "ctt_mismatch": "CTT01 does not match the number of LIN loops",
    **SET_REASONS,
}
