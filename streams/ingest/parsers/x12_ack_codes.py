"""The code lists of the X12 acknowledgements (TA1 and 997) and how the parsers' reasons
map onto them (streams/ingest/parsers/x12_ack.py writes the acknowledgements).

TA104 / AK501 / AK901: A accepted, E accepted with errors noted, R rejected; AK901 also P
(partially accepted: at least one set was rejected). The code lists name the codes written
(the tests check every code written against them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

#: TA105 interchange note codes used
TA1_NOTES: Final[dict[str, str]] = {
    "000": "No error",
    "001": "The Interchange Control Number in the Header and Trailer Do Not Match",
    "020": "Invalid Test Indicator Value",
    "021": "Invalid Number of Included Groups Value",
    "023": "Improper (Premature) End-of-File (Transmission)",
    "024": "Invalid Interchange Content (e.g., Invalid GS Segment)",
    "025": "Duplicate Interchange Control Number",
}

#: AK304 segment syntax error codes
SEGMENT_CODES: Final[dict[str, str]] = {
    "1": "Unrecognized segment ID",
    "2": "Unexpected segment",
    "3": "Mandatory segment missing",
    "4": "Loop Occurs Over Maximum Times",
    "5": "Segment Exceeds Maximum Use",
    "6": "Segment Not in Defined Transaction Set",
    "7": "Segment Not in Proper Sequence",
    "8": "Segment Has Data Element Errors",
}

#: AK403 data element syntax error codes
ELEMENT_CODES: Final[dict[str, str]] = {
    "1": "Mandatory data element missing",
    "2": "Conditional required data element missing",
    "3": "Too many data elements",
    "4": "Data element too short",
    "5": "Data element too long",
    "6": "Invalid character in data element",
    "7": "Invalid code value",
    "8": "Invalid Date",
    "9": "Invalid Time",
    "10": "Exclusion Condition Violated",
}

#: AK502 transaction set syntax error codes used
SET_CODES: Final[dict[str, str]] = {
    "1": "Transaction Set Not Supported",
    "2": "Transaction Set Trailer Missing",
    "3": "Transaction Set Control Number in Header and Trailer Do Not Match",
    "4": "Number of Included Segments Does Not Match Actual Count",
    "5": "One or More Segments in Error",
    "23": "Transaction Set Control Number Not Unique within the Functional Group",
}
#: AK502 of a parser's reason that is about the set itself, not one of its segments: the
#: set is answered by this code, with no AK3 for it
REASON_SET_CODES: Final[dict[str, str]] = {
    "duplicate_control_number": "23",
}
#: AK502 of a set with segments in error (AK3s)
SEGMENTS_IN_ERROR: Final = "5"

#: AK905 functional group syntax error codes used
GROUP_CODES: Final[dict[str, str]] = {
    "3": "Functional Group Trailer Missing",
    "4": "Group Control Number in the Functional Group Header and Trailer Do Not Agree",
    "5": "Number of Included Transaction Sets Does Not Match Actual Count",
}

#: AK403 of a parser's reason when an element is named (the parsers' REASONS): a missing
#: value, a value that is no number, a code not accepted, a date that is none. A reason
#: not listed is a business rule X12 has no syntax code for: 7 (the value not accepted);
#: so is a "missing" reason's element that holds a value (`element_code`)
_MISSING: Final = "1"
_NOT_A_NUMBER: Final = "6"
_BAD_DATE: Final = "8"
REASON_ELEMENT_CODES: Final[dict[str, str]] = {
    "bad_quantity": _NOT_A_NUMBER,
    "bad_price": _NOT_A_NUMBER,
    "bad_cost": _NOT_A_NUMBER,
    "bad_amount": _NOT_A_NUMBER,
    "bad_line_number": _NOT_A_NUMBER,
    "bad_date": _BAD_DATE,
    "bad_period": _BAD_DATE,
    "missing_item": _MISSING,
    "missing_quantity": _MISSING,
    "missing_price": _MISSING,
    "missing_sale_date": _MISSING,
    "missing_reseller": _MISSING,
    "missing_report_number": _MISSING,
    "missing_replaced_report": _MISSING,
    "missing_claim_number": _MISSING,
    "missing_transaction": _MISSING,
    "missing_distributor": _MISSING,
}
DEFAULT_ELEMENT_CODE: Final = "7"

#: AK304 of a segment a parser names as missing: its AK3 names it (AK301) and where it
#: would have stood (AK302), not the segment where its absence was noticed
SEGMENT_MISSING: Final = "3"

#: AK304 when an AK4 follows: the errors are in the elements it names. Only then: a
#: translator told 8 without an AK4 has nothing to show, or refuses the 997
ELEMENT_ERRORS: Final = "8"

#: AK304 of a parser's reason when no element of its segment is named: a missing segment,
#: a segment out of its place, one too many. A reason not listed leaves AK304 empty (it is
#: optional): a value the wire schema refuses where no element can be named
#: (`invalid_field`) is no syntax error X12 has a code for, and 8 would promise an AK4
REASON_SEGMENT_CODES: Final[dict[str, str]] = {
    "missing_bpt": "3",
    "missing_xq": "3",
    "missing_period": "3",
    "missing_sale_date": "3",
    "missing_reseller": "3",
    "missing_quantity": "3",
    "missing_price": "3",
    "missing_transaction": "3",
    "missing_distributor": "3",
    "no_lines": "3",
    # a line without its LIN (with one, the LIN's element is named)
    "missing_item": "3",
    # an 844 line without its QTY*39, UIT or CTP*CON, AMT*DB (with one, its element is named)
    "bad_quantity": "3",
    "bad_cost": "3",
    "bad_amount": "3",
    "orphan_line": "7",
    "orphan_segment": "7",
    "duplicate_bpt": "5",
}


def element_code(reason: str, value: str) -> str:
    """AK403 of a finding of `reason` about an element holding `value`."""
    code = REASON_ELEMENT_CODES.get(reason, DEFAULT_ELEMENT_CODE)
    return DEFAULT_ELEMENT_CODE if code == _MISSING and value else code


def segment_code(reasons: Iterable[str]) -> str:
    """AK304 of a segment's findings none of which names one of its elements: the first
    reason's with a code, else empty."""
    return next((REASON_SEGMENT_CODES[r] for r in reasons if r in REASON_SEGMENT_CODES), "")


#: AK502 of a structural error inside a transaction set, by segment and element at fault
#: ("" : the input ended; any other: a control segment inside the set: no trailer, 2)
STRUCTURE_SET_CODES: Final[dict[tuple[str, int | None], str]] = {
    ("SE", 1): "4",
    ("SE", 2): "3",
    ("ST", 1): "1",  # a transaction set of another kind than the upload's
}
#: AK905 of a structural error in a group, outside its sets (any other: no code; an ST
#: that cannot be read is not acknowledged as a set)
STRUCTURE_GROUP_CODES: Final[dict[tuple[str, int | None], str]] = {
    ("GE", 1): "5",
    ("GE", 2): "4",
    ("IEA", None): "3",
    ("", None): "3",
}
#: TA105 of a structural error of the interchange, outside its groups (any other: 024
#: invalid interchange content; the input ending early: 023)
STRUCTURE_INTERCHANGE_NOTES: Final[dict[tuple[str, int | None], str]] = {
    ("IEA", 1): "021",
    ("IEA", 2): "001",
    ("ISA", 15): "020",  # ISA15 neither P nor T (x12_envelope.usage_indicator)
}
#: TA105 of an interchange received before (the same sender, receiver and ISA13): noted
#: with TA104 E, its lines read as ever
DUPLICATE_INTERCHANGE: Final = "025"
