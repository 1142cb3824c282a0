"""Wire contracts: round trips, money, times, ids, quantities and the reasons bad input gets."""

from __future__ import annotations

import re
import sys
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.codec import InvalidEvent, decode_event, encode_event, event_to_dict
from schemas.events import (
    EVENT_TYPES,
    InventoryCounted,
    PriceChanged,
    ProductDefined,
    RebateProgramDefined,
    ReportSubmitted,
    ResellerOnboarded,
    SaleReported,
    ShipmentRecorded,
)
from schemas.jsonschema import SCHEMA_DIR
from schemas.types import MAX_QUANTITY, visible

EVENT_ID = "0b7d6a0e-1c7c-4e6b-9f0a-3d1f2c9a8e11"
WHEN = "2026-07-07T15:04:05Z"


def envelope(event_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": EVENT_ID,
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": WHEN,
        "recorded_at": "2026-07-07T15:05:00Z",
        "source": "api",
        **fields,
    }


SAMPLES: dict[str, dict[str, Any]] = {
    "ShipmentRecorded": envelope(
        "ShipmentRecorded",
        source="erp",
        shipment_id="SH-000001",
        distributor_id="D01",
        sku="SKU-0001",
        quantity=-12,
        unit="EA",
        unit_price="101.25",
        currency="USD",
        shipped_at=WHEN,
    ),
    "SaleReported": envelope(
        "SaleReported",
        distributor_id="D01",
        transaction_id="D01-T000123",
        reseller_id="D01-R001",
        end_customer="EC-0042",
        sku="SKU-0001",
        quantity=3,
        unit_price="129.90",
        currency="USD",
        sold_at=WHEN,
        report_id="D01-2026W28",
    ),
    "InventoryCounted": envelope(
        "InventoryCounted",
        source="edi852",
        distributor_id="D01",
        sku="SKU-0001",
        on_hand=40,
        counted_at="2026-07-12T23:00:00Z",
    ),
    "PriceChanged": envelope(
        "PriceChanged",
        source="erp",
        sku="SKU-0001",
        distributor_cost="100.00",
        floor_price="120.000001",
        currency="USD",
        effective_from="2026-07-01T00:00:00Z",
        distributor_id="D02",
        reseller_id="D02-R007",
    ),
    "RebatePeriodClosed": envelope(
        "RebatePeriodClosed",
        source="erp",
        program_id="VPA-1",
        period="2026-Q3",
        closed_at="2026-10-15T00:00:00Z",
        closed_by="finance-carol",
    ),
    "RebateProgramDefined": envelope(
        "RebateProgramDefined",
        source="erp",
        program_id="VPA-1",
        distributor_ids=["D01", "D02"],
        basis="sell_through",
        measure="revenue",
        period="quarter",
        tiers=[{"threshold": "0", "rate": "0"}, {"threshold": "100000", "rate": "0.02"}],
        tier_mode="retroactive",
        minimum_commitment="50000",
        growth_baseline="10000.50",
        skus=["SKU-0001"],
        currency="USD",
    ),
    "ResellerOnboarded": envelope(
        "ResellerOnboarded",
        distributor_id="D01",
        reseller_id="D01-R001",
        name="Austin Tech 001",
        onboarded_at=WHEN,
    ),
    "ProductDefined": envelope(
        "ProductDefined",
        source="erp",
        sku="SKU-0001",
        description="Rugged Router",
        base_unit="EA",
        unit_conversions={"CA": 12},
        identifiers={"upc": "036000291452", "vendor_part": "VP-0001"},
    ),
    "ReportSubmitted": envelope(
        "ReportSubmitted",
        distributor_id="D01",
        report_id="D01-2026W28",
        period_start="2026-07-06",
        period_end="2026-07-12",
        line_count=0,
        submitted_at="2026-07-14T09:00:00Z",
        replaces_report_id="D01-2026W28-a",
    ),
    "LineRejected": envelope(
        "LineRejected",
        source="csv",
        source_ref="weekly.csv:42",
        distributor_id="D01",
        reason="schema_violation",
        detail="quantity: not an integer ('twelve')",
        original_b64="RDAxLFQtOTksUjAxLFNLVS0xLHR3ZWx2ZQ==",
        report_id="D01-2026W28",
    ),
}


