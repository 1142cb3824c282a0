"""`channelflow audit ...` and `channelflow verify --audit`: the auditor's commands.

    channelflow audit history KIND REF [--json]
    channelflow audit lineage KIND REF [--events FILE | --from-kafka] [--json]
    channelflow audit export --period 2026-Q3 [--distributor ID] --out DIR [--events | --from-kafka]
    channelflow audit seal
    channelflow verify --audit [--expect-head HASH] [--chain-only]

KIND is statement, violation, reconciliation or claim; REF its id or business key
(streams/audit/trail.py). Output goes to stdout, progress and problems to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from infra.auditchain import kept_head
from infra.eventstore import AuditLog, open_audit_log
from projections.distributor_reads import is_known
from streams.audit.lineage import RawIndex, lineage_of, unread
from streams.audit.personal import opener_of, reveal_sources
from streams.audit.trail import KINDS, UnknownRecord, history, load
from streams.cli.support import (
    Subcommands,
    UserError,
    identifier,
    period_key,
    print_json,
    replayed,
    require_history,
    settings_of,
)
from streams.runners.embedded import EmbeddedChannel, file_inputs

Command = Callable[[argparse.Namespace], int]


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


def _audit(args: argparse.Namespace) -> AuditLog:
    """The store the auditor's tools read: one that is there (a mistyped SQLite path is
    refused, not created empty and verified)."""
    return open_audit_log(settings_of(args).eventstore_url, existing=True)


def _chain_head(text: str) -> str:
    """An argparse type: a kept chain head, checked before any replay or walk."""
    try:
        return kept_head(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _loaded(audit: AuditLog, kind: str, reference: str) -> Any:
    try:
        return load(audit, kind, reference)
    except UnknownRecord as exc:
        raise UserError(str(exc)) from None
    except AggregateNotFoundError:
        raise UserError(f"no {kind} {reference} in the event store") from None


def cmd_history(args: argparse.Namespace) -> int:
    audit = _audit(args)
    _loaded(audit, args.kind, args.ref)
    document = history(audit, args.kind, args.ref)
    if args.json:
        print_json(document)
        return 0
    _out(f"{args.kind} {document['id']}")
    for event in document["events"]:
        seal = event["seal"]
        sealed = "UNSEALED" if seal is None else f"position {seal['position']} seal #{seal['seq']}"
        role = f" ({event['role']})" if event["role"] else ""
        _out(
            f"  v{event['version']} {event['what']} at {event['at'] or '-'} "
            f"(recorded {event['recorded_at']}) by {event['who']}{role}: {event['why']}  [{sealed}]"
        )
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    audit = _audit(args)
    aggregate = _loaded(audit, args.kind, args.ref)
    channel, raw = _replay_with_index(args)
    document = lineage_of(aggregate, args.kind, channel.stores, raw)
    opener, close = opener_of(settings_of(args))
    try:
        reveal_sources(document["sources"], opener)
    finally:
        close()
    if args.json:
        print_json(document)
        return 0
    _out(f"{args.kind} {document['id']}")
    for source in document["sources"]:
        _out("  " + _describe(source))
    for check in document.get("digests", []):
        verdict = "reproduced" if check["matches"] else "DOES NOT MATCH"
        _out(
            f"  {check['what']} digest {verdict}: {check['events']} events → "
            f"{check['recomputed']} (recorded {check['recorded']}, "
            f"{check['recorded_events']} events)"
        )
    if not document["complete"]:
        missing = unread(document)
        if missing:
            _err(
                f"lineage incomplete: {len(missing)} of {len(document['sources'])} source "
                f"events not in the replayed source ({', '.join(missing[:5])})"
            )
        else:
            _err("lineage incomplete: the replayed source does not hold every event of this record")
        return 1
    return 0


def _describe(source: dict[str, Any]) -> str:
    line = f"{source['role']:<14} {source['event_id']}  {source['business_time'] or '-'}"
    if source["quantity"] is not None:
        line += f"  qty {source['quantity']}"
    if source["unit_price"] is not None:
        line += f" @ {source['unit_price']}"
    read = source["read"]
    if read is not None:
        where = (
            read["topic"] if read["partition"] is None else f"{read['topic']}:{read['partition']}"
        )
        line += f"  {read['event_type']} at {where}@{read['offset']} (source {read['source']}"
        line += "".join(
            f", {name} {read[name]}" for name in ("source_ref", "report_id") if read[name]
        )
        line += ")"
    return line


def _replay_with_index(args: argparse.Namespace) -> tuple[EmbeddedChannel, RawIndex]:
    """The replayed channel, and where each raw event was read (the source is read twice:
    once by the replay, once for the index)."""
    channel = replayed(args, None)
    raw = RawIndex()
    if args.events:
        for item in file_inputs(Path(args.events)):
            raw.add(item)
        return channel, raw
    from streams.runners.kafka_replay import raw_history

    async def read() -> None:
        async for item in raw_history(settings_of(args), args.distributor):
            raw.add(item)

    asyncio.run(read())
    return channel, raw


def cmd_export(args: argparse.Namespace) -> int:
    from streams.audit.pack import export_pack
    from streams.audit.pack_dir import previous_pack

    try:
        previous_pack(Path(args.out))  # refused before the replay, not after it
    except ValueError as exc:
        raise UserError(str(exc)) from None
    audit = _audit(args)
    if not args.no_sources:  # replayed into nothing, every source line would be missing
        require_history(
            args,
            "for the pack's source lines",
            "; --no-sources writes the pack from the audit store alone",
        )
    channel, raw = (None, None) if args.no_sources else _replay_with_index(args)
    distributor = args.pack_distributor
    if (
        channel is not None
        and distributor is not None
        and not is_known(channel.stores, distributor)
    ):
        # a typo (D1 for D01) would be an empty pack, verified, exit 0: "nothing to report"
        raise UserError(
            f"no distributor {distributor!r} in the replayed history (nothing recorded under "
            "its id): check --distributor; nothing written"
        )
    opener, close = opener_of(settings_of(args))
    try:
        manifest = export_pack(
            audit,
            Path(args.out),
            args.period,
            args.pack_distributor,
            None if channel is None else channel.stores,
            raw,
            opener,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None
    finally:
        close()
    counts = ", ".join(f"{n} {name}" for name, n in manifest["counts"].items())
    _err(f"wrote {args.out}: {counts}")
    _out(head_line(manifest["head"], manifest["head_position"]))
    for finding in manifest["chain_findings"]:
        _out(finding)
    if not manifest["chain_verified"]:
        _err(f"the audit chain has {len(manifest['chain_findings'])} findings: pack not verified")
        return 1
    return 0


def head_line(head: str, position: int | None) -> str:
    """The chain's head and where it is; a store with no record has the zero head."""
    if position is None:
        return f"head {head} (no record: an empty chain)"
    return f"head {head} at position {position}"


