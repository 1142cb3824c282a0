"""Field types shared by every wire schema: ids, texts, money, currencies, quantities, UTC times.

These are the one rule set for field values: the JSON door, the CSV / X12 parsers (which
build their events through these models) and the JSON Schema files all say the same.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)

from schemas.currencies import ISO_4217, currency_problem

#: Characters no id or text may hold (a regex character-class body): the Unicode control
#: characters (Cc: C0 and C1, NUL, TAB, CR, LF, DEL ...), the invisible format characters
#: (Cf: soft hyphen, zero-width spaces and joiners, bidi marks, embeddings, overrides and
#: isolates, U+FEFF, tag characters ...) and the line and paragraph separators (Zl, Zp), as
#: of Unicode 14. They break keys, logs and PostgreSQL writes, or hide what a value says.
#: The astral ones are written as characters, not escapes: the JSON Schema files (ECMA-262
#: with the `u` flag), pydantic's regex engine and Python's `re` all read them alike.
INVISIBLE: Final = (
    r"\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    r"\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
#: An id: no invisible character, no "|" (used in keys), no blank at either end.
ID_PATTERN: Final = rf"^[^\s|{INVISIBLE}](?:[^|{INVISIBLE}]*[^\s|{INVISIBLE}])?$"
#: A free text (a name, a description, a detail, a source_ref): no invisible character.
TEXT_PATTERN: Final = rf"^[^{INVISIBLE}]*$"
_INVISIBLE_CHAR: Final = re.compile(f"[{INVISIBLE}]")

#: A business identifier: non-empty, no surrounding whitespace, no "|", nothing invisible.
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=ID_PATTERN)]

#: Free text: anything but invisible characters (bound its length where it is used).
Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]

#: A personal value (a name, a contact): clear text at a door, a sealed token on the wire.
Personal = Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=TEXT_PATTERN)]


def pattern_problem(pattern: str, value: str) -> str | None:
    """Why `value` does not match the id, the text or the currency pattern, in words (None:
    another pattern, whose own message stands)."""
    if pattern == CURRENCY_PATTERN:
        return currency_problem(value)
    if pattern not in (ID_PATTERN, TEXT_PATTERN):
        return None
    found = _INVISIBLE_CHAR.search(value)
    if found is not None:
        char = found.group()
        name = unicodedata.name(char, "a control character")
        return (
            f"contains U+{ord(char):04X} ({name}) at position {found.start() + 1}: "
            "control and invisible characters are not allowed"
        )
    if "|" in value:
        return "contains '|', which ids may not hold"
    return "an id must not start or end with a blank"


def visible(text: str) -> str:
    """`text` with every invisible character written as an escape (U+0000 as \\x00), so
    that a message quoting what was sent is itself a valid text."""
    return _INVISIBLE_CHAR.sub(lambda found: ascii(found.group())[1:-1], text)


#: A currency: an ISO 4217 code of `schemas.currencies.ISO_4217`, as a pattern (checked by
#: pydantic-core and by a JSON Schema validator alike; `pattern_problem` says what is wrong).
CURRENCY_PATTERN: Final = f"^(?:{'|'.join(sorted(ISO_4217))})$"
Currency = Annotated[str, StringConstraints(pattern=CURRENCY_PATTERN)]

#: Money has at most this many decimal places.
MONEY_PLACES: Final = 6
MONEY_PATTERN: Final = rf"^-?\d+(\.\d{{1,{MONEY_PLACES}}})?$"
PRICE_PATTERN: Final = rf"^\d+(\.\d{{1,{MONEY_PLACES}}})?$"
_MONEY_TEXT: Final = re.compile(MONEY_PATTERN)


def money_problem(value: Decimal) -> str | None:
    """What makes an amount no money (said after the amount), or None."""
    if not value.is_finite():
        return "is not a finite amount"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_PLACES:
        return f"has more than {MONEY_PLACES} decimal places"
    return None


def _negative(value: Decimal) -> str | None:
    """What makes money no price or cost beside `money_problem`, or None."""
    if value < 0:
        return "is negative: a price or a cost never is (a return is a negative quantity)"
    return None


def price_problem(value: Decimal) -> str | None:
    """What makes an amount no price or cost (said after the amount), or None."""
    return money_problem(value) or _negative(value)


def _amount(more: Callable[[Decimal], str | None] | None) -> BeforeValidator:
    """An amount's one check, before pydantic's own Decimal: money is a decimal text or an
    integer, never a float, and has no `money_problem` (nor `more`'s). A text the pattern
    takes is a finite amount of at most MONEY_PLACES places already, so only `more` is
    asked of it (one Python call a field: every line's price comes this way)."""

    def check(value: Any) -> Any:
        if isinstance(value, str):
            if _MONEY_TEXT.fullmatch(value) is None:
                raise ValueError(
                    f'money must be a plain decimal like "12.50" (at most {MONEY_PLACES} '
                    f"places; no exponent, '+', blanks or separators), not {value!r}"
                )
            amount = Decimal(value)
            problem = None if more is None else more(amount)
        elif isinstance(value, float):
            raise ValueError(
                'money must be a decimal string (e.g. "12.50") or an integer, not a float'
            )
        elif isinstance(value, Decimal) and not value.is_finite():
            return value  # pydantic's Decimal refuses it (finite_number), as it always did
        elif isinstance(value, Decimal) or (isinstance(value, int) and type(value) is not bool):
            amount = Decimal(value)
            problem = money_problem(amount) or (None if more is None else more(amount))
        else:
            return value  # no amount: pydantic's Decimal says what is wrong with it
        if problem is not None:
            raise ValueError(f"{amount} {problem}")
        return amount

    return BeforeValidator(check)


def _money_schema(pattern: str, minimum: int | None, description: str) -> WithJsonSchema:
    integer: dict[str, Any] = {"type": "integer"}
    if minimum is not None:
        integer["minimum"] = minimum
    return WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": pattern}, integer],
            "description": description,
        }
    )


