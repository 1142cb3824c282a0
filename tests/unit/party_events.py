"""Registrations, alias changes and targets for the identity and scorecard tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from schemas.parties import (
    EndCustomerAliasMapped,
    EndCustomerAliasUnmapped,
    EndCustomerRegistered,
    ResellerAliasMapped,
    ResellerAliasUnmapped,
    ResellerRegistered,
)
from schemas.scorecard import DistributorTargetsSet

AT = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def uid(n: int) -> UUID:
    return UUID(int=n, version=4)


def _envelope(n: int, at: datetime = AT) -> dict[str, Any]:
    return {"event_id": uid(n), "occurred_at": at, "source": "erp"}


def registered(master_id: str, name: str, n: int = 1, **changes: Any) -> ResellerRegistered:
    return ResellerRegistered(**_registration(master_id, name, n, changes))


def customer_registered(
    master_id: str, name: str, n: int = 1, **changes: Any
) -> EndCustomerRegistered:
    return EndCustomerRegistered(**_registration(master_id, name, n, changes))


def _registration(master_id: str, name: str, n: int, changes: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        **_envelope(n),
        "master_id": master_id,
        "legal_name": name,
        "country": "US",
        "postal_code": "94105",
        "registered_at": AT,
    }
    return {**fields, **changes}


def mapped(
    distributor_id: str, alias_id: str | None, master_id: str, n: int = 100, **changes: Any
) -> ResellerAliasMapped:
    return ResellerAliasMapped(**_mapping(distributor_id, alias_id, master_id, n, changes))


def customer_mapped(
    distributor_id: str, alias_id: str | None, master_id: str, n: int = 100, **changes: Any
) -> EndCustomerAliasMapped:
    return EndCustomerAliasMapped(**_mapping(distributor_id, alias_id, master_id, n, changes))


def _mapping(
    distributor_id: str, alias_id: str | None, master_id: str, n: int, changes: dict[str, Any]
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        **_envelope(n),
        "distributor_id": distributor_id,
        "alias_id": alias_id,
        "master_id": master_id,
        "changed_by": "ops-ana",
        "reason": "same tax id on the onboarding form",
        "changed_at": AT,
    }
    return {**fields, **changes}


def unmapped(
    distributor_id: str, alias_id: str | None, master_id: str, n: int = 200, **changes: Any
) -> ResellerAliasUnmapped:
    return ResellerAliasUnmapped(**_unmapping(distributor_id, alias_id, master_id, n, changes))


def customer_unmapped(
    distributor_id: str, alias_id: str | None, master_id: str, n: int = 200, **changes: Any
) -> EndCustomerAliasUnmapped:
    fields = _unmapping(distributor_id, alias_id, master_id, n, changes)
    return EndCustomerAliasUnmapped(**fields)


def _unmapping(
    distributor_id: str, alias_id: str | None, master_id: str, n: int, changes: dict[str, Any]
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        **_envelope(n),
        "distributor_id": distributor_id,
        "alias_id": alias_id,
        "master_id": master_id,
        "changed_by": "ops-ana",
        "reason": "two shops of one owner, not one reseller",
        "changed_at": AT,
    }
    return {**fields, **changes}


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
