"""A currency is an ISO 4217 code (schemas/currencies.py), one rule at every door: the wire
schema (JSON, Kafka, price lists, programs, rates, claims), the CSV templates and X12's CUR02,
each refusing a code it does not know with the same words, naming the field and the value."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from schemas.codec import InvalidEvent, event_of
from schemas.currencies import ISO_4217, currency_problem
from schemas.types import Currency
from streams.ingest.parsers.common import FieldProblem, check_currency
from streams.ingest.parsers.csv_report import CsvLineError, parse_csv
from tests.unit.event_samples import SAMPLES
from tests.unit.parsers.conftest import RECEIVED_AT

UNKNOWN = "not an ISO 4217 currency code (like USD or EUR)"
CURRENCY_FIELDS = ("currency", "from_currency", "to_currency")
_CURRENCY: TypeAdapter[str] = TypeAdapter(Currency)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz", min_size=2, max_size=4))
def test_the_wire_schema_takes_exactly_the_codes_the_core_takes(code: str) -> None:
    try:
        _CURRENCY.validate_python(code)
    except ValidationError:
        assert currency_problem(code) is not None
    else:
        assert currency_problem(code) is None and code in ISO_4217


def test_the_core_names_what_is_wrong() -> None:
    assert currency_problem("USD") is None and currency_problem("XCG") is None
    assert currency_problem("ABC") == currency_problem("XXX") == UNKNOWN  # XXX: no currency
    assert currency_problem("eur") == "not written in capitals ('EUR')"


def currency_samples() -> list[tuple[str, str]]:
    return [
        (kind, name) for kind, data in SAMPLES.items() for name in CURRENCY_FIELDS if name in data
    ]


@pytest.mark.parametrize(("kind", "name"), currency_samples())
def test_every_event_with_a_currency_refuses_an_unknown_code_naming_it(kind: str, name: str):
    data: dict[str, Any] = {**SAMPLES[kind], name: "ABC"}
    with pytest.raises(InvalidEvent) as refused:
        event_of(data)
    assert refused.value.reason == "schema_violation"
    assert f"{kind}.{name}: 'ABC': {UNKNOWN}" in refused.value.detail


def test_price_lists_programs_and_rates_are_among_them() -> None:
    kinds = {kind for kind, _ in currency_samples()}
    assert {"PriceChanged", "RebateProgramDefined", "ExchangeRatePublished"} <= kinds
    assert {"SaleReported", "ShipmentRecorded", "DistributorAgreementSigned"} <= kinds


def test_the_csv_and_x12_doors_say_the_same() -> None:
    line = "DIST-001,T1,RES-1,WID-1,2,10.00,abc,2026-04-06T10:00:00Z\n"
    header = "distributor_id,transaction_id,reseller_id,sku,quantity,unit_price,currency,sold_at\n"
    [error] = list(parse_csv(io.BytesIO((header + line).encode()), received_at=RECEIVED_AT))
    assert isinstance(error, CsvLineError)
    assert (error.field, error.reason) == ("currency", "bad_currency")
    assert error.message == f"currency 'abc' is {UNKNOWN}"
    with pytest.raises(FieldProblem) as refused:
        check_currency("ABC", "CUR02", "bad_currency")
    assert refused.value.message == f"CUR02 'ABC' is {UNKNOWN}"
