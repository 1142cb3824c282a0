"""`channelflow claims`: submit debit claims (a CSV claim file or an X12 844), list the
claims with their totals, show one claim as its aggregate records it (or its 849 answer),
take its lifecycle steps, and list the authorizations' cap use and days left, all over a
running API's HTTP routes (docs/CLAIMS.md)."""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from typing import Any

import orjson

from streams.cli.agreements import all_rows
from streams.cli.ingest import detect_format, print_answer
from streams.cli.ingest_http import CLAIM_FORMATS, over_http
from streams.cli.support import (
    Subcommands,
    UserError,
    amount,
    api_url_flag,
    bearer_token,
    call_api,
    identifier,
    input_file,
    print_json,
    token_flags,
)
from streams.cli.tables import print_rows, print_table

STEPS = ("approve", "pay", "credit", "dispute", "resolve")


def register(sub: Subcommands) -> None:
    claims = sub.add_parser(
        "claims",
        help="ship-and-debit claims: submit, list, show, approve, pay, credit, dispute, resolve",
        description="Debit claims over a running API: submit a CSV claim file or an X12 844 "
        "(each claim one event; a claim with any problem refused whole), list the claims with "
        "their totals and the reasons of their lines, show one claim with "
        "its lines, decisions and steps (or its 849 answer), and take its steps: approve, "
        "pay / credit (with a reference), resolve (admin), dispute (a distributor, its own).",
    )
    claims_sub = claims.add_subparsers(dest="what", required=True, metavar="WHAT")
    submit = claims_sub.add_parser("submit", help="submit a CSV claim file or an X12 844")
    submit.add_argument("file", help="the file (its kind is read from its content)")
    submit.add_argument("--distributor", type=identifier, help="admin: on whose behalf")
    listing = claims_sub.add_parser("list", help="every claim: lines by status, totals, reasons")
    listing.add_argument("--distributor", type=identifier, help="one distributor's only")
    listing.add_argument("--status", choices=("decided", "pending"), help="only this status")
    usage = claims_sub.add_parser(
        "authorizations", help="each authorization's cap given out and days left, near flagged"
    )
    usage.add_argument(
        "--distributor", type=identifier, help="the authorizations naming this distributor"
    )
    usage.add_argument("--near", action="store_true", help="only those near their cap or expiry")
    show = claims_sub.add_parser("show", help="one claim: status, lines, decisions, steps")
    show.add_argument("--x12", action="store_true", help="print the claim's 849 answer")
    for step in STEPS:
        _step_flags(claims_sub.add_parser(step, help=_HELP[step]), step)
    for name, command in claims_sub.choices.items():
        if name not in ("submit", "list", "authorizations"):
            command.add_argument("distributor_id", metavar="DISTRIBUTOR")
            command.add_argument("claim_id", metavar="CLAIM")
        api_url_flag(command)
        command.add_argument("--json", action="store_true", help="print the answer as JSON")
        token_flags(command, "distributor (its own) or admin")
        command.set_defaults(func=cmd_claims)


_HELP = {
    "approve": "validated → approved (admin)",
    "pay": "approved → paid, with the payment's reference (admin)",
    "credit": "approved → credited, with the credit note's reference (admin)",
    "dispute": "validated / approved → disputed, naming the lines (a distributor: its own)",
    "resolve": "disputed → validated: upheld (optionally granting an amount) or rejected",
}


def _step_flags(command: argparse.ArgumentParser, step: str) -> None:
    if step in ("pay", "credit"):
        command.add_argument("--reference", required=True, help="the payment / credit note")
        return
    command.add_argument("--reason", required=True, help="why")
    if step == "dispute":
        command.add_argument("--lines", required=True, help="the line numbers, e.g. 2,3")
    if step == "resolve":
        command.add_argument("--outcome", required=True, choices=("upheld", "rejected"))
        command.add_argument(
            "--granted", type=amount, help="upheld: an amount granted on top, e.g. 300.00"
        )


def cmd_claims(args: argparse.Namespace) -> int:
    if args.what == "submit":
        return _submit(args)
    token = bearer_token(args)
    if args.what == "list":
        return _list(args, token)
    if args.what == "authorizations":
        return _usage(args, token)
    parts = (args.distributor_id, args.claim_id)
    path = "/api/claims/" + "/".join(urllib.parse.quote(part, safe="") for part in parts)
    what = f"claim {args.claim_id!r} of {args.distributor_id}"
    if args.what == "show" and args.x12:
        sys.stdout.buffer.write(call_api(args.url, f"{path}/849", token, what))
        return 0
    if args.what == "show":
        claim = orjson.loads(call_api(args.url, path, token, what))
    else:
        body = step_body(args)
        claim = orjson.loads(call_api(args.url, f"{path}/{args.what}", token, what, body))
    if args.json:
        print_json(claim)
    else:
        print_claim(claim)
    return 0


