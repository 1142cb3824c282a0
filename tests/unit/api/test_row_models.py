"""Every row answered is its model (schemas/rows/): the fields a row carries are the
model's, no more and none missing, and its values are what the OpenAPI document says.

Read per list route from the document (the model its page's rows refer to) on the
channel of tests/api_channel.py, and per section of the snapshot."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from schemas.rows import ROW_MODELS, SNAPSHOT_SECTIONS
from schemas.rows.base import RowModel
from schemas.rows.pricing import UnpricedRow
from streams.api.openapi import document
from tests.api_channel import WHOLE, list_routes, populated_channel
from tests.unit.api.test_web_contract import Api

COMPONENTS = "#/components/schemas/"


def field_problems(model: type[BaseModel], row: Mapping[str, Any]) -> list[str]:
    """The fields a row carries that its model lacks, and those it misses that the model
    requires (a field with a default may be absent: SellThroughRow's channel totals)."""
    fields = model.model_fields
    required = {name for name, info in fields.items() if info.is_required()}
    extra = sorted(set(row) - set(fields))
    missing = sorted(required - set(row))
    return [f"{model.__name__} lacks {name}" for name in extra] + [
        f"the row misses {model.__name__}.{name}" for name in missing
    ]


def value_problems(component: str, row: Mapping[str, Any]) -> list[str]:
    """Where the row's values disagree with the document's schema of `component`."""
    return [error.message for error in validator(component).iter_errors(row)]


@functools.cache
def validator(component: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": COMPONENTS + component, "components": document()["components"]}
    )


def row_component(path: str) -> str:
    """The component a list route's page rows refer to."""
    answer = document()["paths"][path]["get"]["responses"]["200"]
    page = answer["content"]["application/json"]["schema"]["allOf"][1]
    return str(page["properties"]["rows"]["items"]["$ref"]).removeprefix(COMPONENTS)


def models_of(component: str) -> type[RowModel]:
    """The row model a component schema is derived from."""
    return next(model for model in ROW_MODELS if model.__name__ == component)


def test_a_row_with_a_field_its_model_lacks_or_without_one_it_has_is_caught():
    row = {
        "distributor_id": "D01", "transaction_id": "T-1", "reseller_id": "R-1", "sku": "S",
        "sold_at": "2026-07-06T14:00:00Z", "quantity": 2, "unit_price": "9.99",
    }  # fmt: skip
    assert field_problems(UnpricedRow, row) == []
    assert value_problems("UnpricedRow", row) == []
    assert field_problems(UnpricedRow, {**row, "currency": "USD"}) == ["UnpricedRow lacks currency"]
    without = {k: v for k, v in row.items() if k != "quantity"}
    assert field_problems(UnpricedRow, without) == ["the row misses UnpricedRow.quantity"]
    assert value_problems("UnpricedRow", {**row, "unit_price": 9.99})  # money is a string
    assert value_problems("UnpricedRow", {**row, "sold_at": None})


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    client = Api(populated_channel())
    yield client
    client.close()


@pytest.mark.parametrize("path", list_routes())
def test_every_row_a_list_route_answers_is_its_model(api, path):
    component = row_component(path)
    model = models_of(component)
    answers = [api.ok(path, limit=10000, **WHOLE.get(path, {}))]
    if path == "/api/sell-through":
        answers.append(api.ok(path, limit=10000, scope="channel"))
    rows = [row for answer in answers for row in answer["rows"]]
    assert rows, f"{path}: the fixture gives no rows"
    for row in rows:
        assert field_problems(model, row) == [], (path, row)
        assert value_problems(component, row) == [], (path, row)


def test_the_inventory_summary_channel_totals_are_their_model(api):
    channel = api.ok("/api/inventory/summary")["channel"]
    assert field_problems(models_of("ChannelInventory"), channel) == []
    assert value_problems("ChannelInventory", channel) == []


def test_every_snapshot_row_is_its_sections_model(api):
    snapshot = api.ok("/api/snapshot")
    assert list(snapshot) == list(SNAPSHOT_SECTIONS)
    assert value_problems("Snapshot", snapshot) == []
    for section, model in SNAPSHOT_SECTIONS.items():
        assert snapshot[section], f"the fixture has no {section} rows"
        for row in snapshot[section]:
            assert set(row) == set(model.model_fields), (section, row)
