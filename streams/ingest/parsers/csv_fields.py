"""A CSV report line's fields, each read from its text: a required text, a whole
quantity, a price, a currency code, a sale time; `FieldInvalid` says which field and why."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

from schemas.currencies import currency_problem
from schemas.types import price_problem, quantity_problem
from streams.ingest.parsers.common import comma_hint

QUANTITY_FORMAT = re.compile(r"[+-]?\d+")
PRICE_FORMAT = re.compile(r"\d+(?:\.\d+)?")
DATE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")
DATETIME_FORMAT = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|z|[+-]\d{2}:?\d{2})?"
)


class FieldInvalid(Exception):
    def __init__(self, field: str | None, reason: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason
        self.message = message


def fast_time(value: str) -> datetime | None:
    """sold_at in the template's forms, or None (then `sold_at_field` says what is wrong)."""
    try:
        if len(value) == 10 and DATE_FORMAT.fullmatch(value):
            return datetime(int(value[:4]), int(value[5:7]), int(value[8:]), tzinfo=UTC)
        if DATETIME_FORMAT.fullmatch(value):
            parsed = datetime.fromisoformat(value.replace("z", "Z"))
            if parsed.tzinfo is UTC:
                return parsed
            if parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    return None


def required_text(value: str, name: str) -> str:
    if not value:
        raise FieldInvalid(name, "missing_field", f"{name} is empty")
    return value


def quantity_field(value: str, name: str) -> int:
    if not value:
        raise FieldInvalid(name, "missing_field", f"{name} is empty")
    if not QUANTITY_FORMAT.fullmatch(value):
        if re.fullmatch(r"[+-]?[\d,. '_]+", value) and re.search(r"[, '_]", value):
            why = "write it without thousands separators (1000, not 1,000)"
        elif re.fullmatch(r"[+-]?\d*\.\d+", value):
            why = "it must be a whole number of units"
        else:
            why = "it must be a whole number like 12 or -3"
        raise FieldInvalid(name, "bad_quantity", f"{name} {value!r} is not valid: {why}")
    quantity = int(value)
    problem = quantity_problem(quantity)
    if problem is not None:
        raise FieldInvalid(name, "bad_quantity", f"{name} {value} {problem}")
    return quantity


def price_field(value: str, name: str) -> Decimal:
    if not value:
        raise FieldInvalid(name, "missing_field", f"{name} is empty")
    if not PRICE_FORMAT.fullmatch(value):
        if value.startswith("-") and PRICE_FORMAT.fullmatch(value[1:]):
            why = "a price cannot be negative (a return is a negative quantity)"
        elif hint := comma_hint(value):
            why = hint
        elif " " in value or "'" in value:
            why = (
                "write a plain decimal with a point and no thousands separators "
                "(1234.50, not 1 234.50)"
            )
        elif re.search(r"[^\d.\-+eE]", value):
            why = "write the amount only, without a currency symbol (currency has its own column)"
        else:
            why = "write a plain decimal like 12.50 (no exponent, no thousands separators)"
        raise FieldInvalid(name, "bad_price", f"{name} {value!r} is not valid: {why}")
    amount = Decimal(value)
    problem = price_problem(amount)
    if problem is not None:
        raise FieldInvalid(name, "bad_price", f"{name} {value!r} {problem}")
    return amount


def currency_field(value: str, name: str) -> str:
    """A currency code, in capitals or not (`usd` is USD): one of ISO 4217's."""
    required_text(value, name)
    code = value.upper()
    problem = currency_problem(code)
    if problem is not None:
        raise FieldInvalid(name, "bad_currency", f"{name} {value!r} is {problem}")
    return code


def sold_at_field(value: str, name: str) -> datetime:
    if not value:
        raise FieldInvalid(name, "missing_field", f"{name} is empty")
    try:
        if DATE_FORMAT.fullmatch(value):
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        if DATETIME_FORMAT.fullmatch(value):
            parsed = datetime.fromisoformat(value.replace("z", "Z"))
            if parsed.tzinfo is None:
                raise FieldInvalid(
                    name,
                    "bad_date",
                    f"{name} {value!r} has no time zone: add Z or an offset like +02:00 "
                    "(or give a date only, YYYY-MM-DD, for 00:00 UTC)",
                )
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    raise FieldInvalid(
        name,
        "bad_date",
        f"{name} {value!r} is not ISO 8601: use 2026-04-01T14:30:00+02:00, "
        "2026-04-01T12:30:00Z or 2026-04-01",
    )