def _list(args: argparse.Namespace, token: str | None) -> int:
    query = {"distributor_id": args.distributor, "status": args.status}
    rows = all_rows(args.url, "/api/claims", {k: v for k, v in query.items() if v}, token)
    return print_rows(rows, args.json, list_lines, 4, "no claims")


def list_lines(rows: list[dict[str, Any]]) -> list[list[str]]:
    head = ["distributor", "claim", "recorded", "status", "lines", "claimed", "accepted", "reasons"]
    return [
        head,
        *(
            [r["distributor_id"], r["claim_id"], r["recorded_at"][:10], r["status"],
             ", ".join(f"{n} {status}" for status, n in r["lines_by_status"].items()),
             f"{r['total_claimed']} {r['currency'] or ''}".strip(), r["total_accepted"],
             ", ".join(f"{n} {reason}" for reason, n in r["reasons"].items()) or "–"]
            for r in rows
        ),
    ]  # fmt: skip


def _usage(args: argparse.Namespace, token: str | None) -> int:
    query = {"distributor_id": args.distributor} if args.distributor else {}
    rows = all_rows(args.url, "/api/authorizations/usage", query, token)
    if args.near:
        rows = [row for row in rows if row["near"]]
    empty = "no authorizations near their cap or expiry" if args.near else "no authorizations"
    return print_rows(rows, args.json, usage_lines, 2, empty)


def usage_lines(rows: list[dict[str, Any]]) -> list[list[str]]:
    head = ["authorization", "distributor", "cap", "given", "left", "used", "valid to", "days",
            "near"]  # fmt: skip
    blank = "–"
    return [
        head,
        *(
            [r["authorization_id"], r["distributor_id"],
             blank if r["quantity_cap"] is None else str(r["quantity_cap"]), str(r["units_given"]),
             blank if r["units_left"] is None else str(r["units_left"]),
             blank if r["percent_used"] is None else f"{r['percent_used']:.1f} %",
             r["valid_to"], blank if r["days_left"] is None else str(r["days_left"]),
             ", ".join(r["near"]) or blank]
            for r in rows
        ),
    ]  # fmt: skip


def _submit(args: argparse.Namespace) -> int:
    path = input_file(args.file)
    fmt = detect_format(path)
    if fmt not in CLAIM_FORMATS:
        raise UserError(f"{path} is no claim file (read as {fmt}): a CSV claim file or an 844")
    args.report_id = args.replaces = None  # a claim names itself
    return print_answer(over_http(args, path, fmt), args.json)


def step_body(args: argparse.Namespace) -> dict[str, Any]:
    """The JSON body of a step, from its flags."""
    if args.what in ("pay", "credit"):
        return {"reference": args.reference}
    body: dict[str, Any] = {"reason": args.reason}
    if args.what == "dispute":
        try:
            body["lines"] = [int(part) for part in args.lines.split(",") if part.strip()]
        except ValueError:
            raise UserError(f"--lines: line numbers such as 2,3, not {args.lines!r}") from None
    if args.what == "resolve":
        body["outcome"] = args.outcome
        if args.granted is not None:
            body["granted"] = args.granted
    return body


def print_claim(claim: dict[str, Any]) -> None:
    """A claim for people: its head, each line with its decision, then its steps."""
    print(
        f"claim {claim['claim_id']} of {claim['distributor_id']}: {claim['status']}; "
        f"claimed {claim['total_claimed']}, accepted {claim['total_accepted']}, "
        f"outstanding {claim['outstanding'] or '–'}"
    )
    rows = [["line", "transaction", "sku", "qty", "claimed", "decision", "accepted", "reasons"]]
    for line in claim["lines"]:
        decision = line["decision"] or {}
        rows.append([
            str(line["line_no"]), line["transaction_id"], line["sku"], str(line["quantity"]),
            f"{line['amount_claimed']} {line['currency']}", decision.get("status", "undecided"),
            decision.get("amount_accepted", "–"), ", ".join(decision.get("reasons", [])) or "–",
        ])  # fmt: skip
    print_table(rows, left=3)
    for step in claim["steps"]:
        said = step["reference"] if step["action"] in ("pay", "credit") else step["reason"]
        print(f"{step['at']}  {step['action']} by {step['actor']} ({step['role']}): {said}")
