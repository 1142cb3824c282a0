"""One CSV data record → a `SaleReported` or a `CsvLineError` (the template in
streams/ingest/parsers/csv_template.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Final, TypeVar

from pydantic import ValidationError

from schemas.currencies import ISO_4217
from schemas.events import PERSONAL_FIELDS, SaleReported
from schemas.types import MAX_QUANTITY, MONEY_PLACES
from streams.ingest.parsers.common import event_uuid, validation_summary
from streams.ingest.parsers.csv_fields import (
    PRICE_FORMAT,
    QUANTITY_FORMAT,
    FieldInvalid,
    currency_field,
    fast_time,
    price_field,
    quantity_field,
    required_text,
    sold_at_field,
)
from streams.ingest.parsers.csv_personal import without_personal
from streams.ingest.parsers.csv_template import (
    ITEM_COLUMNS,
    SOURCE,
    CsvLineError,
    within,
)

_T = TypeVar("_T")

_REPLACEMENT_CHAR: Final = "\ufffd"
#: the wire schema's own validator (what `SaleReported.model_validate` calls), bound once
_validate_sale: Final = SaleReported.__pydantic_validator__.validate_python


class LineParser:
    """One data record → a `SaleReported` or a `CsvLineError`.

    The fast path checks each field with one cheap test (the usual case: a valid line);
    anything it does not accept goes through `_checked`, which names every problem.
    Either way the event is built by the wire schema, which validates it in full.
    """

    def __init__(
        self,
        columns: list[str],
        received_at: datetime,
        uploader: str | None,
        report_id: str | None,
        source_name: str | None,
        spelling: Mapping[str, str] | None = None,
    ) -> None:
        self.columns = columns
        #: an item column's name as the header spells it, for the answers to name it
        self.spelling = spelling or {}
        self.width = len(columns)
        self.items = [name for name in ITEM_COLUMNS if name in columns]
        self.received_at = received_at
        self.uploader = uploader
        self.report_id = report_id
        self.source_name = source_name
        self.personal = [i for i, name in enumerate(columns) if name in PERSONAL_FIELDS]

    def redact(self, parsed: SaleReported | CsvLineError) -> SaleReported | CsvLineError:
        """A rejected line as it goes to the dead letters: without its personal cells."""
        if not self.personal or not isinstance(parsed, CsvLineError):
            return parsed
        kept = without_personal(parsed.original_line, self.width, self.personal)
        return dataclasses.replace(parsed, original_line=kept)

    def __call__(
        self, number: int, row: list[str], original: str
    ) -> tuple[SaleReported | CsvLineError, str | None]:
        """What the record became, and for a sale whose item was read from another column
        than `sku` (`vendor_part`, `upc`) that column as the header spells it, so that a
        check of the item names the column the sender filled."""
        outcome = self._read(number, row, original)
        if not isinstance(outcome, tuple):
            return outcome, None
        event, item = outcome
        return event, None if item == "sku" else self.spelling.get(item, item)

    def _read(
        self, number: int, row: list[str], original: str
    ) -> tuple[SaleReported, str] | CsvLineError:
        if len(row) != self.width:
            row = within(row, self.width)
        if len(row) != self.width:
            message = f"line {number} has {len(row)} fields but the header has {self.width} columns"
            return self.unreadable(number, row, "column_count", None, message, original)
        if _REPLACEMENT_CHAR in original:
            column = next(
                (
                    name
                    for name, cell in zip(self.columns, row, strict=True)
                    if _REPLACEMENT_CHAR in cell
                ),
                None,
            )
            message = f"line {number} is not valid UTF-8 (column {column}); save the file as UTF-8"
            return self.unreadable(number, row, "encoding", column, message, original)
        values = dict(zip(self.columns, map(str.strip, row), strict=True))
        fields = self._fast(values)
        if fields is None:
            checked = self._checked(number, values, original)
            if isinstance(checked, CsvLineError):
                return checked
            fields = checked
        return self._event(number, values, original, fields)

    def unreadable(
        self,
        number: int,
        cells: list[str],
        reason: str,
        column: str | None,
        message: str,
        original: str,
    ) -> CsvLineError:
        """A line that cannot be read as the template's (`reason`): unless its distributor
        cell, as far as it can be told, names another distributor than the uploader's,
        which outranks whatever else is wrong (a distributor's upload of another
        distributor's line is refused whole, valid or not)."""
        position = self.columns.index("distributor_id")
        named = cells[position].strip() if position < len(cells) else ""
        uploader = self.uploader
        if uploader is None or not named or named == uploader or _REPLACEMENT_CHAR in named:
            return CsvLineError(number, column, reason, message, original)
        return CsvLineError(
            number,
            "distributor_id",
            "distributor_mismatch",
            f"distributor_id {named!r} is not the uploading distributor {uploader!r} "
            f"(also: {message})",
            original,
        )

    def _fast(self, values: dict[str, str]) -> _Fields | None:
        """The line's fields when every one passes its plain check, else None."""
        distributor = values["distributor_id"]
        if not distributor or not values["transaction_id"] or not values["reseller_id"]:
            return None
        if self.uploader is not None and distributor != self.uploader:
            return None
        report = values.get("report_id")
        if report and self.report_id is not None and report != self.report_id:
            return None
        item = next((name for name in self.items if values[name]), None)
        quantity_text, price_text = values["quantity"], values["unit_price"]
        currency = values["currency"]
        if (
            item is None
            or not QUANTITY_FORMAT.fullmatch(quantity_text)
            or not PRICE_FORMAT.fullmatch(price_text)
            or currency.upper() not in ISO_4217
        ):
            return None
        quantity = int(quantity_text)
        dot = price_text.find(".")
        if abs(quantity) > MAX_QUANTITY or (dot >= 0 and len(price_text) - dot - 1 > MONEY_PLACES):
            return None
        sold_at = fast_time(values["sold_at"])
        if sold_at is None:
            return None
        # the price as its text: the wire schema reads a decimal text with its one rule, for
        # less than a Decimal made here and checked again there (~0.3 µs a line)
        return item, quantity, price_text, currency.upper(), sold_at

    def _checked(
        self, number: int, values: dict[str, str], original: str
    ) -> _Fields | CsvLineError:
        """Every field checked with a precise message; the first problem names the line."""
        problems: list[FieldInvalid] = []

        def check(fn: Callable[[str, str], _T], name: str) -> _T | None:
            try:
                return fn(values.get(name, ""), name)
            except FieldInvalid as problem:
                problems.append(problem)
                return None

        distributor = check(required_text, "distributor_id")
        uploader = self.uploader
        if isinstance(distributor, str) and uploader is not None and distributor != uploader:
            problems.append(
                FieldInvalid(
                    "distributor_id",
                    "distributor_mismatch",
                    f"distributor_id {distributor!r} is not the uploading distributor {uploader!r}",
                )
            )
        check(required_text, "transaction_id")
        check(required_text, "reseller_id")
        item = next((name for name in self.items if values[name]), None)
        if item is None:
            problems.append(
                FieldInvalid(self.items[0], "missing_field", f"{' / '.join(self.items)} is empty")
            )
        quantity = check(quantity_field, "quantity")
        unit_price = check(price_field, "unit_price")
        currency = check(currency_field, "currency")
        sold_at = check(sold_at_field, "sold_at")
        report = values.get("report_id")
        if report and self.report_id is not None and report != self.report_id:
            problems.append(
                FieldInvalid(
                    "report_id",
                    "report_mismatch",
                    f"report_id {report!r} is not the report uploaded ({self.report_id!r}): "
                    "one file is one report",
                )
            )
        if problems:
            first, rest = problems[0], problems[1:]
            message = first.message
            if rest:
                message += " (also: " + "; ".join(f"{p.field}: {p.message}" for p in rest) + ")"
            return CsvLineError(number, first.field, first.reason, message, original)
        assert item is not None and quantity is not None and unit_price is not None
        assert currency is not None and sold_at is not None
        return item, quantity, unit_price, currency, sold_at

    def _event(
        self, number: int, values: dict[str, str], original: str, fields: _Fields
    ) -> tuple[SaleReported, str] | CsvLineError:
        item, quantity, unit_price, currency, sold_at = fields
        distributor, transaction_id = values["distributor_id"], values["transaction_id"]
        reseller_id, sku = values["reseller_id"], values[item]
        unit = values.get("unit") or None
        end_customer = values.get("end_customer") or None
        report_id = values.get("report_id") or self.report_id
        # the line as sent stands for its content: a changed line gets a new id
        event_id = event_uuid("csv-sale", report_id, number, original)
        data: dict[str, object] = {
            "event_id": event_id,
            "occurred_at": sold_at,
            "recorded_at": self.received_at,
            "source": SOURCE,
            "distributor_id": distributor,
            "transaction_id": transaction_id,
            "reseller_id": reseller_id,
            "sku": sku,
            "quantity": quantity,
            "unit_price": unit_price,
            "currency": currency,
            "sold_at": sold_at,
        }
        # optional fields only when present (validating a dict is cheaper than keywords)
        if self.source_name is not None:
            data["source_ref"] = f"{self.source_name}:{number}"
        if end_customer is not None:
            data["end_customer"] = end_customer
        for column in PERSONAL_FIELDS:
            if personal := values.get(column):
                data[column] = personal
        if unit is not None:
            data["unit"] = unit
        if report_id is not None:
            data["report_id"] = report_id
        try:
            return _validate_sale(data), item
        except ValidationError as error:
            name, message = validation_summary(error)
            field = item if name == "sku" else name
            return CsvLineError(number, field, "invalid_field", message, original)


#: (item column used, quantity, unit price (a decimal text, or read), currency, sold_at) of a
#: line whose fields are valid
_Fields = tuple[str, int, Decimal | str, str, datetime]
