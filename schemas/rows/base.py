"""What every row model is made of: the text forms of money, times, dates and ids (their
JSON Schemas and SQL types), the fields many rows share, and the `RowModel` base."""

from __future__ import annotations

from typing import Annotated, ClassVar, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema


class Sql:
    """The PostgreSQL type of a field whose Python type alone does not say it."""

    def __init__(self, type_: str) -> None:
        self.type = type_


#: the JSON Schemas of the text forms (the OpenAPI document uses them for parameters too)
DECIMAL_SCHEMA: Final = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["125.00"]}
TIME_SCHEMA: Final = {
    "type": "string",
    "format": "date-time",
    "examples": ["2026-07-06T14:00:00Z"],
}
DATE_SCHEMA: Final = {"type": "string", "format": "date"}
UUID_SCHEMA: Final = {"type": "string", "format": "uuid"}

#: a decimal string: money, rates, weeks of supply (never a float)
DecimalText = Annotated[str, Sql("numeric"), WithJsonSchema(DECIMAL_SCHEMA)]
#: an ISO 8601 UTC time with a `Z`
Time = Annotated[str, Sql("timestamptz"), WithJsonSchema(TIME_SCHEMA)]
#: an ISO date
Day = Annotated[str, Sql("date"), WithJsonSchema(DATE_SCHEMA)]
Uuid = Annotated[str, Sql("uuid"), WithJsonSchema(UUID_SCHEMA)]
Counts = Annotated[dict[str, int], Sql("jsonb")]

Severity = Literal["minor", "major", "critical"]

DistributorId = Annotated[str, Field(description="The distributor.")]
Sku = Annotated[str, Field(description="The vendor's SKU.")]
TransactionId = Annotated[str, Field(description="The sale's transaction id.")]
ResellerId = Annotated[str, Field(description="The reseller it was sold to.")]
SoldAt = Annotated[Time, Field(description="When it was sold.")]
UnitPrice = Annotated[DecimalText, Field(description="The reported unit price.")]


class RowModel(BaseModel):
    """A row kind; `identified_by`: the fields that identify a row (a table's primary key)."""

    model_config = ConfigDict(frozen=True)

    identified_by: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(cls.model_fields)
