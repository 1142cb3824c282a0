"""Registrations, alias changes and targets for the identity and scorecard tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from schemas.parties import ResellerAliasMapped, ResellerAliasUnmapped, ResellerRegistered
from schemas.scorecard import DistributorTargetsSet

AT = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def uid(n: int) -> UUID:
    return UUID(int=n, version=4)


def _envelope(n: int, at: datetime = AT) -> dict[str, Any]:
    return {"event_id": uid(n), "occurred_at": at, "source": "erp"}


def registered(master_id: str, name: str, n: int = 1, **changes: Any) -> ResellerRegistered:
    fields: dict[str, Any] = {
        **_envelope(n),
        "master_id": master_id,
        "legal_name": name,
        "country": "US",
        "postal_code": "94105",
        "registered_at": AT,
    }
    fields.update(changes)
    return ResellerRegistered(**fields)


def mapped(
    distributor_id: str, alias_id: str | None, master_id: str, n: int = 100, **changes: Any
) -> ResellerAliasMapped:
    fields: dict[str, Any] = {
        **_envelope(n),
        "distributor_id": distributor_id,
        "alias_id": alias_id,
        "master_id": master_id,
        "changed_by": "ops-ana",
        "reason": "same tax id on the onboarding form",
        "changed_at": AT,
    }
    fields.update(changes)
    return ResellerAliasMapped(**fields)


def unmapped(
    distributor_id: str, alias_id: str | None, master_id: str, n: int = 200, **changes: Any
) -> ResellerAliasUnmapped:
    fields: dict[str, Any] = {
        **_envelope(n),
        "distributor_id": distributor_id,
        "alias_id": alias_id,
        "master_id": master_id,
        "changed_by": "ops-ana",
        "reason": "two shops of one owner, not one reseller",
        "changed_at": AT,
    }
    fields.update(changes)
    return ResellerAliasUnmapped(**fields)


def targets(distributor_id: str, period: str, n: int = 300, **given: Any) -> DistributorTargetsSet:
    fields: dict[str, Any] = {
        **_envelope(n),
        "distributor_id": distributor_id,
        "period": period,
        "set_by": "cm-lee",
        "set_at": AT,
    }
    fields.update(given)
    return DistributorTargetsSet(**fields)
