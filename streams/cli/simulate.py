"""`channelflow simulate`: the history replayed under proposed rebate terms, nothing
published; per distributor and period, the accrual under today's terms, under the
proposal and the difference (projections/rebate_simulation.py). A proposed price list
(`--prices`): streams/cli/simulate_prices.py."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from domain.rebate_programs import InvalidProgram, ProgramTerms, terms_of
from projections.rebate_simulation import Simulated, simulate, simulated_row, simulated_totals
from projections.snapshot import distributors
from projections.stores import ChannelStores
from schemas.codec import InvalidEvent, event_of
from schemas.events import RebateProgramDefined
from streams.cli.replay import jobs_flag, known_at_flag
from streams.cli.support import (
    Subcommands,
    UserError,
    kafka_flags,
    period_key,
    print_json,
    replay_of,
)
from streams.cli.tables import print_table


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "simulate",
        help="replay history under proposed rebate terms or prices; publish nothing",
    )
    proposal = p.add_mutually_exclusive_group(required=True)
    proposal.add_argument(
        "--program",
        metavar="FILE.json",
        help="a JSON file: the proposed RebateProgramDefined (its envelope fields optional)",
    )
    proposal.add_argument(
        "--prices",
        metavar="FILE.json",
        help="a proposed price list: a JSON list of prices (PriceChanged without envelope)",
    )
    p.add_argument(
        "--instead",
        action="store_true",
        help="with --prices: the proposal replaces every published price of its SKUs "
        "(default: only those of the same SKU, scope and effective_from)",
    )
    p.add_argument(
        "--period", type=period_key, help="only this period (2026-Q3), or a year's (2026)"
    )
    p.add_argument("--events", help="replay this JSON Lines file instead of Kafka")
    p.add_argument("--json", action="store_true", help="rows as JSON instead of a table")
    known_at_flag(p, with_as_of=False)
    jobs_flag(p)
    kafka_flags(p)
    p.set_defaults(func=cmd_simulate, distributor=None)


def proposal_of(path: Path) -> ProgramTerms:
    """The proposed terms of a program file; the envelope fields may be left out."""
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise UserError(f"cannot read the program file {path}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise UserError(f"the program file {path} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"the program file {path} must hold one JSON object")
    data.setdefault("event_type", "RebateProgramDefined")
    data.setdefault("event_id", str(uuid.uuid5(uuid.NAMESPACE_URL, path.name)))
    data.setdefault("occurred_at", datetime.now(UTC).isoformat())
    data.setdefault("source", "api")
    try:
        event = event_of(data)
    except InvalidEvent as exc:
        raise UserError(f"the program file {path}: {exc.detail}") from None
    if not isinstance(event, RebateProgramDefined):
        raise UserError(f"the program file {path} holds a {event.event_type}, not a program")
    try:
        return terms_of(event)
    except InvalidProgram as exc:
        raise UserError(str(exc)) from None


def cmd_simulate(args: argparse.Namespace) -> int:
    if args.prices is not None:
        from streams.cli.simulate_prices import simulate_prices

        return simulate_prices(args)
    if args.instead:
        raise UserError("--instead goes with --prices")
    proposal = proposal_of(Path(args.program))
    period = args.period

    def derive(stores: ChannelStores, now: datetime | None) -> tuple[ProgramTerms | None, Any]:
        today = stores.programs.get(proposal.program_id)
        rows = simulate(
            today,
            proposal,
            stores.rebate_sources(),
            distributors(stores),
            stores.closed_periods,
            period,
        )
        return today, rows

    derived = replay_of(args, None, derive).derived
    today = derived[0][0] if derived else None
    if today is not None and today.currency != proposal.currency:
        raise UserError(
            f"the proposal is in {proposal.currency}, program {today.program_id!r} in "
            f"{today.currency}: the difference would mix currencies"
        )
    rows = sorted(
        (row for _, job_rows in derived for row in job_rows),
        key=lambda r: (r.distributor_id, r.period),
    )
    if args.json:
        print_json(
            {
                "program_id": proposal.program_id,
                "today_defined": today is not None,
                "currency": proposal.currency,
                "rows": [simulated_row(row) for row in rows],
                "total": simulated_totals(rows, proposal.currency),
            }
        )
    else:
        _print_table(proposal, today, rows)
    return 0


def _print_table(
    proposal: ProgramTerms, today: ProgramTerms | None, rows: Sequence[Simulated]
) -> None:
    if today is None:
        print(f"program {proposal.program_id!r} is not defined today: nothing accrues under it")
    header = ("distributor", "period", "today rate", "today", "proposed rate", "proposed", "diff")
    lines = [header]
    for row in rows:
        lines.append(
            (
                row.distributor_id,
                row.period,
                "-" if row.today is None else str(row.today.result.tier_rate),
                str(row.today_rebate),
                "-" if row.proposed is None else str(row.proposed.result.tier_rate),
                str(row.proposed_rebate),
                str(row.difference),
            )
        )
    totals = simulated_totals(rows, proposal.currency)
    lines.append(("total", "", "", totals["today"], "", totals["proposed"], totals["difference"]))
    print_table(lines, left=2)
    print(f"amounts in {proposal.currency}")
