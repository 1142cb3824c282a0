"""`channelflow agreements`: the distributors' agreement versions, the obligations their
stock breaks today, their volume commitments, and the exchange rates, as a running
worker's (or API process's) HTTP API answers them (docs/AGREEMENTS.md)."""

from __future__ import annotations

import argparse
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from streams.cli.support import (
    Subcommands,
    api_url_flag,
    bearer_token,
    get_json,
    identifier,
    token_flags,
)
from streams.cli.tables import print_rows

Row = dict[str, Any]
#: rows asked for a page at a time (the API's most)
PAGE = 10_000


def register(sub: Subcommands) -> None:
    agreements = sub.add_parser(
        "agreements",
        help="agreement versions, obligations broken today, volume commitments, exchange "
        "rates (from the API)",
        description="Read the agreements from a running worker's HTTP API: every version and "
        "which is in effect (versions), the stocking targets exceeded and the stock over its "
        "maximum age under the version in effect (obligations), the volume commitments of "
        "the current and the previous month, quarter and year (commitments), or the exchange "
        "rates (rates).",
    )
    agreements.add_argument("what", choices=sorted(VIEWS), help="what to show")
    api_url_flag(agreements)
    agreements.add_argument("--distributor", type=identifier, help="one distributor's only")
    agreements.add_argument("--as-of", help='judge this day instead of "now" (YYYY-MM-DD)')
    agreements.add_argument("--json", action="store_true", help="print the rows as JSON")
    token_flags(agreements, "any role; a distributor sees its own")
    agreements.set_defaults(func=cmd_agreements)


def cmd_agreements(args: argparse.Namespace) -> int:
    path, table = VIEWS[args.what]
    query = {"distributor_id": args.distributor, "as_of": args.as_of}
    rows = all_rows(args.url, path, {k: v for k, v in query.items() if v}, bearer_token(args))
    return print_rows(rows, args.json, table, 4, f"no {args.what}")


def all_rows(url: str, path: str, query: dict[str, str], token: str | None) -> list[Row]:
    """Every row of a paged list endpoint, a page at a time."""
    rows: list[Row] = []
    while True:
        wanted = urllib.parse.urlencode({**query, "limit": PAGE, "offset": len(rows)})
        page = get_json(url, f"{path}?{wanted}", token, path)
        rows.extend(page["rows"])
        if not page["rows"] or len(rows) >= page["total"]:
            return rows


def _text(value: Any) -> str:
    return "–" if value is None else str(value)


def version_lines(rows: Sequence[Row]) -> list[list[str]]:
    head = ["distributor", "agreement", "version", "currency", "from", "to", "in effect"]
    return [
        head,
        *(
            [r["distributor_id"], r["agreement_id"], r["version_id"], r["currency"],
             r["effective_from"], r["last_day"], "yes" if r["in_effect"] else ""]
            for r in rows
        ),
    ]  # fmt: skip


def obligation_lines(rows: Sequence[Row]) -> list[list[str]]:
    head = ["distributor", "finding", "sku or group", "detail", "units over", "value"]
    lines = [head]
    for r in rows:
        if r["kind"] == "over_stock":
            weeks = _text(r["weeks_of_supply"]).replace("–", "unbounded")
            detail, units = f"{weeks} weeks > {r['target_weeks']}", r["excess_units"]
        else:
            detail, units = f"older than {r['max_age_days']} days", r["units"]
        value = "–" if r["value"] is None else f"{r['value']} {r['currency']}"
        lines.append([r["distributor_id"], r["kind"], r["ref"], detail, str(units), value])
    return lines


def commitment_lines(rows: Sequence[Row]) -> list[list[str]]:
    head = ["distributor", "period", "commitment", "minimum", "volume", "progress", "status"]
    lines = [head]
    for r in rows:
        unit = f" {r['currency']}" if r["currency"] else ""
        status = r["status"] + ("" if r["shortfall"] is None else f" by {r['shortfall']}")
        gaps = ", ".join(f"{g['amount']} {g['currency']}" for g in r["unconverted"])
        lines.append(
            [r["distributor_id"], r["period"] + ("" if r["closed"] else " (open)"),
             f"{r['basis']} {r['measure']}", r["minimum"] + unit, _text(r["volume"]) + unit,
             _text(r["progress"]), status + (f" (unconverted: {gaps})" if gaps else "")]
        )  # fmt: skip
    return lines


def rate_lines(rows: Sequence[Row]) -> list[list[str]]:
    head = ["from", "to", "effective", "recorded", "rate"]
    return [
        head,
        *(
            [r["from_currency"], r["to_currency"], r["effective_date"], r["recorded_at"],
             r["rate"]]
            for r in rows
        ),
    ]  # fmt: skip


#: what -> (the API's list endpoint, the table of its rows)
VIEWS: dict[str, tuple[str, Callable[[Sequence[Row]], list[list[str]]]]] = {
    "versions": ("/api/agreements", version_lines),
    "obligations": ("/api/obligations", obligation_lines),
    "commitments": ("/api/commitments", commitment_lines),
    "rates": ("/api/exchange-rates", rate_lines),
}
