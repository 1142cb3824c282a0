"""Inventory aging's cost per movement, beside the inventory reducer's on the same moves.

Every shipment and sale line updates two values of its (distributor, sku): the inventory
state (`projections.inventory.apply_movements`) and, since the agreements slice, the aging
state (`projections.inventory_aging.apply_moves`); the worker also encodes each changed
value to JSON for its changelog. This measures both, per movement, over a generated
channel's shipments and sales in their order, each under a position of its own, and prints
the aging state's cost as a ratio of the inventory reducer's (the baseline of the same run).
A second pair of rows takes the bound: a (distributor, sku) holding a year of receipt days
(`HORIZON_DAYS`), the most an aging value ever holds, receiving one more day a move.

    .venv/bin/python -m bench.aging_cost --weeks 26 --rounds 3
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import orjson

from bench.common import cpu_best_of
from domain.aging import HORIZON_DAYS
from projections.inventory import InventoryState, apply_movements
from projections.inventory_aging import AgingState, Basis, apply_moves
from projections.positions import Position
from schemas.events import SaleReported, ShipmentRecorded
from streams.generator import generate_channel

#: (distributor, sku, business time, sell_in, sell_through)
Movement = tuple[str, str, datetime, int, int]


def movements(weeks: int, seed: int) -> list[Movement]:
    found: list[Movement] = []
    for event in generate_channel(seed=seed, weeks=weeks):
        if isinstance(event, ShipmentRecorded):
            found.append((event.distributor_id, event.sku, event.shipped_at, event.quantity, 0))
        elif isinstance(event, SaleReported):
            found.append((event.distributor_id, event.sku, event.sold_at, 0, event.quantity))
    return found


def inventory_pass(moves: list[Movement], encode: bool) -> None:
    states: dict[tuple[str, str], InventoryState] = {}
    for offset, (distributor, sku, at, sell_in, sell_through) in enumerate(moves):
        key = (distributor, sku)
        state = states.get(key) or InventoryState(distributor, sku)
        state = apply_movements(state, ((at, sell_in, sell_through),), Position("b:0", offset))
        states[key] = state
        if encode:
            orjson.dumps(state.to_json())


def aging_pass(moves: list[Movement], encode: bool) -> None:
    states: dict[tuple[str, str], AgingState] = {}
    for offset, (distributor, sku, at, sell_in, sell_through) in enumerate(moves):
        key = (distributor, sku)
        state = states.get(key) or AgingState(distributor, sku)
        basis: Basis = "sell_in" if sell_in else "sell_through"
        quantity = sell_in or sell_through
        state = apply_moves(state, ((basis, quantity, at.date()),), Position("b:0", offset))
        states[key] = state
        if encode:
            orjson.dumps(state.to_json())


def full_year(moves: int) -> tuple[Callable[[], None], Callable[[], None]]:
    """Both reducers on one key that already holds a year of receipt days, a day more a move."""
    start = date(2025, 1, 1)
    aged = AgingState("D", "S")
    held = InventoryState("D", "S")
    for n in range(HORIZON_DAYS + 1):
        aged = apply_moves(aged, (("sell_in", 5, start + timedelta(days=n)),), None)
        held = apply_movements(held, ((_noon(start + timedelta(days=n)), 5, 0),), None)

    def aging() -> None:
        state = aged
        for n in range(moves):
            day = start + timedelta(days=HORIZON_DAYS + 1 + n)
            state = apply_moves(state, (("sell_in", 5, day),), Position("b:0", n))
            orjson.dumps(state.to_json())

    def inventory() -> None:
        state = held
        for n in range(moves):
            at = _noon(start + timedelta(days=HORIZON_DAYS + 1 + n))
            state = apply_movements(state, ((at, 5, 0),), Position("b:0", n))
            orjson.dumps(state.to_json())

    return inventory, aging


def _noon(day: date) -> datetime:
    return datetime.fromisoformat(f"{day.isoformat()}T12:00:00+00:00")


def again(run: Callable[[], Any]) -> Callable[[], Callable[[], Any]]:
    """The same run each round (it needs no fresh state)."""
    return lambda: run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=26, help="weeks of generated channel")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3, help="runs per figure (best kept)")
    args = parser.parse_args(argv)
    moves = movements(args.weeks, args.seed)
    print(f"{len(moves):,} movements of a {args.weeks}-week generated channel; CPU, best of "
          f"{args.rounds}")  # fmt: skip
    print(f"{'figure':<58} {'inventory':>10} {'aging':>10} {'ratio':>7}")
    rows = [
        ("reducer alone, µs a movement", False),
        ("reducer + JSON encode (the worker's write), µs a movement", True),
    ]
    for label, encode in rows:
        base = cpu_best_of(args.rounds, again(partial(inventory_pass, moves, encode))) / len(moves)
        aged = cpu_best_of(args.rounds, again(partial(aging_pass, moves, encode))) / len(moves)
        print(f"{label:<58} {base * 1e6:>10.2f} {aged * 1e6:>10.2f} {aged / base:>7.2f}")
    count = 2000
    inventory, aging = full_year(count)
    base = cpu_best_of(args.rounds, again(inventory)) / count
    aged = cpu_best_of(args.rounds, again(aging)) / count
    label = "a key holding a year of receipt days, + encode, µs a move"
    print(f"{label:<58} {base * 1e6:>10.2f} {aged * 1e6:>10.2f} {aged / base:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
