"""`channelflow resellers`: the masters with their aliases (masters), the match queue
(proposals, confirm, reject) and bulk matching (match FILE) against a running worker's (or API
process's) HTTP API (docs/IDENTITY.md)."""

from __future__ import annotations

import argparse
import csv
import sys
import urllib.parse
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

from domain.party_matching import party_record
from projections.bulk_matching import REQUIRED, BulkOutcome, match_rows
from projections.party_index import BlockingIndex
from streams.audit.safe_csv import cell
from streams.cli.agreements import all_rows
from streams.cli.ingest_http import post_json
from streams.cli.progress import Progress
from streams.cli.support import (
    Subcommands,
    UserError,
    api_url_flag,
    bearer_token,
    identifier,
    print_json,
    token_flags,
)
from streams.cli.tables import print_rows

Row = dict[str, Any]
#: the events of a bulk match (automatic mappings, review proposals) sent per request
EVENTS_PER_REQUEST: Final = 1000
OUTCOME_COLUMNS: Final = (
    "line", "distributor_id", "reseller_id", "outcome", "master_id", "score", "candidates",
    "reasons", "problem",
)  # fmt: skip


def register(sub: Subcommands) -> None:
    resellers = sub.add_parser(
        "resellers",
        help="reseller masters, the match queue and bulk matching (from the API)",
        description="List the reseller masters with the aliases that mean each (masters). "
        "The match queue of a running worker's HTTP API: list the proposals, "
        "confirm one (map the reseller id to a master) or reject it; or match a CSV of "
        "resellers (distributor_id, reseller_id, name, country, and optionally postal_code, "
        "address, tax_id, duns) against the masters, writing each row's outcome as CSV and "
        "sending the automatic mappings and the review rows' proposals for the match queue "
        "(admin token) unless --dry-run.",
    )
    resellers.add_argument("what", choices=("masters", "proposals", "confirm", "reject", "match"),
                           help="what to do")  # fmt: skip
    resellers.add_argument(
        "args", nargs="*", metavar="ARG",
        help="confirm / reject: DISTRIBUTOR RESELLER_ID; match: FILE (a CSV)",
    )  # fmt: skip
    api_url_flag(resellers)
    resellers.add_argument(
        "--distributor", type=identifier, help="proposals: one distributor's only"
    )
    resellers.add_argument(
        "--status",
        choices=("open", "confirmed", "rejected", "all"),
        default="open",
        help="proposals: this status (default open)",
    )
    resellers.add_argument("--reason", help="confirm / reject: why (required)")
    resellers.add_argument("--master", type=identifier, help="confirm: the master (default: "
                           "the best candidate); masters: this master only")  # fmt: skip
    resellers.add_argument("--out", metavar="PATH", help="match: write the outcomes here "
                           "(default: standard output)")  # fmt: skip
    resellers.add_argument("--dry-run", action="store_true",
                           help="match: send nothing, only write the outcomes")  # fmt: skip
    resellers.add_argument("--json", action="store_true", help="print JSON instead of a table")
    token_flags(resellers, "a vendor role to read; channel manager or admin to confirm or "
                "reject; admin to send a bulk match's mappings and proposals")  # fmt: skip
    resellers.set_defaults(func=cmd_resellers)


def cmd_resellers(args: argparse.Namespace) -> int:
    token = bearer_token(args)
    if args.what == "masters":
        return _masters(args, token)
    if args.what == "proposals":
        return _proposals(args, token)
    if args.what == "match":
        if len(args.args) != 1:
            raise UserError("resellers match takes FILE (a CSV of resellers)")
        return _match(args, token, Path(args.args[0]))
    if len(args.args) != 2:
        raise UserError(f"resellers {args.what} takes DISTRIBUTOR RESELLER_ID")
    if not args.reason:
        raise UserError(f"resellers {args.what} needs --reason (why, as the history keeps it)")
    distributor, alias = (urllib.parse.quote(part, safe="") for part in args.args)
    body = {"reason": args.reason} | ({"master_id": args.master} if args.master else {})
    url = f"{args.url.rstrip('/')}/api/resellers/proposals/{distributor}/{alias}/{args.what}"
    answer = post_json(url, token, body)
    if args.json:
        print_json(answer)
    else:
        done = "confirmed as " + answer["master_id"] if args.what == "confirm" else "rejected"
        print(
            f"{answer['distributor_id']} {answer['alias_id']}: {done} (event {answer['event_id']})"
        )
    return 0


def _masters(args: argparse.Namespace, token: str | None) -> int:
    if args.args:
        raise UserError("resellers masters takes no ids (use --master)")
    query = {"master_id": args.master} if args.master else {}
    rows = all_rows(args.url, "/api/resellers/masters", query, token)
    return print_rows(rows, args.json, master_lines, 4, "no reseller masters")


def master_lines(rows: list[dict[str, Any]]) -> list[list[str]]:
    head = ["master", "legal name", "country", "aliases"]
    return [
        head,
        *([r["master_id"], r["legal_name"], r["country"], aliases_summary(r)] for r in rows),
    ]


