"""`channelflow violation`: show a pricing violation, or move it along (acknowledge,
dispute, resolve) in the event store."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from domain.roles import Role
from streams.cli.support import Subcommands, UserError, amount, identifier, print_json, settings_of


def register(sub: Subcommands) -> None:
    violation = sub.add_parser("violation", help="show or move a pricing violation along")
    violation.add_argument("action", choices=["show", "acknowledge", "dispute", "resolve"])
    violation.add_argument("violation_id")
    violation.add_argument("--actor", default="cli", help="who takes the step")
    violation.add_argument("--role", default="admin", choices=[r.value for r in Role])
    violation.add_argument(
        "--distributor", type=identifier, help="the actor's distributor (role distributor)"
    )
    violation.add_argument("--reason", default="", help="why (required for a step)")
    violation.add_argument("--resolution", choices=["waived", "credited", "penalized"])
    violation.add_argument(
        "--amount", type=amount, help="money involved in the resolution, e.g. 125.00"
    )
    violation.add_argument("--eventstore", help="event store URL (CHANNELFLOW_EVENTSTORE_URL)")
    violation.set_defaults(func=cmd_violation)


def cmd_violation(args: argparse.Namespace) -> int:
    from uuid import UUID

    from eventsourcing.application import AggregateNotFoundError

    from domain.violation_lifecycle import IllegalTransition, NotAllowed
    from infra.eventstore import open_audit_log
    from streams.api.documents import violation_document

    try:
        violation_id = UUID(args.violation_id)
    except ValueError:
        raise UserError(f"{args.violation_id!r} is not a violation id (a UUID)") from None
    audit = open_audit_log(settings_of(args).eventstore_url)
    try:
        if args.action == "show":
            found = audit.violation(violation_id)
        else:
            step: dict[str, object] = {
                "actor_id": args.actor,
                "role": args.role,
                "actor_distributor_id": args.distributor,
                "at": datetime.now(UTC),
                "reason": args.reason,
            }
            if args.action == "resolve":
                step["resolution"] = args.resolution
                step["amount"] = None if args.amount is None else Decimal(args.amount)
            found = audit.violation_step(violation_id, args.action, **step)
    except AggregateNotFoundError:
        raise UserError(f"no violation {violation_id} in the event store") from None
    except (IllegalTransition, NotAllowed, ValueError, InvalidOperation) as exc:
        raise UserError(str(exc)) from None
    print_json(violation_document(found))
    return 0
