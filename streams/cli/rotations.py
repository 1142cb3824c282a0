"""`channelflow rotations`: the stock rotation requests as decided and what came back of
their returns, as a running worker's (or API process's) HTTP API answers them, and the
cancellation of an accepted one (docs/AGREEMENTS.md, "Stock rotation")."""

from __future__ import annotations

import argparse
import urllib.parse
from collections.abc import Sequence
from typing import Any

from streams.cli.agreements import all_rows
from streams.cli.support import (
    Subcommands,
    UserError,
    api_url_flag,
    bearer_token,
    get_json,
    identifier,
    post_json,
    print_json,
    token_flags,
)
from streams.cli.tables import print_rows, print_table

Row = dict[str, Any]


def register(sub: Subcommands) -> None:
    rotations = sub.add_parser(
        "rotations",
        help="stock rotation requests, their decisions and returns (from the API)",
        description="Read the stock rotation requests from a running worker's HTTP API: every "
        "request with its decision (list), or one request with its reasons, figures and "
        "lineage (show DISTRIBUTOR REQUEST_ID); or cancel an accepted rotation before its "
        "return (cancel DISTRIBUTOR REQUEST_ID --reason TEXT: a distributor token its own, "
        "admin anyone's).",
    )
    rotations.add_argument("what", choices=("list", "show", "cancel"), help="what to do")
    rotations.add_argument("key", nargs="*", metavar="ID",
                           help="show, cancel: DISTRIBUTOR REQUEST_ID")  # fmt: skip
    rotations.add_argument("--reason", help="cancel: why (required)")
    api_url_flag(rotations)
    rotations.add_argument("--distributor", type=identifier, help="list: one distributor's only")
    rotations.add_argument("--status", choices=("accepted", "rejected", "returned", "cancelled"),
                           help="list: only this status")  # fmt: skip
    rotations.add_argument("--json", action="store_true", help="print the rows as JSON")
    token_flags(rotations, "any role; a distributor sees (and cancels) its own")
    rotations.set_defaults(func=cmd_rotations)


def cmd_rotations(args: argparse.Namespace) -> int:
    token = bearer_token(args)
    if args.what == "cancel":
        return _cancel(args, token)
    if args.what == "show":
        path = _one(args)
        row = get_json(args.url, path, token, "the rotation request")
        print_json(row) if args.json else print_table(detail_lines(row), left=2)
        return 0
    if args.key:
        raise UserError("rotations list takes no ids (use --distributor, --status)")
    query = {"distributor_id": args.distributor, "status": args.status}
    rows = all_rows(args.url, "/api/rotations", {k: v for k, v in query.items() if v}, token)
    return print_rows(rows, args.json, list_lines, 4, "no rotation requests")


def _one(args: argparse.Namespace) -> str:
    """The path of the one request the command names."""
    if len(args.key) != 2:
        raise UserError(f"rotations {args.what} takes DISTRIBUTOR REQUEST_ID")
    distributor, request_id = (urllib.parse.quote(part, safe="") for part in args.key)
    return f"/api/rotations/{distributor}/{request_id}"


def _cancel(args: argparse.Namespace, token: str | None) -> int:
    path = f"{_one(args)}/cancel"
    if not (args.reason or "").strip():
        raise UserError("rotations cancel needs --reason TEXT (why it is cancelled)")
    body = {"reason": args.reason}
    answer = post_json(args.url, path, token, "cancelling the rotation", body)
    if args.json:
        print_json(answer)
    else:
        print(f"cancellation of {answer['distributor_id']}/{answer['request_id']} sent "
              f"by {answer['cancelled_by']} at {answer['cancelled_at']}")  # fmt: skip
    return 0


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{units} {sku}" for sku, units in sorted(counts.items())) or "–"


def list_lines(rows: Sequence[Row]) -> list[list[str]]:
    head = ["distributor", "request", "requested", "status", "returns", "value", "reasons"]
    return [
        head,
        *(
            [r["distributor_id"], r["request_id"], r["requested_at"][:10], r["status"],
             _counts(r["returns"]), f"{r['return_value']} {r['currency'] or ''}".strip(),
             ", ".join(r["reasons"]) or "–"]
            for r in rows
        ),
    ]  # fmt: skip


#: the fields `show` prints one a line, in this order
SHOWN = (
    "distributor_id", "request_id", "rotation_id", "status", "requested_at", "recorded_at",
    "period", "currency", "return_value", "order_value", "allowance", "used_before",
    "return_shipment_id", "exchange_shipment_id", "exchange_status", "cancelled_at",
    "cancelled_by", "cancel_reason", "agreement_event_id",
)  # fmt: skip


def detail_lines(row: Row) -> list[list[str]]:
    """One request as field / value lines: the decision, its figures, problems and lineage."""
    lines = [["field", "value"]]
    for name in SHOWN:
        lines.append([name, "–" if row[name] is None else str(row[name])])
    lines += [["returns", _counts(row["returns"])], ["orders", _counts(row["orders"])],
              ["received", _counts(row["received"])],
              ["exchanged", _counts(row["exchanged"])]]  # fmt: skip
    lines += [["problem", f"{reason} ({sku or side or 'request'}): {detail}"]
              for reason, side, sku, detail in row["problems"]]  # fmt: skip
    lines += [["price event", event] for event in row["price_event_ids"]]
    lines += [["rate event", event] for event in row["rate_event_ids"]]
    return lines