def cmd_seal(args: argparse.Namespace) -> int:
    sealed = _audit(args).seal_unsealed()
    _err(f"sealed {sealed} event(s) that had no seal")
    return 0


def verify_with_chain(original: Command) -> Command:
    """`verify`, plus a walk of the audit chain with --audit (only the walk: --chain-only)."""

    def run(args: argparse.Namespace) -> int:
        if not (args.audit or args.chain_only or args.expect_head):
            return original(args)
        status = 0 if args.chain_only else original(args)
        report = _audit(args).verify_chain(args.expect_head)
        for finding in report.findings:
            _out(str(finding))
        _out(
            f"audit chain: {report.records} records, {report.seals} seals, "
            f"{len(report.findings)} findings; {head_line(report.head, report.head_position)}"
        )
        if report.expected_head_position is not None:
            _out(f"the kept head is the chain hash at position {report.expected_head_position}")
        return 1 if report.findings else status

    return run


def register(sub: Subcommands) -> None:
    """Add `audit ...` and the chain flags of `verify` to the CLI's subcommands."""
    verify = sub.choices["verify"]
    verify.add_argument(
        "--audit", action="store_true", help="also walk the audit store's hash chain"
    )
    verify.add_argument(
        "--expect-head",
        metavar="HASH",
        type=_chain_head,
        help="a head kept earlier (64 hex digits): detect a rewritten chain",
    )
    verify.add_argument(
        "--chain-only", action="store_true", help="only walk the chain (no replay, no API)"
    )
    verify.set_defaults(func=verify_with_chain(verify.get_default("func")))

    audit = sub.add_parser("audit", help="history, lineage, export and sealing of audit records")
    commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    kinds = sorted(KINDS)

    def store_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument("--eventstore", help="event store URL (CHANNELFLOW_EVENTSTORE_URL)")

    def source_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--events", help="replay this JSON Lines file instead of Kafka")
        p.add_argument("--kafka", help="bootstrap servers (CHANNELFLOW_KAFKA_BOOTSTRAP)")
        p.add_argument("--prefix", help="topic name prefix (CHANNELFLOW_TOPIC_PREFIX)")
        p.set_defaults(distributor=None)

    def record_command(name: str, help_text: str) -> argparse.ArgumentParser:
        """A command about one audit record: KIND REF [--json] [--eventstore]."""
        command = commands.add_parser(name, help=help_text)
        command.add_argument("kind", choices=kinds)
        command.add_argument("ref", help="the record's id or business key")
        command.add_argument("--json", action="store_true", help="JSON output")
        store_flag(command)
        return command

    show = record_command("history", "every event of a record: what, when, who, why")
    show.set_defaults(func=cmd_history)
    trace = record_command("lineage", "the raw events a record was derived from")
    source_flags(trace)
    trace.set_defaults(func=cmd_lineage)

    export = commands.add_parser("export", help="the audit pack of a period (CSV + JSON)")
    export.add_argument("--period", required=True, type=period_key, help="2026-Q3 or 2026")
    export.add_argument(
        "--distributor",
        dest="pack_distributor",
        metavar="ID",
        type=identifier,
        help="only this distributor",
    )
    export.add_argument("--out", required=True, help="directory to write the pack to")
    export.add_argument(
        "--no-sources", action="store_true", help="no source lines (no replay of raw events)"
    )
    store_flag(export)
    source_flags(export)
    export.set_defaults(func=cmd_export)

    seal = commands.add_parser(
        "seal", help="seal events stored before sealing existed (once, when upgrading)"
    )
    store_flag(seal)
    seal.set_defaults(func=cmd_seal)
