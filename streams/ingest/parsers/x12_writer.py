"""Writing ASC X12: an interchange (ISA … IEA) of one group of transaction sets, pure.

The envelope is what `x12.tokenize` checks on the way in: ISA fixed-width with "*" as
element separator, ">" as component separator and "~" as segment terminator (one segment
per line), one GS … GE group, each set between ST and SE with SE01 counting its segments,
GE01 the sets and IEA01 the groups. Interchange-level segments (a TA1) may come between
ISA and GS; an interchange of no set has no group (IEA01 = 0). A value holding a
delimiter cannot be written (X12 has no escape): `X12WriteError` names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from domain.timeutil import utc

ELEMENT: Final = "*"
COMPONENT: Final = ">"
TERMINATOR: Final = "~"
#: ISA11 from version 00402 on
REPETITION: Final = "^"
_DELIMITERS: Final = frozenset(ELEMENT + COMPONENT + TERMINATOR + "\r\n")


class X12WriteError(ValueError):
    """A value that cannot be written into an X12 element."""


@dataclass(frozen=True, slots=True)
class Parties:
    """Who sends and who receives the interchange, the group's functional id and the
    control number shared by ISA13 and GS06."""

    sender: str
    receiver: str
    functional_id: str
    control: int
    at: datetime
    #: ISA05 / ISA07: the sender's and the receiver's id qualifiers
    qualifiers: tuple[str, str] = ("ZZ", "ZZ")
    #: GS08 (ISA12 is its first five digits)
    version: str = "004010"
    #: ISA15: P production, T test
    usage: str = "P"


def element(value: object) -> str:
    """One element's text; a delimiter or line break in it is refused."""
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    bad = _DELIMITERS.intersection(text)
    if bad:
        raise X12WriteError(f"{text!r} holds {''.join(sorted(bad))!r}: X12 cannot carry it")
    return text


def segment(tag: str, *elements: object) -> str:
    """A segment's text without its terminator; trailing empty elements are dropped."""
    values = [element(value) for value in elements]
    while values and not values[-1]:
        values.pop()
    return ELEMENT.join([tag, *values])


def interchange(
    parties: Parties, sets: Sequence[tuple[str, Sequence[str]]], leading: Sequence[str] = ()
) -> bytes:
    """The interchange of `sets` ((ST01 code, body segments without ST/SE)) as bytes, with
    the interchange-level segments `leading` (a TA1) before its group."""
    at = utc(parties.at)
    control = f"{parties.control:09d}"
    lines = [_isa(parties, at, control), *leading]
    if sets:
        lines.extend(_group(parties, at, sets))
    lines.append(segment("IEA", 1 if sets else 0, control))
    return "".join(f"{line}{TERMINATOR}\n" for line in lines).encode("utf-8")


def _group(parties: Parties, at: datetime, sets: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    lines = [
        segment(
            "GS",
            parties.functional_id,
            parties.sender,
            parties.receiver,
            at.strftime("%Y%m%d"),
            at.strftime("%H%M"),
            parties.control,
            "X",
            parties.version,
        )
    ]
    for number, (code, body) in enumerate(sets, 1):
        set_control = f"{number:04d}"
        lines.append(segment("ST", code, set_control))
        lines.extend(body)
        lines.append(segment("SE", len(body) + 2, set_control))
    lines.append(segment("GE", len(sets), parties.control))
    return lines


def _isa(parties: Parties, at: datetime, control: str) -> str:
    for name, value in (("sender", parties.sender), ("receiver", parties.receiver)):
        if len(value) > 15:
            raise X12WriteError(f"the {name} id {value!r} is longer than ISA's 15 characters")
    sender_qualifier, receiver_qualifier = parties.qualifiers
    standard = parties.version[:5]
    # ISA11: the standards id "U" up to 00401; from 00402 on, the repetition separator
    repetition = "U" if standard <= "00401" else REPETITION
    fields = [
        "ISA", "00", " " * 10, "00", " " * 10, element(sender_qualifier),
        element(parties.sender).ljust(15), element(receiver_qualifier),
        element(parties.receiver).ljust(15), at.strftime("%y%m%d"), at.strftime("%H%M"),
        repetition, standard, control, "0", element(parties.usage), COMPONENT,
    ]  # fmt: skip
    return ELEMENT.join(fields)
