"""Code tables and element helpers shared by the 867 and 852 parsers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from streams.ingest.parsers.common import FieldProblem, LineError
from streams.ingest.parsers.x12 import Segment

#: LIN product/service id qualifiers, in order of preference: the first one present on
#: a LIN names the item given to `sku` (the catalog resolves SKUs, UPCs and part numbers).
ITEM_QUALIFIERS: Final[tuple[tuple[str, str], ...]] = (
    ("VP", "vendor's (seller's) part number"),
    ("MG", "manufacturer's part number"),
    ("UP", "UPC consumer package code (U.P.C. 1-5-5-1)"),
    ("UK", "GTIN-14 / U.P.C. shipping container code (1-2-5-5-1)"),
    ("EN", "EAN / GTIN-13"),
    ("BP", "buyer's part number"),
    ("IN", "buyer's item number"),
)
_ITEM_RANK: Final = {code: rank for rank, (code, _) in enumerate(ITEM_QUALIFIERS)}

#: X12 unit of measurement codes (element 355) are two letters/digits, e.g. EA, CA, BX.
#: The parsers check the format only; what a unit means for an item (CA = 12 EA) is the
#: product catalog's business (projections/catalog.py).
UNIT_CODE: Final = re.compile(r"[A-Z0-9]{2}")

MISSING_ITEM: Final = "missing_item"
BAD_UNIT: Final = "bad_unit"


def lin_item(lin: Segment) -> tuple[str, str, int]:
    """(qualifier, identifier, element position) of the preferred item id of a LIN.

    LIN01 is the line's assigned number; LIN02/LIN03, LIN04/LIN05, ... are
    (qualifier, id) pairs. Raises `FieldProblem` when no known qualifier has a value,
    naming the element at fault: the empty id of the first known qualifier, else the
    first qualifier not known, else LIN02 (no qualifier at all).
    """
    best: tuple[int, str, str, int] | None = None
    seen: list[str] = []
    empty_id: int | None = None
    unknown: int | None = None
    for position in range(2, len(lin.elements) + 1, 2):
        qualifier, value = lin.get(position), lin.get(position + 1)
        if not qualifier:
            continue
        seen.append(qualifier)
        rank = _ITEM_RANK.get(qualifier)
        if rank is None:
            unknown = unknown or position
        elif not value:
            empty_id = empty_id or position + 1
        elif best is None or rank < best[0]:
            best = (rank, qualifier, value, position + 1)
    if best is None:
        known = "/".join(code for code, _ in ITEM_QUALIFIERS)
        found = ", ".join(seen) if seen else "none"
        raise FieldProblem(
            MISSING_ITEM,
            f"LIN has no item id with a known qualifier ({known}); qualifiers found: {found}",
            lin.name(empty_id or unknown or 2),
        )
    _, qualifier, value, position = best
    return qualifier, value, position


def unit_code(seg: Segment, position: int) -> str | None:
    """The unit code of a composite unit of measure (C001) element, None when absent.

    Only the first component (the unit code) is used; a composite carrying an exponent
    or multiplier is rejected rather than half-understood.
    """
    parts = seg.components(position)
    if not parts or not parts[0]:
        if any(parts):
            raise FieldProblem(
                BAD_UNIT, f"{seg.name(position)} has no unit code", seg.name(position)
            )
        return None
    code = parts[0]
    if not UNIT_CODE.fullmatch(code):
        raise FieldProblem(
            BAD_UNIT,
            f"{seg.name(position)} unit {code!r} is not an X12 unit code (two letters or "
            "digits, e.g. EA, CA)",
            seg.name(position),
        )
    extra = [part for part in parts[1:] if part and part not in ("1", "1.0")]
    if extra:
        raise FieldProblem(
            BAD_UNIT,
            f"{seg.name(position)} unit composite {seg.get(position)!r} carries an exponent or "
            "multiplier, which is not supported",
            seg.name(position),
        )
    return code


def party_id(n1: Segment) -> str:
    """N104 (the party's code), or "" when absent."""
    return n1.get(4)


#: the report-level reason of a report naming another distributor than the uploader's
DISTRIBUTOR_MISMATCH: Final = "distributor_mismatch"


def other_distributors(
    parties: Iterable[Segment], chosen: Segment | None, distributor: str | None
) -> list[LineError]:
    """A `distributor_mismatch` for each N1 of `parties` but `chosen` (the one the report's
    distributor was read from) that names another distributor than `distributor`: a
    second N1*DS, wherever it stands, is never silently ignored."""
    if distributor is None:  # no distributor to compare with: a report error says why
        return []
    return [
        LineError(
            n1.index,
            "N104",
            DISTRIBUTOR_MISMATCH,
            f"N1*{n1.get(1)} names distributor {party_id(n1)!r}, but the report's distributor "
            f"is {distributor!r}: one report is one distributor's",
            n1.text,
        )
        for n1 in parties
        if n1 is not chosen and party_id(n1) and party_id(n1) != distributor
    ]


__all__ = [
    "BAD_UNIT",
    "DISTRIBUTOR_MISMATCH",
    "ITEM_QUALIFIERS",
    "MISSING_ITEM",
    "UNIT_CODE",
    "lin_item",
    "other_distributors",
    "party_id",
    "unit_code",
]
