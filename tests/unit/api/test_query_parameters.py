"""The API refuses a query parameter its OpenAPI document does not list for the route, and
takes every one it lists: both walked over the whole document, so the check and the
document cannot drift apart (streams/api/query_choices.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.api.openapi_paths import PATHS
from streams.auth import TokenRegistry
from streams.generator import generate_channel
from streams.runners.embedded import EmbeddedChannel

Schema = dict[str, Any]
Answer = tuple[int, Any]

#: a value each kind of parameter takes (an `enum`'s first value otherwise)
BY_NAME = {"as_of": "2026-07-01", "share": "0.10", "n": "5", "limit": "10", "offset": "0",
           "from_currency": "USD", "to_currency": "EUR"}  # fmt: skip
#: a period of each form, the first of its parameter's form taken: a week first (the default
#: granularity of sell-through); a path's period (no form given) is a month
PERIODS, PATH_PERIOD = ("2026-W28", "2026-07", "2026-Q3"), "2026-07"


@pytest.fixture(scope="module")
def channel() -> EmbeddedChannel:
    channel = EmbeddedChannel()
    channel.feed_events(generate_channel(seed=9, weeks=3))
    return channel


def exchange(
    channel: EmbeddedChannel, requests: list[tuple[str, str, dict[str, str]]]
) -> list[Answer]:
    """Each (method, path, query) asked of one server, in turn: (status, JSON body or None)."""

    async def go() -> list[Answer]:
        context = ApiContext.of_channel(channel, TokenRegistry([]), "test")
        client = TestClient(TestServer(make_web_app(context)))
        await client.start_server()
        answers: list[Answer] = []
        try:
            for method, path, query in requests:
                response = await client.request(method, path, params=query)
                json = "json" in response.content_type
                answers.append((response.status, await response.json() if json else None))
        finally:
            await client.close()
        return answers

    return asyncio.run(go())


def example(parameter: Schema) -> str:
    schema = parameter["schema"]
    if "enum" in schema:
        return str(schema["enum"][0])
    if parameter["name"] == "period":
        if "pattern" not in schema:
            return PATH_PERIOD
        return next(p for p in PERIODS if re.fullmatch(schema["pattern"], p))
    return BY_NAME.get(parameter["name"], "D01")


def operations() -> Iterator[tuple[str, str, Schema]]:
    """(method, path with its path parameters filled in, operation) of the API's routes."""
    for route, methods in PATHS.items():
        for method, operation in methods.items():
            if "dashboard" in operation["tags"]:
                continue  # the page and its assets: a browser's address, not checked
            filled = route
            for parameter in operation["parameters"]:
                if parameter["in"] == "path":
                    filled = filled.replace(f"{{{parameter['name']}}}", example(parameter))
            yield method.upper(), filled, operation


def required(operation: Schema) -> dict[str, str]:
    return {
        p["name"]: example(p)
        for p in operation["parameters"]
        if p["in"] == "query" and p["required"]
    }


def refused_as_unknown(answer: Answer) -> bool:
    status, body = answer
    return status == 400 and "unknown" in (body or {}).get("error", {})


def test_every_documented_query_parameter_of_a_read_is_taken(channel):
    asked = [
        (method, path, {**required(operation), parameter["name"]: example(parameter)})
        for method, path, operation in operations()
        if method == "GET"
        for parameter in operation["parameters"]
        if parameter["in"] == "query"
    ]
    assert len(asked) > 150
    answers = exchange(channel, asked)
    for (method, path, query), answer in zip(asked, answers, strict=True):
        assert not refused_as_unknown(answer), (method, path, query, answer)
        assert answer[0] != 400, (method, path, query, answer)  # the values taken too


def test_every_route_refuses_a_query_parameter_it_does_not_take(channel):
    asked = [
        (method, path, {**required(operation), "distributor": "D02"})
        for method, path, operation in operations()
    ]
    answers = exchange(channel, asked)
    for (method, path, _), (status, body) in zip(asked, answers, strict=True):
        assert status == 400, (method, path, status, body)
        assert body["error"]["unknown"] == ["distributor"], (method, path, body)


