"""`channelflow end-customers masters`: the end customers' masters with the aliases that
mean each, through a worker's HTTP API (docs/IDENTITY.md, "End customers"). No name or
address: they are sealed (docs/PRIVACY.md)."""

from __future__ import annotations

import argparse
from typing import Any

from streams.cli.agreements import all_rows
from streams.cli.resellers import aliases_summary
from streams.cli.support import (
    Subcommands,
    api_url_flag,
    bearer_token,
    identifier,
    token_flags,
)
from streams.cli.tables import print_rows


def register(sub: Subcommands) -> None:
    customers = sub.add_parser(
        "end-customers",
        help="end customers' masters (from the API)",
        description="List the end customers' masters with the aliases that mean each.",
    )
    customers.add_argument("what", choices=("masters",), help="what to list")
    api_url_flag(customers)
    customers.add_argument("--master", type=identifier, help="this master only")
    customers.add_argument("--json", action="store_true", help="print JSON instead of a table")
    token_flags(customers, "a vendor role")
    customers.set_defaults(func=cmd_end_customers)


def cmd_end_customers(args: argparse.Namespace) -> int:
    query = {"master_id": args.master} if args.master else {}
    rows = all_rows(args.url, "/api/end-customers/masters", query, bearer_token(args))
    return print_rows(rows, args.json, customer_lines, 3, "no end-customer masters")


def customer_lines(rows: list[dict[str, Any]]) -> list[list[str]]:
    head = ["master", "country", "postal code", "aliases"]
    return [
        head,
        *(
            [r["master_id"], r["country"], r["postal_code"] or "–", aliases_summary(r)]
            for r in rows
        ),
    ]
