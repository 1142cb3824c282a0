"""`channelflow simulate --prices FILE.json`: the history replayed twice, under today's
prices and under a proposed price list, nothing published; per distributor, the sale lines
flagged, the rebate accrued and the price protection owed under each, and the difference
(projections/price_proposal.py, projections/price_simulation.py)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from projections.price_proposal import InvalidProposal, PriceProposal, proposal_of
from projections.price_simulation import (
    LABELS,
    PriceComparison,
    PricingFigures,
    compare,
    comparison_row,
    merged,
    pricing_figures,
)
from projections.stores import ChannelStores
from streams.cli.support import UserError, print_json, replay_of, settings_of
from streams.cli.tables import print_table


def read_proposal(args: argparse.Namespace) -> PriceProposal:
    """The proposal in `--prices`, its prices announced at the earliest time a replay
    accepts (CHANNELFLOW_DATE_FLOOR): never late, and moving no clock."""
    path = Path(args.prices)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read the price file {path}: {exc.strerror}") from None
    announced = settings_of(args).time_rules().floor
    try:
        return proposal_of(raw, announced, instead=args.instead)
    except InvalidProposal as exc:
        raise UserError(f"the price file {path}: {exc}") from None


def simulate_prices(args: argparse.Namespace) -> int:
    proposal = read_proposal(args)
    period = args.period

    def derive(stores: ChannelStores, now: datetime | None) -> dict[str, PricingFigures]:
        return pricing_figures(stores, now, period)

    today = merged(replay_of(args, None, derive).derived)
    proposed = merged(replay_of(args, None, derive, proposal).derived)
    rows = compare(today, proposed)
    if args.json:
        print_json(
            {
                "prices": len(proposal.prices),
                "instead": proposal.instead,
                "period": period,
                "rows": [comparison_row(row) for row in rows],
            }
        )
    else:
        _print_tables(rows)
    return 0


def _print_tables(rows: Sequence[PriceComparison]) -> None:
    flags: list[list[str]] = [["distributor", "violations", "proposed", "diff", *LABELS]]
    for row in rows:
        today, proposed = row.today.violations, row.proposed.violations
        by_label = [str(a) if a == b else f"{a}->{b}" for a, b in row.flags().values()]
        flags.append(
            [row.distributor_id, str(today), str(proposed), _signed(proposed - today), *by_label]
        )
    print_table(flags)
    print()
    money = [["distributor", "currency", "rebate", "proposed", "diff"]]
    money[0] += ["protection", "proposed", "diff"]
    for row in rows:
        rebate, protection = row.amounts("rebate"), row.amounts("protection")
        for currency in sorted({*rebate, *protection}):
            cells = [*_money(rebate.get(currency)), *_money(protection.get(currency))]
            money.append([row.distributor_id, currency, *cells])
    print_table(money, left=2)
    print("(rebates are figured from the lines' own prices: a price list does not move them)")


def _money(pair: tuple[Decimal, Decimal] | None) -> tuple[str, str, str]:
    if pair is None:
        return "-", "-", "-"
    today, proposed = pair
    return str(today), str(proposed), _signed(proposed - today)


def _signed(value: int | Decimal) -> str:
    return f"+{value}" if value > 0 else str(value)
