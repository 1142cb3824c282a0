"""Compliance on an agreement's calendar, against the seed's: the cost of one distributor's
reporting periods, and of its commitments.

One distributor with `--years` of weekly reports (each the Tuesday after its week). The
baseline is the seed calendar (no agreement: `schedule_at(None)`); beside it the same
reports under an agreement that changes its schedule every year (weekly, then monthly,
...), whose calendar asks the timeline the version of each period's last day. Commitments:
one read of `commitment_rows` for the distributor (six periods, a few buckets each), which
does not grow with the history. Prints the time per read and the ratio to the baseline.

    .venv/bin/python -m bench.compliance_cost --years 3 --rounds 5
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from projections.agreement_timeline import AgreementTimeline, amend, sign
from projections.commitment_reads import commitment_rows
from projections.report_compliance import compliance_periods, schedule_at
from projections.stores import ChannelStores
from projections.submitted_reports import ReportState
from tests.unit.agreement_events import SIGNED, amended, at, signed

START = date(2024, 1, 1)  # a Monday


def reports(years: int) -> list[ReportState]:
    found = []
    for week in range(52 * years):
        monday = START + timedelta(weeks=week)
        sent = datetime.combine(monday + timedelta(days=8), datetime.min.time(), UTC)
        found.append(ReportState("D1", f"R{week}", monday, monday + timedelta(days=6), 1, sent,
                                 f"e{week}"))  # fmt: skip
    return found


def timeline(years: int) -> AgreementTimeline:
    """Signed for the whole span, weekly; each year from the second alternates the schedule."""
    end = date(START.year + years, 12, 31)
    line = sign(None, signed(term_start=START, term_end=end), SIGNED, None)
    for year in range(1, years + 1):
        frequency = "monthly" if year % 2 else "weekly"
        schedule = {"frequency": frequency, "due_day": 5 if frequency == "monthly" else 3}
        effective = date(START.year + year, 1, 1)
        change = amended(f"M{year}", effective, n=year, reporting=schedule)
        line = amend(line, change, at(effective - timedelta(days=30)), None)
    return line


def per_read(read: Callable[[], Any], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        read()
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sent = reports(args.years)
    now = datetime(START.year + args.years, 1, 20, tzinfo=UTC)
    agreement = timeline(args.years)
    seed = per_read(lambda: compliance_periods(sent, None, now, schedule_at(None)), args.rounds)
    agreed = per_read(lambda: compliance_periods(sent, None, now, schedule_at(agreement)),
                      args.rounds)  # fmt: skip
    periods = len(compliance_periods(sent, None, now, schedule_at(agreement)))
    stores = ChannelStores()
    stores.agreements.put("D1", agreement)
    commitments = per_read(lambda: commitment_rows(stores, now, "D1"), args.rounds)
    print(f"{len(sent)} weekly reports, {periods} periods under the agreement")
    print(f"seed calendar      {seed * 1e3:8.2f} ms per read (baseline)")
    print(f"agreement calendar {agreed * 1e3:8.2f} ms per read ({agreed / seed:.2f}x)")
    print(f"commitments        {commitments * 1e3:8.3f} ms per distributor read")


if __name__ == "__main__":
    main()