def aliases_summary(row: Row) -> str:
    """How many aliases mean the master, and the first few of them."""
    aliases = row["aliases"]
    shown = ", ".join(aliases[:3]) + (", …" if len(aliases) > 3 else "")
    return f"{len(aliases)}" + (f" ({shown})" if aliases else "")


def _proposals(args: argparse.Namespace, token: str | None) -> int:
    if args.args:
        raise UserError("resellers proposals takes no ids (use --distributor, --status)")
    query = {"status": args.status} if args.status != "all" else {}
    query |= {"distributor_id": args.distributor} if args.distributor else {}
    rows = all_rows(args.url, "/api/resellers/proposals", query, token)
    empty = f"no {args.status} proposals" if args.status != "all" else "no proposals"
    return print_rows(rows, args.json, proposal_lines, 3, empty)


def proposal_lines(rows: Sequence[Row]) -> list[list[str]]:
    head = ["distributor", "reseller", "status", "proposed", "best", "candidates"]
    return [
        head,
        *(
            [r["distributor_id"], r["alias_id"], r["status"], r["proposed_at"][:10],
             r["best_score"] or "–",
             ", ".join(f"{c['master_id']} {c['score']}" for c in r["candidates"]) or "–"]
            for r in rows
        ),
    ]  # fmt: skip


def masters_index(url: str, token: str | None) -> BlockingIndex:
    """The masters of the API, indexed (their memory is the index's; the rows go)."""
    index = BlockingIndex()
    for row in all_rows(url, "/api/resellers/masters", {}, token):
        index.add(
            party_record(
                row["master_id"], row["legal_name"], row["country"], row["postal_code"],
                row["address"], row["tax_id"], row["duns"],
            )
        )  # fmt: skip
    return index


def _match(args: argparse.Namespace, token: str | None, path: Path) -> int:
    counts: Counter[str] = Counter()
    pending: list[dict[str, Any]] = []
    sent = 0
    ingest = f"{args.url.rstrip('/')}/api/ingest/events"
    with ExitStack() as stack:
        try:  # the file first: a typo in its name is not "cannot reach" the API
            source = stack.enter_context(path.open("rb"))
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror}") from None
        index = masters_index(args.url, token)
        if not len(index):
            raise UserError(f"no reseller masters at {args.url}: nothing to match against")
        out: IO[str] = (
            stack.enter_context(Path(args.out).open("w", newline="", encoding="utf-8"))
            if args.out else sys.stdout
        )  # fmt: skip
        writer = csv.writer(out)
        writer.writerow(OUTCOME_COLUMNS)
        progress = Progress("matching", "resellers")
        stack.callback(progress.close)
        outcomes = match_rows(index, _rows(source, path), datetime.now(UTC), path.name)
        for outcome in outcomes:
            counts[outcome.outcome] += 1
            writer.writerow(outcome_cells(outcome))
            event = outcome.mapping or outcome.proposal
            if event is not None and not args.dry_run:
                pending.append(event.model_dump(mode="json", exclude_none=True))
                if len(pending) >= EVENTS_PER_REQUEST:
                    sent += _send(ingest, token, pending)
            progress.tick()
        if pending:
            sent += _send(ingest, token, pending)
    summary = {"rows": sum(counts.values()), **dict(sorted(counts.items())), "sent": sent}
    print(", ".join(f"{k}: {v}" for k, v in summary.items()), file=sys.stderr)
    return 1 if counts["invalid"] else 0


def _rows(source: IO[bytes], path: Path) -> Iterator[dict[str, str | None]]:
    """The CSV's rows, read a line at a time; a line that is not UTF-8 (or not CSV) is an
    error naming it."""
    reader = csv.DictReader(_text_lines(source, path))
    try:
        missing = [name for name in REQUIRED if name not in (reader.fieldnames or ())]
        if missing:
            raise UserError(f"{path}: line 1: the header lacks {', '.join(missing)}")
        yield from reader
    except csv.Error as exc:
        raise UserError(f"{path}: line {reader.line_num}: not CSV ({exc})") from None


def _text_lines(source: IO[bytes], path: Path) -> Iterator[str]:
    for number, line in enumerate(source, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UserError(f"{path}: line {number}: not UTF-8 ({exc.reason})") from None
        yield text.removeprefix("\ufeff") if number == 1 else text


def _send(url: str, token: str | None, pending: list[dict[str, Any]]) -> int:
    """Send the mappings and proposals; the list is emptied. How many the API accepted (an
    event sent before is recognised, never applied twice)."""
    answer = post_json(url, token, pending)
    pending.clear()
    return int(answer["summary"].get("accepted", 0))


def outcome_cells(outcome: BulkOutcome) -> list[str]:
    best = outcome.candidates[0] if outcome.candidates else None
    mapped = outcome.mapping is not None
    cells = [
        outcome.line, outcome.distributor_id, outcome.reseller_id, outcome.outcome,
        best.master_id if best is not None and mapped else None,
        best.score if best is not None else None,
        " ".join(f"{c.master_id}:{c.score}" for c in outcome.candidates),
        "; ".join(outcome.reasons), outcome.problem,
    ]  # fmt: skip
    return [cell(value) for value in cells]  # the file's ids may read as a formula
