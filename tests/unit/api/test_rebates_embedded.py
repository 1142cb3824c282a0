"""Rebates end to end in the embedded runner: the worked example of docs/DESIGN.md
("Business rules → Rebates"), close, late return."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from aiohttp.test_utils import TestClient, TestServer

from domain.roles import Role
from schemas.agreements import ExchangeRatePublished
from schemas.events import (
    ProductDefined,
    RebatePeriodClosed,
    RebateProgramDefined,
    SaleReported,
    Tier,
)
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.audit.lineage import lineage
from streams.auth import TokenRegistry, token_hash
from streams.runners.embedded import EmbeddedChannel
from tests.unit.agreement_events import amended, signed

Q3 = datetime(2026, 8, 10, 12, tzinfo=UTC)
CLOSED_AT = datetime(2026, 10, 15, tzinfo=UTC)


def program(mode: Literal["retroactive", "incremental"] = "retroactive") -> RebateProgramDefined:
    return RebateProgramDefined(
        event_id=uuid.uuid4(), occurred_at=datetime(2026, 6, 1, tzinfo=UTC), source="erp",
        program_id=f"VPA-{mode}", distributor_ids="all", basis="sell_through", measure="revenue",
        period="quarter", tier_mode=mode, currency="USD",
        tiers=[Tier(threshold=Decimal(t), rate=Decimal(r))
               for t, r in (("0", "0"), ("100000", "0.02"), ("250000", "0.035"))],
    )  # fmt: skip


def sale(
    txn: str, quantity: int, price: str, recorded: datetime, currency: str = "USD"
) -> SaleReported:
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=Q3, recorded_at=recorded, source="api",
        distributor_id="D01", transaction_id=txn, reseller_id="R1", sku="SKU-1",
        quantity=quantity, unit_price=Decimal(price), currency=currency, sold_at=Q3,
    )  # fmt: skip


def channel_with_sales(*modes: Literal["retroactive", "incremental"]) -> EmbeddedChannel:
    channel = EmbeddedChannel(rebate_grace_days=10_000)  # no automatic close here
    product = ProductDefined(
        event_id=uuid.uuid4(), occurred_at=Q3, source="erp", sku="SKU-1", base_unit="EA"
    )
    channel.feed_events([product, *(program(mode) for mode in modes)])
    channel.feed_events(
        [
            sale("T1", 2000, "100.00", Q3),  # 200,000.00
            sale("T2", 625, "100.00", Q3),  # 62,500.00 → 262,500.00
            sale("T3", 50, "100.00", Q3, currency="EUR"),  # another currency, no rate yet
        ]
    )
    return channel


def close(program_id: str) -> RebatePeriodClosed:
    return RebatePeriodClosed(
        event_id=uuid.uuid4(), occurred_at=CLOSED_AT, source="erp", program_id=program_id,
        period="2026-Q3", closed_at=CLOSED_AT, closed_by="finance-carol",
    )  # fmt: skip


def row(channel: EmbeddedChannel, program_id: str) -> dict[str, Any]:
    return next(r for r in channel.snapshot()["rebates"] if r["program_id"] == program_id)


def test_open_period_accrues_and_shows_the_tier_and_gap():
    channel = channel_with_sales("retroactive", "incremental")
    retro, incremental = row(channel, "VPA-retroactive"), row(channel, "VPA-incremental")
    assert (retro["revenue"], retro["tier_rate"], retro["rebate"]) == (
        "262500.00",
        "0.035",
        "9187.50",
    )
    # the EUR line counts as an event; its revenue waits for the day's rate, shown
    assert (retro["status"], retro["next_threshold"], retro["events"]) == ("open", None, 3)
    assert retro["other_currency_lines"] == 1 and retro["rate_event_ids"] == []
    assert retro["unconverted"] == [{"currency": "EUR", "day": "2026-08-10", "amount": "5000.00"}]
    assert incremental["rebate"] == "3437.50"


def test_close_records_the_statement_and_a_late_return_one_adjustment():
    channel = channel_with_sales("retroactive")
    channel.feed_events([close("VPA-retroactive")])
    statement = channel.audit.rebate_statement("VPA-retroactive", "D01", "2026-Q3")
    # the EUR line counts (its revenue had no rate at the close, nor after)
    assert (statement.rebate, statement.event_count) == (Decimal("9187.50"), 3)
    assert row(channel, "VPA-retroactive")["status"] == "closed"

    late_return = sale("T9", -150, "100.00", CLOSED_AT.replace(day=20))
    channel.feed_events([late_return])
    channel.feed_events([late_return])  # redelivered: still one adjustment
    statement = channel.audit.rebate_statement("VPA-retroactive", "D01", "2026-Q3")
    assert [(a.reason, a.amount) for a in statement.adjustments] == [
        ("late_return", Decimal("-4237.50"))
    ]
    assert statement.rebate == Decimal("9187.50")  # never rewritten
    assert statement.total == Decimal("4950.00")
    assert row(channel, "VPA-retroactive")["rebate"] == "4950.00"


def test_close_approve_and_pay_over_http():
    channel = channel_with_sales("retroactive")
    tokens = TokenRegistry(
        [
            {"sha256": token_hash("admin"), "role": Role.ADMIN.value, "actor": "finance-carol"},
            {"sha256": token_hash("cm"), "role": Role.CHANNEL_MANAGER.value, "actor": "cm"},
        ]
    )
    base = "/api/rebates/statements/VPA-retroactive/D01/2026-Q3"

    async def go() -> list[tuple[int, Any]]:
        context = ApiContext.of_channel(channel, tokens, "test")
        client = TestClient(TestServer(make_web_app(context)))
        await client.start_server()
        calls = [
            ("POST", "/api/rebates/VPA-retroactive/2026-Q3/close", "cm", None),
            ("POST", "/api/rebates/VPA-retroactive/2026-Q9/close", "admin", None),
            ("POST", "/api/rebates/VPA-retroactive/2026/close", "admin", None),
            ("POST", "/api/rebates/VPA-retroactive/2026-Q3/close", "admin", None),
            ("GET", base, "cm", None),
            ("POST", f"{base}/pay", "admin", {"reference": "CN-1"}),
            ("POST", f"{base}/approve", "admin", {}),
            ("POST", f"{base}/approve", "admin", {}),
            ("POST", f"{base}/pay", "admin", {"reference": "CN-1"}),
            ("GET", "/api/rebates/watchlist?share=0.5", "cm", None),
        ]
        results = []
        try:
            for method, path, token, body in calls:
                response = await client.request(
                    method, path, headers={"Authorization": f"Bearer {token}"}, json=body
                )
                results.append((response.status, await response.json()))
        finally:
            await client.close()
        return results

    results = asyncio.run(go())
    assert [status for status, _ in results] == [403, 400, 400, 202, 200, 409, 200, 409, 200, 200]
    assert results[1][1]["error"]["message"] == (
        "not a period key: '2026-Q9' (e.g. '2026-Q3' or '2026')"  # not pydantic's text
    )
    # a year of a quarterly program: refused as the worker would (it was 202, dead-lettered)
    assert results[2][1]["error"]["message"] == (
        "period: '2026' is not a quarter of VPA-retroactive"
    )
    assert results[4][1]["rebate"] == "9187.50"
    assert results[8][1]["status"] == "paid" and results[8][1]["payment_reference"] == "CN-1"
    assert results[9][1]["rows"] == []  # closed periods are not on the watchlist


def eur_rate(recorded: datetime) -> ExchangeRatePublished:
    return ExchangeRatePublished(
        event_id=uuid.uuid4(), occurred_at=recorded, recorded_at=recorded, source="erp",
        from_currency="EUR", to_currency="USD", rate=Decimal("1.10"),
        effective_date=Q3.date(), rate_source="ECB", published_at=recorded,
    )  # fmt: skip


def test_the_api_shows_a_line_unconverted_then_converted_once_its_day_has_a_rate():
    channel = channel_with_sales("retroactive")
    tokens = TokenRegistry(
        [{"sha256": token_hash("cm"), "role": Role.CHANNEL_MANAGER.value, "actor": "cm"}]
    )
    rate = eur_rate(Q3)

    async def get() -> dict[str, Any]:
        context = ApiContext.of_channel(channel, tokens, "test")
        client = TestClient(TestServer(make_web_app(context)))
        await client.start_server()
        try:
            response = await client.get(
                "/api/rebates?program_id=VPA-retroactive", headers={"Authorization": "Bearer cm"}
            )
            assert response.status == 200
            return dict((await response.json())["rows"][0])
        finally:
            await client.close()

    before = asyncio.run(get())
    assert (before["revenue"], before["rebate"]) == ("262500.00", "9187.50")
    assert before["unconverted"] == [{"currency": "EUR", "day": "2026-08-10", "amount": "5000.00"}]
    channel.feed_events([rate])
    after = asyncio.run(get())
    # 50 × 100.00 EUR × 1.10 = 5,500.00 USD (exact, unrounded): 268,000 × 3.5 % = 9,380.00
    assert (after["revenue"], after["rebate"], after["events"]) == ("268000.0000", "9380.00", 3)
    assert after["unconverted"] == [] and after["rate_event_ids"] == [str(rate.event_id)]


def test_a_rate_after_the_close_is_one_adjustment_and_a_source_of_the_lineage():
    channel = channel_with_sales("retroactive")
    channel.feed_events([close("VPA-retroactive")])
    key = ("VPA-retroactive", "D01", "2026-Q3")
    statement = channel.audit.rebate_statement(*key)
    assert statement.unconverted == ({"currency": "EUR", "day": "2026-08-10", "amount": "5000.00"},)
    rate = eur_rate(CLOSED_AT.replace(day=20))
    channel.feed_events([rate])
    channel.feed_events([rate])  # redelivered: still one adjustment
    statement = channel.audit.rebate_statement(*key)
    # 5,000.00 EUR × 1.10 = 5,500.00 USD: 268,000.00 × 3.5 % = 9,380.00, 192.50 more
    assert [(a.event_id, a.reason, a.amount) for a in statement.adjustments] == [
        (str(rate.event_id), "rate_arrived", Decimal("192.50"))
    ]
    assert statement.rebate == Decimal("9187.50") and statement.total == Decimal("9380.00")
    assert statement.adjustments[0].rate_event_ids == (str(rate.event_id),)
    document = lineage(channel.audit, channel.stores, "statement", "/".join(key))
    rates = [s["event_id"] for s in document["sources"] if s["role"] == "exchange_rate"]
    assert rates == [str(rate.event_id)] and document["complete"]


def test_a_statement_bound_in_part_holds_and_lists_the_days_its_agreement_bound():
    """D01's agreement binds another program until M1 binds VPA from August 15: of
    200,000.00 sold on August 10 and 150,000.00 on August 20, the statement holds the
    second alone (2 %: 3,000.00), and its lineage lists that line, digests matching."""
    channel = EmbeddedChannel(rebate_grace_days=10_000)
    product = ProductDefined(
        event_id=uuid.uuid4(), occurred_at=Q3, source="erp", sku="SKU-1", base_unit="EA"
    )
    bind = amended("M1", date(2026, 8, 15), program_ids=["VPA-retroactive"])
    agreement = [signed(program_ids=["VPA-OTHER"]), bind]
    channel.feed_events([product, program(), *(e.model_copy(update={"distributor_id": "D01"})
                                               for e in agreement)])  # fmt: skip
    august_20 = Q3.replace(day=20)
    bound = sale("T2", 1500, "100.00", august_20).model_copy(
        update={"sold_at": august_20, "occurred_at": august_20}
    )
    channel.feed_events([sale("T1", 2000, "100.00", Q3), bound, close("VPA-retroactive")])
    key = ("VPA-retroactive", "D01", "2026-Q3")
    statement = channel.audit.rebate_statement(*key)
    assert (statement.rebate, statement.event_count) == (Decimal("3000.00"), 1)
    assert row(channel, "VPA-retroactive")["bound_by"] == ["AG-1/M1"]
    document = lineage(channel.audit, channel.stores, "statement", "/".join(key))
    lines = [s["event_id"] for s in document["sources"] if s["role"] == "contributing"]
    assert lines == [str(bound.event_id)] and document["complete"]


def test_a_line_recorded_between_the_close_and_its_recording_is_in_the_statements_lineage():
    """The close is dated October 15 and recorded October 20: T4, recorded October 17, is in
    the statement (the cutoff is when the close was recorded), so the lineage lists it as
    contributing and the statement's digest is reproduced."""
    channel = channel_with_sales("retroactive")
    channel.feed_events([sale("T4", 10, "100.00", CLOSED_AT.replace(day=17))])
    recorded_late = close("VPA-retroactive").model_copy(
        update={"recorded_at": CLOSED_AT.replace(day=20)}
    )
    channel.feed_events([recorded_late])
    key = ("VPA-retroactive", "D01", "2026-Q3")
    statement = channel.audit.rebate_statement(*key)
    assert (statement.event_count, statement.adjustments) == (4, ())
    document = lineage(channel.audit, channel.stores, "statement", "/".join(key))
    contributing = [s for s in document["sources"] if s["role"] == "contributing"]
    assert len(contributing) == 4
    assert all(check["matches"] for check in document["digests"]) and document["complete"]
