"""Rebate accruals under agreements that bind programs: the cost of one distributor's
accruals with no agreement, with one binding the program all year, and with one whose
amendments bind it for part of each quarter (the days bound read from the day tallies).

One distributor with `--lines` sale lines a day over 2026 (one SKU, USD); a quarterly and
a yearly program of revenue. Prints the time per read of `accruals` (both programs, every
period) and the ratio to the baseline without an agreement. The partial case reads each
period's days bound, so it grows with the days of a period, never with the lines.

    .venv/bin/python -m bench.binding_cost --lines 20 --rounds 5
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bench.compliance_cost import per_read
from domain.rebates import ProgramTerms, TierTerm
from projections.agreement_timeline import AgreementTimeline, amend, sign
from projections.inventory import Move
from projections.movements import record_moves
from projections.rebate_accruals import accruals
from projections.stores import ChannelStores
from tests.unit.agreement_events import SIGNED, amended, at, signed


def program(program_id: str, period: str) -> ProgramTerms:
    return ProgramTerms(
        program_id=program_id, distributor_ids="all", basis="sell_through", measure="revenue",
        period=period, tiers=(TierTerm(Decimal(0), Decimal("0.02")),),  # type: ignore[arg-type]
        tier_mode="retroactive", currency="USD",
    )  # fmt: skip


PROGRAMS = (program("VPA-Q", "quarter"), program("VPA-Y", "year"))


def channel(lines: int) -> ChannelStores:
    stores = ChannelStores()
    day = date(2026, 1, 1)
    while day.year == 2026:
        moves = []
        for n in range(lines):
            when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) + timedelta(seconds=n)
            event = f"{day.isoformat()}-{n}"
            move = Move(when.isoformat(), 0, 1, "10.00", "USD", event, when.isoformat(), None,
                        event, "R1")  # fmt: skip
            moves.append(("SKU-1", when, move))
        record_moves(stores, "D1", moves, None)
        day += timedelta(days=1)
    return stores


def whole() -> AgreementTimeline:
    bound = [p.program_id for p in PROGRAMS]
    return sign(None, signed(program_ids=bound), SIGNED, None)


def partial() -> AgreementTimeline:
    """Bound from the 15th of each quarter's second month, unbound from each quarter's start."""
    line = sign(None, signed(program_ids=[]), SIGNED, None)
    bound = [p.program_id for p in PROGRAMS]
    for quarter in range(4):
        start, middle = date(2026, 3 * quarter + 1, 1), date(2026, 3 * quarter + 2, 15)
        for n, (effective, ids) in enumerate(((start, []), (middle, bound))):
            if effective == date(2026, 1, 1):
                continue
            change = amended(f"M{quarter}-{n}", effective, n=10 * quarter + n, program_ids=ids)
            line = amend(line, change, at(effective), None)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20, help="sale lines a day")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    stores = channel(args.lines)

    def read() -> int:
        sources = stores.rebate_sources()
        return len(accruals(PROGRAMS, sources, ["D1"], stores.closed_periods))

    timings = {}
    for name, timeline in (("no agreement", None), ("bound all year", whole()),
                           ("bound in part", partial())):  # fmt: skip
        if timeline is not None:
            stores.agreements.put("D1", timeline)
        timings[name] = (per_read(read, args.rounds), read())
    base = timings["no agreement"][0]
    print(f"{args.lines * 365} lines over 2026, two programs (a quarterly, a yearly)")
    for name, (seconds, rows) in timings.items():
        print(f"{name:15} {seconds * 1e3:8.2f} ms per read, {rows} rows ({seconds / base:.2f}x)")


if __name__ == "__main__":
    main()
