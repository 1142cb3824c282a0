"""Who may do what: one table of role × action, and the distributor-scope rule.

Every door asks this module: the ingest gateway and the ingest routes (submitting, and
which event types), the API's reads (`streams/auth.py`, `Principal.may_read`) and its
admin steps, the audit routes, and the violation lifecycle (`domain/violation.py`).

- `ALLOWED` is the table (role × permission): what each role may do at all.
- The scope rule: a role in `SCOPED_ROLES` (the distributor) acts only on its own
  distributor's data: it reads, submits and answers violations for that distributor
  alone, never channel-wide. The other roles act for the whole channel.
- `SUBMITTABLE_EVENTS`: the event types a role that may submit may send (`LineRejected`
  is the gateway's own and nobody's to send).

Pure: no I/O, so the HTTP and CLI layers can ask before they load anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from domain.roles import Role
from schemas.events import EVENT_TYPES


class Permission(StrEnum):
    """An action a role may be allowed to take."""

    READ_CHANNEL = "read_channel"  # every distributor's rows, and channel-wide totals
    READ_AUDIT = "read_audit"  # the audit trail (history, lineage, verification, export)
    SUBMIT = "submit"  # send events through the gateway (which types: SUBMITTABLE_EVENTS)
    ACKNOWLEDGE_VIOLATION = "acknowledge_violation"
    DISPUTE_VIOLATION = "dispute_violation"
    RESOLVE_VIOLATION = "resolve_violation"
    ADMINISTER = "administer"  # close periods, approve and pay rebate statements
    #: confirm or reject the match queue's proposals (a reseller id to a master)
    MATCH_RESELLERS = "match_resellers"
    #: the Prometheus text of /metrics (channel-wide figures: accrued rebates, violations)
    READ_METRICS = "read_metrics"


#: role × action -> allowed (an action missing from a role's set is refused: 403)
ALLOWED: Final[Mapping[Role, frozenset[Permission]]] = {
    Role.DISTRIBUTOR: frozenset(
        {Permission.SUBMIT, Permission.ACKNOWLEDGE_VIOLATION, Permission.DISPUTE_VIOLATION}
    ),
    Role.CHANNEL_MANAGER: frozenset(
        {Permission.READ_CHANNEL, Permission.MATCH_RESELLERS, Permission.READ_METRICS}
    ),
    Role.AUDITOR: frozenset(
        {Permission.READ_CHANNEL, Permission.READ_AUDIT, Permission.READ_METRICS}
    ),
    Role.ADMIN: frozenset(Permission),
    #: Prometheus's: the metrics and nothing else (no row, no write)
    Role.MONITOR: frozenset({Permission.READ_METRICS}),
}

#: roles that act only on their own distributor's data
SCOPED_ROLES: Final = frozenset({Role.DISTRIBUTOR})

#: event types each submitting role may send
SUBMITTABLE_EVENTS: Final[Mapping[Role, frozenset[str]]] = {
    Role.DISTRIBUTOR: frozenset(
        {
            "SaleReported",
            "InventoryCounted",
            "ResellerOnboarded",
            "ReportSubmitted",
            "StockRotationRequested",
            "DebitClaimSubmitted",
        }
    ),
    Role.ADMIN: frozenset(kind.__name__ for kind in EVENT_TYPES) - {"LineRejected"},
}


def allows(role: Role, permission: Permission) -> bool:
    """Whether `role` may do this at all (a scoped role: on its own data only)."""
    return permission in ALLOWED[role]


def metrics_only(role: Role) -> bool:
    """Whether `role` may read the metrics and nothing else (every other route: 403)."""
    return ALLOWED[role] == {Permission.READ_METRICS}


def is_scoped(role: Role) -> bool:
    """Whether `role` acts for one distributor only (and so must name it)."""
    return role in SCOPED_ROLES


def within_scope(role: Role, own_distributor_id: str | None, distributor_id: str) -> bool:
    """Whether a caller of `role` (of `own_distributor_id`) may act on `distributor_id`'s data."""
    return not is_scoped(role) or distributor_id == own_distributor_id


def may_read(role: Role, own_distributor_id: str | None, distributor_id: str | None) -> bool:
    """Whether the caller may read `distributor_id`'s rows (None: the whole channel's)."""
    if allows(role, Permission.READ_CHANNEL):
        return True
    return distributor_id is not None and is_scoped(role) and distributor_id == own_distributor_id


def submittable_events(role: Role) -> frozenset[str]:
    """The event types `role` may submit (none for a role that may not submit)."""
    if not allows(role, Permission.SUBMIT):
        return frozenset()
    return SUBMITTABLE_EVENTS[role]
