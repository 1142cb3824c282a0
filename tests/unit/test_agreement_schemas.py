"""Agreement, rate and rotation wire contracts: JSON round trips, the published JSON
Schema files, and the bad input each one refuses."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from schemas.agreements import (
    AGREEMENT_EVENT_TYPES,
    DistributorAgreementAmended,
    DistributorAgreementSigned,
    ExchangeRatePublished,
    StockRotationRequested,
)
from schemas.events import EVENT_TYPES
from schemas.jsonschema import SCHEMA_DIR
from schemas.topics import KEY_FIELD, TOPIC_OF
from tests.unit.agreement_events import amended, rate, rotation, signed, terminated


def samples() -> list[Any]:
    return [
        signed(),
        amended("M1", date(2026, 5, 15), reporting={"frequency": "monthly", "due_day": 10}),
        terminated(date(2026, 9, 30)),
        rate("EUR", "USD", "1.0842", date(2026, 5, 4)),
        rotation("R1", {"X": 5}, {"Y": 5}),
    ]


@pytest.mark.parametrize("event", samples(), ids=lambda e: type(e).__name__)
def test_round_trips_and_matches_its_schema_file(event: Any) -> None:
    text = event.model_dump_json()
    assert type(event).model_validate_json(text) == event
    schema = json.loads((SCHEMA_DIR / f"{type(event).__name__}.v1.json").read_text())
    Draft202012Validator(schema).validate(json.loads(text))


def test_agreements_rates_and_rotation_requests_are_on_topics() -> None:
    assert set(AGREEMENT_EVENT_TYPES) <= set(EVENT_TYPES)
    topics = {TOPIC_OF[kind.__name__] for kind in AGREEMENT_EVENT_TYPES}
    assert topics == {"agreements", "rates", "rotations"}
    assert KEY_FIELD[StockRotationRequested.__name__] == "distributor_id"


def test_a_rate_is_keyed_by_its_pair() -> None:
    published = rate("EUR", "USD", "1.0842", date(2026, 5, 4))
    assert getattr(published, KEY_FIELD["ExchangeRatePublished"]) == "EUR>USD"


def signed_json(**changes: Any) -> dict[str, Any]:
    data = json.loads(signed().model_dump_json())
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"term_end": "2025-12-31"}, "term_end is before term_start"),
        ({"discounts": [{"group_id": "G-NET", "discount": "1.5"}]}, "not a fraction"),
        ({"discounts": [{"group_id": "G-NET", "discount": 0.05}]}, "not a float"),
        ({"inventory": {"max_age_days": 400}}, "less than or equal to 365"),
        ({"inventory": {"rotation_allowance": "-0.1"}}, "not a fraction"),
        (
            {
                "inventory": {
                    "stocking_targets": [{"sku": "X", "group_id": "G", "max_weeks_of_supply": "4"}]
                }
            },
            "exactly one of sku or group_id",
        ),
        (
            {"inventory": {"stocking_targets": [{"sku": "X", "max_weeks_of_supply": "0"}]}},
            "greater than 0",
        ),
        ({"reporting": {"frequency": "weekly", "due_day": 9}}, "weekday"),
        ({"reporting": {"frequency": "monthly", "due_day": 31}}, "less than or equal to 28"),
        (
            {
                "commitments": [
                    {"period": "week", "basis": "sell_in", "measure": "units", "minimum": 1}
                ]
            },
            "period",
        ),
        (
            {
                "commitments": [
                    {"period": "month", "basis": "sell_in", "measure": "units", "minimum": 0}
                ]
            },
            "greater than 0",
        ),
        ({"currency": "usd"}, "pattern"),
        ({"agreement_id": "AG|1"}, "pattern"),
    ],
)
def test_bad_agreements_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DistributorAgreementSigned.model_validate(signed_json(**changes))


def test_an_amendment_changes_something() -> None:
    with pytest.raises(ValidationError, match="at least one section"):
        amended("M1", date(2026, 5, 1))
    made = amended("M1", date(2026, 5, 1), inventory={"max_age_days": 60})
    assert set(made.changes()) == {"inventory"}
    assert DistributorAgreementAmended.model_validate_json(made.model_dump_json()) == made


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rate": 1.08}, "not a float"),
        ({"rate": "0"}, "above zero"),
        ({"rate": "-1.2"}, "above zero"),
        ({"rate": "1.12345678901"}, "more than 10 decimal places"),
        ({"to_currency": "EUR"}, "two different currencies"),
    ],
)
def test_bad_rates_are_refused(changes: dict[str, Any], message: str) -> None:
    data = json.loads(rate("EUR", "USD", "1.0842", date(2026, 5, 4)).model_dump_json())
    with pytest.raises(ValidationError, match=message):
        ExchangeRatePublished.model_validate({**data, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"returns": []}, "at least 1"),
        ({"returns": [{"sku": "X", "quantity": 0}]}, "greater than 0"),
        ({"returns": [{"sku": "X", "quantity": "3"}]}, "valid integer"),
        ({"returns": [{"sku": "X", "quantity": 2}, {"sku": "X", "quantity": 3}]}, "appears twice"),
        ({"orders": [{"sku": "Y", "quantity": 1}, {"sku": "Y", "quantity": 1}]}, "appears twice"),
    ],
)
def test_bad_rotation_requests_are_refused(changes: dict[str, Any], message: str) -> None:
    data = json.loads(rotation("R1", {"X": 5}).model_dump_json())
    with pytest.raises(ValidationError, match=message):
        StockRotationRequested.model_validate({**data, **changes})


@pytest.mark.parametrize(
    ("model", "changes"),
    [
        (ExchangeRatePublished, {"rate": 1.08}),
        (ExchangeRatePublished, {"rate": "1e-3"}),
        (
            DistributorAgreementSigned,
            {"discounts": [{"group_id": "G-NET", "discount": "0.1234567"}]},
        ),
        (
            DistributorAgreementSigned,
            {"inventory": {"stocking_targets": [{"sku": "X", "max_weeks_of_supply": 6.5}]}},
        ),
    ],
)
def test_the_schema_file_and_the_model_refuse_alike(model: Any, changes: dict[str, Any]) -> None:
    """What a producer in another language learns from the schema file, the model holds."""
    sample = next(event for event in samples() if isinstance(event, model))
    data = {**json.loads(sample.model_dump_json()), **changes}
    schema = json.loads((SCHEMA_DIR / f"{model.__name__}.v1.json").read_text())
    assert not Draft202012Validator(schema).is_valid(data)
    with pytest.raises(ValidationError):
        model.model_validate(data)