def test_every_route_refuses_a_query_parameter_given_empty(channel):
    """?distributor_id= answered the vendor's roles the whole channel, as if not given."""
    asked = [
        (method, path, {**required(operation), parameter["name"]: ""})
        for method, path, operation in operations()
        for parameter in operation["parameters"]
        if parameter["in"] == "query"
    ]
    assert len(asked) > 150
    answers = exchange(channel, asked)
    for (method, path, query), (status, body) in zip(asked, answers, strict=True):
        name = next(name for name, value in query.items() if not value)
        said = f"{name} given empty: give a value, or leave it out"
        assert (status, body["error"]["message"]) == (400, said), (method, path, body)


def test_the_refusal_names_the_unknown_and_the_parameters_taken(channel):
    [(status, body)] = exchange(
        channel, [("GET", "/api/inventory", {"distributor": "D02", "skus": "S", "sku": "S"})]
    )
    assert status == 400
    assert body["error"] == {
        "status": 400,
        "code": "bad_request",
        "message": "unknown query parameters distributor, skus: GET /api/inventory takes "
        "distributor_id, sku, as_of, limit, offset",
        "unknown": ["distributor", "skus"],
        "parameters": ["distributor_id", "sku", "as_of", "limit", "offset"],
    }
    [(status, body)] = exchange(channel, [("GET", "/health", {"verbose": "1"})])
    assert (status, body["error"]["message"]) == (
        400,
        "unknown query parameter verbose: GET /health takes no query parameters",
    )


def test_a_bad_as_of_is_named_as_the_api_spells_it(channel):
    """It was named `as-of`, the CLI's flag, which the API does not take."""
    [(status, body)] = exchange(channel, [("GET", "/api/inventory", {"as_of": "yesterday"})])
    assert (status, body["error"]["message"]) == (
        400,
        "as_of 'yesterday' is neither a date (2026-09-30) nor a datetime with timezone",
    )


def test_every_query_parameter_with_a_form_refuses_a_value_not_of_it(channel):
    """?period=2026-Q5 matched no row and answered an empty 200, as if there were none."""
    asked = [
        (method, path, {**required(operation), parameter["name"]: wrong})
        for method, path, operation in operations()
        if method == "GET"
        for parameter in operation["parameters"]
        if parameter["in"] == "query" and "pattern" in parameter["schema"]
        for wrong in ("2026-Q5", "Q3-2026", "2026-07\n")
    ]
    assert len(asked) >= 3 * 8  # the periods of sell-through, rebates, commitments, ...
    answers = exchange(channel, asked)
    for (method, path, query), (status, body) in zip(asked, answers, strict=True):
        assert status == 400, (method, path, query, status, body)
        assert "is not of its form" in body["error"]["message"], (method, path, body)


def test_a_period_of_another_kind_than_the_rows_is_refused(channel):
    week, month = {"period": "2026-W28"}, {"period": "2026-07"}
    monthly = {"granularity": "month"}
    answers = exchange(channel, [("GET", "/api/sell-through", week),
                                 ("GET", "/api/rebates", week),
                                 ("GET", "/api/rebates", month),
                                 ("GET", "/api/sell-through", {**week, **monthly}),
                                 ("GET", "/api/sell-through", {**month, **monthly})])  # fmt: skip
    assert [status for status, _ in answers] == [200, 400, 400, 400, 200]
    assert answers[3][1]["error"]["message"] == (
        "period '2026-W28' is a week: ask for it with granularity=week (the rows are of "
        "granularity=month)"
    )
    assert answers[1][1]["error"]["message"] == (
        "period '2026-W28' is not of its form (only this period: a quarter \"2026-Q3\" or a "
        'year "2026")'
    )


def test_a_currency_filter_not_of_iso_4217_is_refused(channel):
    """?from_currency=usd matched no rate and answered an empty 200, as if there were none."""
    rates = "/api/exchange-rates"
    answers = exchange(channel, [("GET", rates, {"from_currency": "usd"}),
                                 ("GET", rates, {"to_currency": "EURO"}),
                                 ("GET", rates, {"from_currency": "USD"})])  # fmt: skip
    assert [status for status, _ in answers] == [400, 400, 200]
    assert answers[0][1]["error"]["message"] == (
        "from_currency 'usd' is not of its form (only from this currency: an ISO 4217 code "
        "in capitals, like USD or EUR)"
    )


def test_the_dashboard_page_takes_any_address(channel):
    answers = exchange(channel, [("GET", "/dashboard", {"utm_source": "mail"})])
    assert answers[0][0] == 200
