"""What `replay --known-at` and `simulate` (`--program`, `--prices`) cost against a plain
replay of the same file.

One run, one generated channel written as JSON Lines, each row `replay_of` as the command
runs it (`--jobs N`, snapshot built), timed from the file to the result:

1. replay: the baseline (a warm-up round first, then the rows in turn, best of --repeat);
2. replay --known-at LAST: every line read, its recorded time judged, all applied (the
   cost of the known-at rule alone);
3. replay --known-at MIDDLE: the same read, about half applied;
4. simulate: the replay plus the proposal and today's terms priced on every job's stores;
5. simulate --prices: two replays (today's prices, then a proposed list raising every list
   floor by 10 %: the history rewritten), each job's pricing figures derived.

Figures go to stdout (events/s and the ratio to row 1), progress to stderr; nothing is
asserted.

    .venv/bin/python -m bench.what_if_replay --weeks 26 --jobs 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from projections.price_simulation import pricing_figures
from projections.rebate_simulation import simulate
from projections.snapshot import distributors
from projections.stores import ChannelStores
from schemas.codec import encode_event
from schemas.events import PriceChanged
from streams.cli.main import build_parser
from streams.cli.simulate import proposal_of
from streams.cli.simulate_prices import read_proposal
from streams.cli.support import replay_of
from streams.generator import generate_channel

PROPOSAL = {
    "program_id": "VPA-2026-ST", "distributor_ids": "all", "basis": "sell_through",
    "measure": "revenue", "period": "quarter", "tier_mode": "retroactive", "currency": "USD",
    "tiers": [{"threshold": "0", "rate": "0.01"}, {"threshold": "100000", "rate": "0.03"}],
}  # fmt: skip


def raised_floors(events: list[Any]) -> list[dict[str, str]]:
    """Every list price of the history with its floor 10 % higher, at its own point."""
    return [
        {"sku": e.sku, "distributor_cost": str(e.distributor_cost), "currency": e.currency,
         "floor_price": str((e.floor_price * Decimal("1.1")).quantize(Decimal("0.01"))),
         "effective_from": e.effective_from.isoformat()}
        for e in events
        if isinstance(e, PriceChanged) and e.distributor_id is None
    ]  # fmt: skip


def best_times(runs: list[Callable[[], Any]], repeat: int) -> list[float]:
    """The best of `repeat` rounds of each run, in seconds; a warm-up round first (imports,
    caches) and the rows taken in turn in each round, so a change of load touches all."""
    for run in runs:
        run()
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for index, run in enumerate(runs):
            start = time.perf_counter()
            run()
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=26, help="weeks of generated channel")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (best taken)")
    args = parser.parse_args(argv)
    events = generate_channel(seed=7, weeks=args.weeks)
    times = sorted(e.recorded_at or e.business_time for e in events)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        path.write_bytes(b"".join(encode_event(e) + b"\n" for e in events))
        program = Path(tmp) / "proposal.json"
        program.write_bytes(orjson.dumps(PROPOSAL))
        proposal = proposal_of(program)

        def derive(stores: ChannelStores, now: Any) -> Any:
            today = stores.programs.get(proposal.program_id)
            return simulate(
                today,
                proposal,
                stores.rebate_sources(),
                distributors(stores),
                stores.closed_periods,
            )

        def replay(*flags: str, with_derive: bool = False) -> Callable[[], Any]:
            command = ["replay", "--events", str(path), "--jobs", str(args.jobs), *flags]
            parsed = build_parser().parse_args(command)
            return lambda: replay_of(parsed, None, derive if with_derive else None)

        prices = Path(tmp) / "prices.json"
        prices.write_bytes(orjson.dumps(raised_floors(events)))
        priced = build_parser().parse_args(
            ["simulate", "--prices", str(prices), "--events", str(path), "--jobs", str(args.jobs)]
        )
        price_list = read_proposal(priced)

        def what_if_prices() -> Any:
            def figures(stores: ChannelStores, now: Any) -> Any:
                return pricing_figures(stores, now)

            return replay_of(priced, None, figures), replay_of(priced, None, figures, price_list)

        middle = times[len(times) // 2]
        rows = [
            ("replay (baseline)", replay()),
            ("replay --known-at the last", replay("--known-at", times[-1].isoformat())),
            ("replay --known-at the middle", replay("--known-at", middle.isoformat())),
            ("simulate", replay(with_derive=True)),
            ("simulate --prices (two replays)", what_if_prices),
        ]  # fmt: skip
        print(f"{len(events):,} events, {args.weeks} weeks, --jobs {args.jobs}", file=sys.stderr)
        best = best_times([run for _, run in rows], args.repeat)
        measured = list(zip([name for name, _ in rows], best, strict=True))
    base = measured[0][1]
    print(f"{'row':<32} {'seconds':>8} {'events/s':>10} {'x baseline':>10}")
    for name, seconds in measured:
        rate = len(events) / seconds
        print(f"{name:<32} {seconds:>8.2f} {rate:>10,.0f} {seconds / base:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
