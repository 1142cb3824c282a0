"""The identity and target wire contracts: what they accept and what they refuse, by field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.jsonschema import rendered_schemas
from schemas.parties import PARTY_EVENT_TYPES, EndCustomerAliasMapped
from tests.unit.party_events import AT, mapped, registered, targets, uid


def test_a_registration_keeps_its_fields_and_business_time() -> None:
    event = registered("M1", "Acme Tools Inc.", tax_id="US-12-3456789", duns="123456789")
    assert (event.master_id, event.duns, event.business_time) == ("M1", "123456789", AT)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"country": "usa"}, "country"),
        ({"duns": "12345678"}, "duns"),
        ({"legal_name": ""}, "legal_name"),
        ({"postal_code": "9410\n5"}, "postal_code"),
        ({"tax_id": "US 12|34"}, "tax_id"),
    ],
)
def test_a_registration_refuses_a_bad_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        registered("M1", "Acme", **changes)
    assert field in str(raised.value)


def test_an_alias_is_an_id_or_a_name_with_postal_code_and_country() -> None:
    by_name = mapped("D1", None, "M1", name="Acme", postal_code="94105", country="US")
    assert by_name.alias_id is None
    with pytest.raises(ValidationError, match="alias_id, or a name with postal_code"):
        mapped("D1", None, "M1", name="Acme")
    with pytest.raises(ValidationError, match="not both"):
        mapped("D1", "R1", "M1", name="Acme", postal_code="94105", country="US")


def test_an_automatic_mapping_carries_its_score() -> None:
    assert mapped("D1", "R1", "M1", automatic=True, score=Decimal("93.5")).score == Decimal("93.5")
    with pytest.raises(ValidationError, match="score"):
        mapped("D1", "R1", "M1", automatic=True)
    with pytest.raises(ValidationError, match="score"):
        mapped("D1", "R1", "M1", automatic=True, score=Decimal("100.5"))


def test_end_customer_events_have_their_own_type() -> None:
    event = EndCustomerAliasMapped(
        event_id=uid(1), occurred_at=AT, source="erp", distributor_id="D1", alias_id="EC-7",
        master_id="C1", changed_by="ops", reason="same customer", changed_at=AT,
    )  # fmt: skip
    assert event.event_type == "EndCustomerAliasMapped"


def test_targets_need_a_target_a_currency_with_revenue_and_a_whole_band() -> None:
    made = targets("D1", "2026-Q3", sell_through_revenue="250000.00", currency="USD")
    assert made.sell_through_revenue == Decimal("250000.00")
    with pytest.raises(ValidationError, match="at least one target"):
        targets("D1", "2026-Q3")
    with pytest.raises(ValidationError, match="currency"):
        targets("D1", "2026-Q3", sell_through_revenue="1.00")
    with pytest.raises(ValidationError, match="both"):
        targets("D1", "2026-Q3", weeks_of_supply_min="4.0")
    with pytest.raises(ValidationError, match="above"):
        targets("D1", "2026-Q3", weeks_of_supply_min="9.0", weeks_of_supply_max="4.0")
    with pytest.raises(ValidationError, match="period"):
        targets("D1", "2026-13", reseller_population=10)


def test_every_identity_event_has_a_json_schema_file() -> None:
    files = rendered_schemas()
    for model in (*PARTY_EVENT_TYPES,):
        assert f"{model.__name__}.v1.json" in files
    assert "DistributorTargetsSet.v1.json" in files