def raw(data: dict[str, Any]) -> bytes:
    return orjson.dumps(data)


def rejected(data: dict[str, Any] | bytes) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as caught:
        decode_event(data if isinstance(data, bytes) else raw(data))
    return caught.value


def sale(**changes: Any) -> dict[str, Any]:
    return {**SAMPLES["SaleReported"], **changes}


def test_samples_cover_every_event_type() -> None:
    assert set(SAMPLES) == {cls.model_fields["event_type"].default for cls in EVENT_TYPES}


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_every_event_type_round_trips(event_type: str) -> None:
    event = decode_event(raw(SAMPLES[event_type]))
    assert event.event_type == event_type
    encoded = encode_event(event)
    again = decode_event(encoded)
    assert again == event
    assert encode_event(again) == encoded
    # str input works too, and the JSON form is exactly what went in (times as ...Z)
    assert decode_event(encoded.decode()) == event
    assert orjson.loads(encoded) == SAMPLES[event_type]


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_encoding_is_orjson_of_the_json_dict(event_type: str) -> None:
    event = decode_event(raw(SAMPLES[event_type]))
    assert encode_event(event) == orjson.dumps(event_to_dict(event))


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60))
def test_encoding_escapes_text_as_orjson_does(text: str) -> None:
    """Any text (control characters, quotes, non-ASCII, astral planes) comes out as the
    same bytes as orjson makes of the dict form."""
    event = decode_event(raw(SAMPLES["LineRejected"])).model_copy(update={"detail": text})
    assert encode_event(event) == orjson.dumps(event_to_dict(event))


def test_sale_fields_have_their_python_types() -> None:
    event = decode_event(raw(SAMPLES["SaleReported"]))
    assert isinstance(event, SaleReported)
    assert event.event_id == UUID(EVENT_ID)
    assert event.unit_price == Decimal("129.90")
    assert str(event.unit_price) == "129.90"
    assert event.sold_at == datetime(2026, 7, 7, 15, 4, 5, tzinfo=UTC)
    assert event.business_time == event.sold_at
    assert event_to_dict(event)["unit_price"] == "129.90"


def test_business_time_of_each_type() -> None:
    count = decode_event(raw(SAMPLES["InventoryCounted"]))
    assert isinstance(count, InventoryCounted)
    assert count.business_time == datetime(2026, 7, 12, 23, tzinfo=UTC)
    report = decode_event(raw(SAMPLES["ReportSubmitted"]))
    assert report.business_time == datetime(2026, 7, 14, 9, tzinfo=UTC)
    product = decode_event(raw(SAMPLES["ProductDefined"]))
    assert product.business_time == product.occurred_at


def test_optional_fields_default_and_are_omitted_when_encoded() -> None:
    minimal = {k: v for k, v in sale().items() if k not in {"end_customer", "report_id"}}
    del minimal["recorded_at"]
    del minimal["schema_version"]
    event = decode_event(raw(minimal))
    assert isinstance(event, SaleReported)
    assert event.end_customer is None and event.recorded_at is None
    assert event.schema_version == 1
    out = orjson.loads(encode_event(event))
    assert "end_customer" not in out and "recorded_at" not in out
    assert out["schema_version"] == 1


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
    assert "timezone" in error.detail


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


@pytest.mark.parametrize(
    ("payload", "reason", "detail_part"),
    [
        (b'{"event_type": "SaleReported", "distributor_id": ', "invalid_json", "not valid JSON"),
        (b"", "invalid_json", "not valid JSON"),
        (b"\xff{}", "invalid_json", "not valid JSON"),
        (b"[1, 2]", "invalid_json", "must be a JSON object"),
        (b'"SaleReported"', "invalid_json", "must be a JSON object"),
        (b"{}", "schema_violation", "event_type: field required"),
    ],
)
def test_invalid_input_reasons(payload: bytes, reason: str, detail_part: str) -> None:
    error = rejected(payload)
    assert error.reason == reason
    assert detail_part in error.detail
    assert str(error).startswith(f"{reason}: ")


