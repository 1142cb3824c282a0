"""Wire contracts: the reason bad input gets (invalid JSON, unknown types, missing fields,
many errors), and events being immutable."""

from __future__ import annotations

import pytest

from schemas.codec import decode_event
from tests.unit.event_samples import SAMPLES, raw, rejected, sale


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
