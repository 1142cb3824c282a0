"""Wire contracts: round trips, the encoding, field types, business time and optional fields."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.codec import decode_event, encode_event, event_to_dict
from schemas.events import (
    EVENT_TYPES,
    InventoryCounted,
    SaleReported,
)
from tests.unit.event_samples import EVENT_ID, SAMPLES, raw, sale


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


@settings(max_examples=300)
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