def test_unknown_event_type_is_a_schema_violation_naming_the_tag() -> None:
    error = rejected(sale(event_type="SaleRefunded"))
    assert error.reason == "schema_violation"
    assert "SaleRefunded" in error.detail and "event_type" in error.detail


def test_missing_field_names_the_path() -> None:
    data = sale()
    del data["sku"]
    error = rejected(data)
    assert error.detail == "SaleReported.sku: Field required"


def test_schema_version_other_than_1_is_rejected() -> None:
    assert "SaleReported.schema_version" in rejected(sale(schema_version=2)).detail


def test_unknown_source_is_rejected() -> None:
    assert "SaleReported.source" in rejected(sale(source="fax")).detail


def test_many_errors_are_summarized() -> None:
    error = rejected(
        sale(quantity="x", unit_price=1.5, sku="", currency="usd", sold_at="x", reseller_id=" ")
    )
    assert error.detail.count(";") == 5
    assert error.detail.endswith("... and 1 more")


def test_events_are_immutable() -> None:
    event = decode_event(raw(SAMPLES["SaleReported"]))
    with pytest.raises(ValueError, match="frozen"):
        event.source = "csv"


# --- one rule set for field values (ids and texts, money, quantities, times) -----------

#: every character the Unicode database of this Python calls a control (Cc), a format
#: character (Cf) or a line / paragraph separator (Zl, Zp)
INVISIBLE_CHARS = [
    chr(code)
    for code in range(sys.maxunicode + 1)
    if unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp")
]


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("SaleReported", "transaction_id"),
        ("SaleReported", "end_customer"),
        ("SaleReported", "source_ref"),
        ("ResellerOnboarded", "name"),
        ("ProductDefined", "description"),
        ("LineRejected", "detail"),
    ],
)
@pytest.mark.parametrize(
    "char", ["\x00", "\t", "\r", "\n", "\x85", "\u200b", "\u200f", "\u2028", "\u2029", "\ufeff"]
)
def test_ids_and_texts_refuse_control_and_invisible_characters(
    event_type: str, field: str, char: str
) -> None:
    error = rejected({**SAMPLES[event_type], field: f"RM-{char}1"})
    assert error.reason == "schema_violation"
    assert error.detail.startswith(f"{event_type}.{field}: ")
    assert f"contains U+{ord(char):04X}" in error.detail
    assert "control and invisible characters are not allowed" in error.detail


def test_the_nul_of_the_issue_is_refused_naming_the_field() -> None:
    error = rejected(sale(transaction_id="RM-NUL\u0000"))
    assert error.detail == (
        "SaleReported.transaction_id: 'RM-NUL\\x00': contains U+0000 (a control character) at "
        "position 7: control and invisible characters are not allowed"
    )


def test_every_invisible_character_is_refused_by_the_models_and_the_json_schema() -> None:
    assert len(INVISIBLE_CHARS) > 200  # C0, C1 and the format characters
    files = {
        name: orjson.loads((SCHEMA_DIR / f"{name}.v1.json").read_text(encoding="utf-8"))
        for name in ("SaleReported", "ResellerOnboarded")
    }
    id_pattern = re.compile(files["SaleReported"]["properties"]["reseller_id"]["pattern"])
    text_pattern = re.compile(files["ResellerOnboarded"]["properties"]["name"]["pattern"])
    for char in INVISIBLE_CHARS:
        value = f"A{char}B"
        assert id_pattern.search(value) is None and text_pattern.search(value) is None, hex(
            ord(char)
        )
        for model, field in ((SaleReported, "reseller_id"), (ResellerOnboarded, "name")):
            data = {**SAMPLES[model.__name__], field: value}
            with pytest.raises(ValidationError):
                model.model_validate(data)


