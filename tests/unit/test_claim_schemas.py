"""Ship-and-debit wire contracts: JSON round trips and the bad input each one refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.claims import CLAIM_EVENT_TYPES, DebitClaimSubmitted, SpecialPriceAuthorized
from schemas.jsonschema import SCHEMA_DIR
from tests.unit.claim_events import authorization, claim, line


def claim_json(**line_changes: Any) -> dict[str, Any]:
    data = json.loads(claim("C1", line(1, "T1", 60)).model_dump_json())
    data["lines"][0].update(line_changes)
    return data


def test_round_trips_through_json() -> None:
    made = claim("C1", line(1, "T1", 60), line(2, "T2", 5))
    assert DebitClaimSubmitted.model_validate_json(made.model_dump_json()) == made
    granted = authorization()
    assert SpecialPriceAuthorized.model_validate_json(granted.model_dump_json()) == granted


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount_claimed": "0"}, "not a positive amount"),
        ({"amount_claimed": "-5.00"}, "not a positive amount"),
        ({"amount_claimed": 1.5}, "not a float"),
        ({"quantity": 0}, "greater than 0"),
        ({"quantity": "3"}, "valid integer"),
        ({"cost_paid": "-1"}, "negative"),
        ({"transaction_id": "T|1"}, "pattern"),
        ({"currency": "usd"}, "pattern"),
    ],
)
def test_bad_lines_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DebitClaimSubmitted.model_validate(claim_json(**changes))


def test_line_numbers_are_unique_and_a_claim_has_lines() -> None:
    data = claim_json()
    data["lines"].append(dict(data["lines"][0]))
    with pytest.raises(ValidationError, match="line_no 1 appears twice"):
        DebitClaimSubmitted.model_validate(data)
    with pytest.raises(ValidationError, match="at least 1"):
        DebitClaimSubmitted.model_validate({**claim_json(), "lines": []})


def test_every_claim_event_has_its_schema_file() -> None:
    for model in CLAIM_EVENT_TYPES:
        assert (SCHEMA_DIR / f"{model.__name__}.v1.json").is_file()
