"""Wire contracts, field by field: money, times, ids, quantities and the rules between fields."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import orjson
import pytest

from schemas.codec import decode_event, encode_event
from schemas.events import (
    PriceChanged,
    ProductDefined,
    RebateProgramDefined,
    ReportSubmitted,
    SaleReported,
    ShipmentRecorded,
)
from tests.unit.event_samples import SAMPLES, raw, rejected, sale


@pytest.mark.parametrize("value", [129.9, 1e2, 0.0])
def test_money_as_float_is_rejected_with_a_clear_message(value: float) -> None:
    error = rejected(sale(unit_price=value))
    assert error.reason == "schema_violation"
    assert "SaleReported.unit_price" in error.detail
    assert "not a float" in error.detail


def test_money_float_rejected_in_nested_tiers_naming_the_path() -> None:
    program = dict(SAMPLES["RebateProgramDefined"])
    program["tiers"] = [{"threshold": "0", "rate": "0"}, {"threshold": "100000", "rate": 0.02}]
    error = rejected(program)
    assert error.reason == "schema_violation"
    assert "RebateProgramDefined.tiers.1.rate" in error.detail
    assert "not a float" in error.detail


def test_money_accepts_integers_and_strings_but_not_nan_or_too_many_places() -> None:
    assert decode_event(raw(sale(unit_price=130))).unit_price == Decimal(130)  # type: ignore[attr-defined]
    for bad in ("NaN", "Infinity", "1.0000001", "twelve"):
        error = rejected(sale(unit_price=bad))
        assert error.reason == "schema_violation"
        assert "unit_price" in error.detail


@pytest.mark.parametrize(
    "field", ["occurred_at", "recorded_at", "sold_at"], ids=["occurred", "recorded", "sold"]
)
def test_naive_datetimes_are_rejected(field: str) -> None:
    error = rejected(sale(**{field: "2026-07-07T15:04:05"}))
    assert error.reason == "schema_violation"
    assert f"SaleReported.{field}" in error.detail
    assert "has no time zone" in error.detail


def test_non_utc_offsets_are_normalized_to_utc() -> None:
    event = decode_event(
        raw(sale(sold_at="2026-07-07T17:04:05+02:00", occurred_at="2026-07-07T10:04:05-05:00"))
    )
    assert isinstance(event, SaleReported)
    assert event.sold_at == datetime(2026, 7, 7, 15, 4, 5, tzinfo=UTC)
    assert event.sold_at.utcoffset() is not None
    assert event.sold_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert event.sold_at.hour == 15
    assert event.occurred_at.hour == 15
    assert orjson.loads(encode_event(event))["sold_at"] == "2026-07-07T15:04:05Z"


def test_non_utc_offset_moves_the_calendar_day() -> None:
    event = decode_event(raw(sale(sold_at="2026-07-08T01:30:00+03:00")))
    assert event.business_time.date() == date(2026, 7, 7)


def test_extra_fields_are_rejected() -> None:
    error = rejected(sale(discount="5.00"))
    assert error.reason == "schema_violation"
    assert "SaleReported.discount" in error.detail
    assert "Extra inputs are not permitted" in error.detail
    nested = dict(SAMPLES["ProductDefined"])
    nested["identifiers"] = {"upc": "036000291452", "gtin": "x"}
    assert "ProductDefined.identifiers.gtin" in rejected(nested).detail


@pytest.mark.parametrize("bad_id", ["", " D01", "D01 ", "D0|1", "|", " ", "x" * 129], ids=repr)
@pytest.mark.parametrize("field", ["distributor_id", "transaction_id", "sku", "reseller_id"])
def test_bad_ids_are_rejected(field: str, bad_id: str) -> None:
    error = rejected(sale(**{field: bad_id}))
    assert error.reason == "schema_violation"
    assert f"SaleReported.{field}" in error.detail


@pytest.mark.parametrize("good_id", ["D", "D 01", "D-01/ü", "x" * 128])
def test_good_ids_are_accepted(good_id: str) -> None:
    event = decode_event(raw(sale(distributor_id=good_id)))
    assert isinstance(event, SaleReported)
    assert event.distributor_id == good_id


@pytest.mark.parametrize("quantity", ["3", 3.0, 2.5, True, None], ids=repr)
def test_quantity_must_be_an_int(quantity: object) -> None:
    error = rejected(sale(quantity=quantity))
    assert error.reason == "schema_violation"
    assert "SaleReported.quantity" in error.detail


def test_count_on_hand_must_be_an_int() -> None:
    count = dict(SAMPLES["InventoryCounted"], on_hand="40")
    assert "InventoryCounted.on_hand" in rejected(count).detail


def test_negative_quantities_are_returns_and_valid() -> None:
    event = decode_event(raw(sale(quantity=-2)))
    assert isinstance(event, SaleReported)
    assert event.quantity == -2
    shipment = decode_event(raw(SAMPLES["ShipmentRecorded"]))
    assert isinstance(shipment, ShipmentRecorded)
    assert shipment.quantity == -12


def test_price_with_reseller_but_no_distributor_is_rejected() -> None:
    price = {k: v for k, v in SAMPLES["PriceChanged"].items() if k != "distributor_id"}
    error = rejected(price)
    assert error.reason == "schema_violation"
    assert "needs its distributor_id" in error.detail
    general = {k: v for k, v in price.items() if k != "reseller_id"}
    event = decode_event(raw(general))
    assert isinstance(event, PriceChanged)
    assert event.distributor_id is None and event.reseller_id is None


def test_report_period_end_before_start_is_rejected() -> None:
    report = dict(SAMPLES["ReportSubmitted"], period_start="2026-07-12", period_end="2026-07-06")
    error = rejected(report)
    assert error.reason == "schema_violation"
    assert "period_end is before period_start" in error.detail
    one_day = dict(SAMPLES["ReportSubmitted"], period_start="2026-07-12", period_end="2026-07-12")
    event = decode_event(raw(one_day))
    assert isinstance(event, ReportSubmitted)
    assert event.period_start == event.period_end == date(2026, 7, 12)


def test_report_line_count_cannot_be_negative() -> None:
    report = dict(SAMPLES["ReportSubmitted"], line_count=-1)
    assert "ReportSubmitted.line_count" in rejected(report).detail


def test_unit_conversion_must_be_positive() -> None:
    product = dict(SAMPLES["ProductDefined"], unit_conversions={"CA": 0})
    assert "ProductDefined.unit_conversions.CA" in rejected(product).detail
    ok = decode_event(raw(SAMPLES["ProductDefined"]))
    assert isinstance(ok, ProductDefined)
    assert ok.unit_conversions == {"CA": 12}


def test_rebate_program_needs_a_tier() -> None:
    program = dict(SAMPLES["RebateProgramDefined"], tiers=[])
    assert "RebateProgramDefined.tiers" in rejected(program).detail
    ok = decode_event(raw(dict(SAMPLES["RebateProgramDefined"], distributor_ids="all")))
    assert isinstance(ok, RebateProgramDefined)
    assert ok.distributor_ids == "all"