#: Money amount: Decimal, never float; the currency is a sibling field.
Money = Annotated[
    Decimal,
    _amount(None),
    _money_schema(MONEY_PATTERN, None, 'decimal amount as a string (e.g. "12.50"), never a float'),
]

#: A price or a cost: money that is never negative (a return is a negative quantity).
Price = Annotated[
    Decimal,
    _amount(_negative),
    _money_schema(
        PRICE_PATTERN,
        0,
        'amount as a string (e.g. "12.50"), never a float, never negative',
    ),
]

#: Quantities beyond this magnitude are rejected as implausible (a corrupted field).
MAX_QUANTITY: Final = 10**12


def quantity_problem(quantity: int) -> str | None:
    """What makes a whole quantity implausible (said after it), or None."""
    if abs(quantity) > MAX_QUANTITY:
        return f"is out of range (at most {MAX_QUANTITY:,} either way)"
    return None


#: A quantity in whole units: a strict integer within ±MAX_QUANTITY.
Quantity = Annotated[StrictInt, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
#: A count of lines or items: a strict integer from 0 to MAX_QUANTITY.
Count = Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]


#: the last time `_to_utc` converted, and what it gave, as one pair (replaced whole: a
#: thread reads a matching pair): a sale line's `sold_at` is the instant of its
#: `occurred_at` just before (every door writes them so), and converting costs ~4x the
#: comparison
_LAST_UTC: list[tuple[datetime, datetime]] = [(datetime.min.replace(tzinfo=UTC),) * 2]


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:  # a time the system set (recorded_at): already so
        return value
    try:
        last, converted = _LAST_UTC[0]
        if value == last:  # the same instant, whatever its offset: the same UTC time
            return converted
        converted = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is out of range once converted to UTC") from None
    _LAST_UTC[0] = (value, converted)
    return converted


#: Timezone-aware timestamp, normalized to UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
