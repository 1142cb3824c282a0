"""Who may do what (docs/DESIGN.md "Interfaces")."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    DISTRIBUTOR = "distributor"  # its own data only; may submit
    CHANNEL_MANAGER = "channel_manager"  # reads all
    AUDITOR = "auditor"  # reads all, and the audit trail
    ADMIN = "admin"  # prices, programs, period close, violation resolution
    MONITOR = "monitor"  # /metrics only (Prometheus)
