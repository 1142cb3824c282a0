"""HTTP ingest over the embedded runner, for the tests: the app on a test server with its
published messages recorded, the tokens, a catalog, and bodies to send."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer

from domain.roles import Role
from schemas.codec import decode_event
from schemas.events import ProductDefined
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.auth import TokenRegistry, token_hash
from streams.kafka.messages import Message
from streams.runners.embedded import EmbeddedChannel
from tests.unit.parsers.conftest import SAMPLES

TOKENS = {
    "d1": (Role.DISTRIBUTOR, "DIST-001"),
    "d2": (Role.DISTRIBUTOR, "DIST-002"),
    "admin": (Role.ADMIN, None),
    "cm": (Role.CHANNEL_MANAGER, None),
    "auditor": (Role.AUDITOR, None),
}
AT = datetime(2026, 4, 7, 10, tzinfo=UTC)


def catalog() -> list[ProductDefined]:
    def product(sku: str, **fields: Any) -> ProductDefined:
        return ProductDefined.model_validate(
            {
                "event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"product:{sku}"),
                "occurred_at": datetime(2026, 1, 1, tzinfo=UTC),
                "source": "erp",
                "sku": sku,
                "base_unit": "EA",
                **fields,
            }
        )

    return [
        product(
            "WIDGET-100",
            unit_conversions={"CA": 12},
            identifiers={"upc": "012345678905", "vendor_part": "WID-100-BLU"},
        ),
        product("GADGET-200", unit_conversions={"CA": 6}),
    ]


class Api:
    """The app over an embedded channel on a test server, called synchronously; every
    message it publishes is recorded (in order) before the channel applies it."""

    def __init__(self, tokens: TokenRegistry | None = None) -> None:
        self.channel = EmbeddedChannel()
        self.channel.feed_events(catalog())
        self.published: list[Message] = []
        #: raised by the publisher instead of publishing (a broker that cannot be reached)
        self.broker_error: Exception | None = None
        registry = tokens or TokenRegistry(
            [
                {"sha256": token_hash(token), "role": role.value, "actor": token}
                | ({"distributor_id": distributor} if distributor else {})
                for token, (role, distributor) in TOKENS.items()
            ]
        )

        async def submit(messages: Sequence[Message]) -> None:
            if self.broker_error is not None:
                raise self.broker_error
            self.published.extend(messages)
            await self.channel.submit(messages)

        context = dataclasses.replace(
            ApiContext.of_channel(self.channel, registry, "test"), submit=submit
        )
        self.loop = asyncio.new_event_loop()
        self.client = TestClient(TestServer(make_web_app(context)), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())

    def post(
        self,
        path: str,
        body: Any,
        token: str | None = "d1",
        headers: dict[str, str] | None = None,
        **params: str,
    ) -> tuple[int, Any]:
        async def go() -> tuple[int, Any]:
            sent = {"Authorization": f"Bearer {token}"} if token else {}
            sent.update(headers or {})
            data = body if isinstance(body, bytes | FormData) else orjson.dumps(body)
            response = await self.client.post(path, data=data, params=params, headers=sent)
            assert response.content_type == "application/json", await response.text()
            return response.status, await response.json()

        return self.loop.run_until_complete(go())

    def raw(
        self, path: str, body: bytes, headers: dict[str, str] | None = None, **params: str
    ) -> tuple[int, str, bytes]:
        """POST as distributor d1: (status, content type, body as sent back)."""

        async def go() -> tuple[int, str, bytes]:
            sent = {"Authorization": "Bearer d1", **(headers or {})}
            response = await self.client.post(path, data=body, params=params, headers=sent)
            return response.status, response.content_type, await response.read()

        return self.loop.run_until_complete(go())

    def ok(self, path: str, body: Any, token: str = "d1", **params: str) -> Any:
        status, answer = self.post(path, body, token, None, **params)
        assert status == 200, answer
        return answer

    def get(self, path: str) -> Any:
        async def go() -> Any:
            response = await self.client.get(path, headers={"Authorization": "Bearer admin"})
            return await (
                response.json() if response.content_type.endswith("json") else response.text()
            )

        return self.loop.run_until_complete(go())

    def events(self, event_type: str | None = None) -> list[Any]:
        found = [decode_event(m.value) for m in self.published]
        return [e for e in found if event_type is None or e.event_type == event_type]

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


def sale(transaction: str, distributor: str = "DIST-001", **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "event_type": "SaleReported",
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{distributor}:{transaction}")),
        "occurred_at": "2026-04-07T10:00:00Z",
        "source": "kafka",
        "distributor_id": distributor,
        "transaction_id": transaction,
        "reseller_id": "RES-1",
        "sku": "WIDGET-100",
        "quantity": 3,
        "unit_price": "12.50",
        "currency": "USD",
        "sold_at": "2026-04-07T10:00:00Z",
    }
    values.update(fields)
    return values


def csv_text(*lines: str, distributor: str = "DIST-001") -> bytes:
    header = "distributor_id,transaction_id,reseller_id,sku,quantity,unit_price,currency,sold_at"
    rows = [f"{distributor},{line}" for line in lines]
    return ("\n".join([header, *rows]) + "\n").encode()


def row(answer: dict[str, Any], line: int) -> dict[str, Any]:
    return next(found for found in answer["lines"] if found["line"] == line)


def inventory(api: Api, distributor: str, sku: str) -> dict[str, Any]:
    rows = api.channel.snapshot()["inventory"]
    return next(r for r in rows if (r["distributor_id"], r["sku"]) == (distributor, sku))


def quality(api: Api, distributor: str) -> dict[str, Any]:
    return next(r for r in api.channel.snapshot()["quality"] if r["distributor_id"] == distributor)


WEEKLY = (SAMPLES / "867_weekly.edi").read_bytes()