@pytest.mark.parametrize("good", ["Café Noël", "D-01/ü", "東京 1", "Rugged 🚀 Router", "a b"])
def test_visible_text_stays_accepted(good: str) -> None:
    assert decode_event(raw(sale(reseller_id=good))).reseller_id == good  # type: ignore[attr-defined]
    named = dict(SAMPLES["ResellerOnboarded"], name=f" {good} ")
    assert decode_event(raw(named)).name == f" {good} "  # type: ignore[attr-defined]


def test_visible_escapes_what_a_text_may_not_hold() -> None:
    assert visible("a\x00b\n\u200b\U000e0041 ü") == "a\\x00b\\n\\u200b\\U000e0041 ü"
    assert decode_event(raw(dict(SAMPLES["LineRejected"], detail=visible("x\ty"))))


@pytest.mark.parametrize(
    ("event_type", "field"),
    [
        ("SaleReported", "unit_price"),
        ("ShipmentRecorded", "unit_price"),
        ("PriceChanged", "distributor_cost"),
        ("PriceChanged", "floor_price"),
    ],
)
@pytest.mark.parametrize("amount", ["-0.01", "-12", -1])
def test_prices_and_costs_are_never_negative(event_type: str, field: str, amount: object) -> None:
    error = rejected({**SAMPLES[event_type], field: amount})
    assert error.detail.startswith(f"{event_type}.{field}: ")
    assert "is negative" in error.detail
    assert decode_event(raw({**SAMPLES[event_type], field: "0"}))


@pytest.mark.parametrize("written", ["1e3", "1E3", "1.5e-2", "+5", " 5", "5 ", "1,000", "5."])
def test_money_strings_are_plain_decimals_only(written: str) -> None:
    error = rejected(sale(unit_price=written))
    assert error.detail.startswith("SaleReported.unit_price: ")
    assert "plain decimal" in error.detail and repr(written) in error.detail
    program = dict(SAMPLES["RebateProgramDefined"], growth_baseline=written)
    assert "RebateProgramDefined.growth_baseline" in rejected(program).detail


def test_money_as_integers_and_signed_money_stay_accepted() -> None:
    assert decode_event(raw(sale(unit_price=1000))).unit_price == Decimal(1000)  # type: ignore[attr-defined]
    program = decode_event(raw(dict(SAMPLES["RebateProgramDefined"], growth_baseline="-10.5")))
    assert program.growth_baseline == Decimal("-10.5")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("event_type", "field", "low"),
    [
        ("SaleReported", "quantity", -MAX_QUANTITY),
        ("ShipmentRecorded", "quantity", -MAX_QUANTITY),
        ("InventoryCounted", "on_hand", -MAX_QUANTITY),
        ("ReportSubmitted", "line_count", 0),
    ],
)
def test_quantities_and_counts_are_bounded(event_type: str, field: str, low: int) -> None:
    for fine in (low, MAX_QUANTITY):
        assert decode_event(raw({**SAMPLES[event_type], field: fine}))
    for wrong in (low - 1, MAX_QUANTITY + 1):
        assert f"{event_type}.{field}" in rejected({**SAMPLES[event_type], field: wrong}).detail


def test_json_schema_files_say_the_same_about_money_and_quantities() -> None:
    schema = orjson.loads((SCHEMA_DIR / "SaleReported.v1.json").read_text(encoding="utf-8"))
    properties = schema["properties"]
    assert (properties["quantity"]["minimum"], properties["quantity"]["maximum"]) == (
        -MAX_QUANTITY,
        MAX_QUANTITY,
    )
    price_text, price_integer = properties["unit_price"]["anyOf"]
    assert price_integer == {"type": "integer", "minimum": 0}
    price = re.compile(price_text["pattern"])
    assert [bool(price.search(text)) for text in ("12.50", "7", "1e3", "-1", "1.0000001")] == [
        True,
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-05:00"], ids=["year1", "year9999"]
)
@pytest.mark.parametrize("field", ["sold_at", "occurred_at"])
def test_a_time_that_overflows_utc_is_a_schema_violation(field: str, moment: str) -> None:
    error = rejected(sale(**{field: moment}))
    assert error.reason == "schema_violation"
    assert error.detail == (
        f"SaleReported.{field}: Value error, {moment} is out of range once converted to UTC"
    )
