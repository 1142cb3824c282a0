"""Agreements, rates, movements and rotation requests for the agreement tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from projections.exchange_rates import RateMonth, apply_rate, rate_key
from schemas.agreements import (
    DistributorAgreementAmended,
    DistributorAgreementSigned,
    DistributorAgreementTerminated,
    ExchangeRatePublished,
    RotationLine,
    StockRotationRequested,
)

SIGNED = datetime(2025, 12, 15, 9, 0, tzinfo=UTC)


def uid(n: int) -> UUID:
    return UUID(int=n, version=4)


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def signed(agreement_id: str = "AG-1", n: int = 1, **changes: Any) -> DistributorAgreementSigned:
    fields: dict[str, Any] = {
        "event_id": uid(100 + n),
        "occurred_at": SIGNED,
        "source": "erp",
        "agreement_id": agreement_id,
        "distributor_id": "D1",
        "signed_at": SIGNED,
        "term_start": date(2026, 1, 1),
        "term_end": date(2026, 12, 31),
        "currency": "USD",
        "program_ids": ["VPA-1"],
        "price_lists": ["LIST-2026"],
        "product_groups": [{"group_id": "G-NET", "skus": ["X", "Y"]}],
        "discounts": [{"group_id": "G-NET", "discount": "0.05"}],
        "commitments": [
            {"period": "quarter", "basis": "sell_in", "measure": "units", "minimum": 1000}
        ],
        "inventory": {
            "stocking_targets": [{"sku": "X", "max_weeks_of_supply": "6"}],
            "max_age_days": 90,
            "rotation_allowance": "0.10",
        },
        "reporting": {"frequency": "weekly", "due_day": 3},
    }
    fields.update(changes)
    return DistributorAgreementSigned(**fields)


def amended(
    amendment_id: str, effective_from: date, n: int = 1, agreement_id: str = "AG-1", **changes: Any
) -> DistributorAgreementAmended:
    return DistributorAgreementAmended(
        event_id=uid(200 + n),
        occurred_at=at(effective_from),
        source="erp",
        agreement_id=agreement_id,
        distributor_id="D1",
        amendment_id=amendment_id,
        amended_at=at(effective_from),
        effective_from=effective_from,
        **changes,
    )


def terminated(
    last_day: date, n: int = 1, agreement_id: str = "AG-1"
) -> DistributorAgreementTerminated:
    return DistributorAgreementTerminated(
        event_id=uid(300 + n),
        occurred_at=at(last_day),
        source="erp",
        agreement_id=agreement_id,
        distributor_id="D1",
        terminated_at=at(last_day),
        last_day=last_day,
        reason="distributor exits the territory",
    )


def rate(
    from_currency: str, to_currency: str, value: str, effective: date, n: int = 1, **changes: Any
) -> ExchangeRatePublished:
    fields: dict[str, Any] = {
        "event_id": uid(400 + n),
        "occurred_at": at(effective, 16),
        "source": "erp",
        "from_currency": from_currency,
        "to_currency": to_currency,
        "rate": value,
        "effective_date": effective,
        "rate_source": "ECB",
        "published_at": at(effective, 16),
    }
    fields.update(changes)
    return ExchangeRatePublished(**fields)


def rotation(
    request_id: str,
    returns: dict[str, int],
    orders: dict[str, int] | None = None,
    day: date = date(2026, 5, 20),
    n: int = 1,
) -> StockRotationRequested:
    return StockRotationRequested(
        event_id=uid(500 + n),
        occurred_at=at(day),
        source="api",
        request_id=request_id,
        distributor_id="D1",
        requested_at=at(day),
        returns=[RotationLine(sku=sku, quantity=units) for sku, units in returns.items()],
        orders=[RotationLine(sku=sku, quantity=units) for sku, units in (orders or {}).items()],
    )


D = Decimal


def book(*events: ExchangeRatePublished) -> dict[str, RateMonth]:
    months: dict[str, RateMonth] = {}
    for event in events:
        key = rate_key(event.from_currency, event.to_currency, event.effective_date)
        recorded = event.recorded_at or event.published_at
        months[key] = apply_rate(months.get(key), event, recorded, None)
    return months
