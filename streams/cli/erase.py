"""`channelflow erase end-customer ID`: record the erasure on the audit chain, then delete
the data subject's keys, so that its personal data reads as `erased` everywhere
(docs/PRIVACY.md). With `--master`, the subject is an end customer's master: the key of its
registration and those of its aliases by name at every distributor."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from streams.cli.support import Subcommands, UserError, identifier, print_json, settings_of


def register(sub: Subcommands) -> None:
    erase = sub.add_parser("erase", help="erase a data subject's personal data (crypto-shredding)")
    erase.add_argument("kind", choices=["end-customer"], help="what kind of data subject")
    erase.add_argument(
        "subject", help="the end-customer id (with --by-name: the name; --master: the master id)"
    )
    erase.add_argument(
        "--distributor", type=identifier, help="only this distributor's subject (default: all)"
    )
    named = erase.add_mutually_exclusive_group()
    named.add_argument(
        "--by-name", action="store_true", help="the subject had no id: erase it by its name"
    )
    named.add_argument(
        "--master",
        action="store_true",
        help="an end customer's master: its registration and its aliases by name",
    )
    erase.add_argument("--actor", default="cli", help="who erases (recorded)")
    erase.add_argument("--reason", default="erasure request", help="why (recorded)")
    erase.add_argument("--eventstore", help="event store URL (CHANNELFLOW_EVENTSTORE_URL)")
    erase.set_defaults(func=cmd_erase)


def cmd_erase(args: argparse.Namespace) -> int:
    from domain.erasure import SubjectErasure
    from domain.personal_data import id_ref, master_ref, name_ref
    from infra.eventstore import open_audit_log
    from infra.subject_keys import SubjectKeys

    settings = settings_of(args)
    dsn = settings.subject_keys_dsn()
    if dsn is None:
        raise UserError(
            "no key store: set CHANNELFLOW_SUBJECT_KEYS_URL, or a PostgreSQL event store"
        )
    if not args.subject.strip():
        raise UserError("name the subject to erase")
    if args.master:
        ref = master_ref(args.subject)
    else:
        ref = name_ref(args.subject) if args.by_name else id_ref(args.subject)
    keys = SubjectKeys(dsn)
    try:
        held = keys.held(ref, args.distributor)
        erasure = open_audit_log(settings.eventstore_url).record_erasure(
            SubjectErasure(
                subject=ref,
                distributor_id=args.distributor,
                at=datetime.now(UTC),
                actor_id=args.actor,
                reason=args.reason,
                key_ids=[f"{distributor}/{key_id}" for distributor, key_id in held],
            )
        )
        # recorded first: a crash from here on is completed by running erase again
        deleted = keys.delete(key_id for _, key_id in held)
    finally:
        keys.close()
    print_json(
        {
            "erasure_id": str(erasure.id),
            "subject": ref,
            "distributor_id": args.distributor,
            "keys_deleted": deleted,
            "at": erasure.at.isoformat(),
        }
    )
    return 0
