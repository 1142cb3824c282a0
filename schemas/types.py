"""Field types shared by every wire schema: ids, money, currencies, quantities, UTC times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    StringConstraints,
    WithJsonSchema,
)

#: A business identifier: non-empty, no surrounding whitespace, no "|" (used in keys).
Id = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s|](?:[^|]*[^\s|])?$"),
]

#: ISO 4217 alphabetic currency code.
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


def _reject_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('money must be a decimal string (e.g. "12.50") or an integer, not a float')
    return value


def _finite_money(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("money must be a finite decimal")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6:
        raise ValueError("money has more than 6 decimal places")
    return value


#: Money amount: Decimal, never float; the currency is a sibling field.
Money = Annotated[
    Decimal,
    BeforeValidator(_reject_float),
    AfterValidator(_finite_money),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^-?\d+(\.\d{1,6})?$"},
                {"type": "integer"},
            ],
            "description": 'decimal amount as a string (e.g. "12.50"), never a float',
        }
    ),
]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


#: Timezone-aware timestamp, normalized to UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
