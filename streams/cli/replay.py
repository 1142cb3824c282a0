"""`channelflow replay` (the snapshot recomputed from raw events) and `channelflow
verify` (that replay compared with a live API and the event store)."""

from __future__ import annotations

import argparse
import sys

from streams.cli.support import (
    Subcommands,
    UserError,
    api_url_flag,
    as_of,
    bearer_token,
    get_json,
    identifier,
    kafka_flags,
    known_at_of,
    positive_int,
    print_json,
    replay_of,
    require_history,
    settings_of,
    token_flags,
)


def register(sub: Subcommands) -> None:
    replay = sub.add_parser("replay", help="recompute the snapshot from raw events")
    source = replay.add_mutually_exclusive_group(required=True)
    source.add_argument("--events", help="JSON Lines file, one event per line")
    source.add_argument("--from-kafka", action="store_true", help="the raw topics, from the start")
    replay.add_argument("--as-of", help="business date (2026-09-30) or datetime with timezone")
    known_at_flag(replay)
    replay.add_argument(
        "--distributor", type=identifier, help="with --from-kafka: only this distributor's lines"
    )
    jobs_flag(replay)
    kafka_flags(replay)
    replay.set_defaults(func=cmd_replay)

    verify = sub.add_parser(
        "verify", help="replay the raw topics; compare with the live API and the event store"
    )
    api_url_flag(verify)
    token_flags(verify, "auditor role")
    verify.add_argument("--events", help="replay this JSON Lines file instead of Kafka")
    verify.add_argument("--eventstore", help="event store URL (CHANNELFLOW_EVENTSTORE_URL)")
    verify.set_defaults(func=cmd_verify, distributor=None)
    jobs_flag(verify)
    kafka_flags(verify)


def known_at_flag(p: argparse.ArgumentParser, with_as_of: bool = True) -> None:
    bitemporal = "; with --as-of, the bitemporal view" if with_as_of else ""
    p.add_argument(
        "--known-at",
        metavar="DATETIME",
        help="only events the system had recorded by then (date: the end of that UTC day)"
        + bitemporal,
    )


def jobs_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--jobs",
        type=positive_int,
        metavar="N",
        help="processes sharing the replay, split by distributor (default: one per "
        "core; 1: in this process)",
    )


def cmd_replay(args: argparse.Namespace) -> int:
    if args.distributor is not None and not args.from_kafka:
        # it narrows the Kafka read only: with --events it was ignored, the whole file replayed
        raise UserError("--distributor works with --from-kafka only")
    until = as_of(args.as_of)
    known_at_of(args)  # a bad flag is named before the history is looked at
    # a wrong --prefix printed an empty snapshot, status 0, as if the channel were empty
    require_history(args, "to replay")
    print_json(replay_of(args, until).snapshot)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from infra.eventstore import open_audit_log
    from streams.audit.verify import (
        audit_differences,
        snapshot_differences,
        unrecorded,
        what_to_do,
    )

    # what can be refused is refused before the replay, which may take long: a store that
    # is not there, an API that cannot be reached or does not let the token read, a history
    # with no events
    store = open_audit_log(settings_of(args).eventstore_url, existing=True)
    token = bearer_token(args)
    get_json(args.url, "/api/products?limit=1", token, "the live API")
    require_history(args, "to verify against")
    replay = replay_of(args, None)
    live = get_json(args.url, "/api/snapshot", token, "the live snapshot")
    differences = list(snapshot_differences(replay.snapshot, live))
    rows = sum(len(rows) for rows in live.values())
    verified, audit = audit_differences(replay.audit(), store)
    for difference in (*differences, *audit):
        print(difference)
    if differences or audit:
        advice = what_to_do(len(differences), len(audit), unrecorded(audit))
        print("\n".join(advice), file=sys.stderr)
        return 1
    print(f"{rows} snapshot rows and {verified} audit events verified")
    return 0
