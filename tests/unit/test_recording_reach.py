"""How far a worker's round has applied a distributor's partitions (`reach_of`): when a
statement may be recorded, and up to which recorded time its adjustments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.runners.recording import Reach
from streams.worker.rounds import NOTHING, reach_of

T = datetime(2026, 10, 20, 12, tzinfo=UTC)
MS = timedelta(milliseconds=1)
CHECKED = T + timedelta(seconds=3)


def test_a_partition_behind_has_applied_what_was_recorded_before_its_newest_ms() -> None:
    reach = reach_of(["sales:3"], set(), CHECKED, {"sales:3": T}.get)
    assert reach == Reach(T, T)
    assert reach.past(T - MS) and not reach.past(T)


def test_a_partition_read_to_its_end_is_past_any_close_but_whole_to_the_check() -> None:
    """Read to its end when checked: every close is past; but the stores are read after,
    when a batch appended since may be half applied: adjustments recorded before the
    check only."""
    later = {"sales:3": CHECKED + 5 * MS}
    reach = reach_of(["sales:3"], {"sales:3"}, CHECKED, later.get)
    assert reach == Reach(None, CHECKED)
    assert reach.past(T + timedelta(days=30))


def test_a_partition_never_applied_holds_everything() -> None:
    nothing: dict[str, datetime] = {}
    assert reach_of(["agreements:3"], set(), CHECKED, nothing.get) == Reach(NOTHING, NOTHING)
    assert reach_of(["agreements:3"], {"agreements:3"}, CHECKED, nothing.get) == Reach(
        None, CHECKED
    )


def test_the_reach_of_several_partitions_is_the_least() -> None:
    now = {"sales:3": T + 9 * MS, "agreements:3": T + 2 * MS}
    sources = ["sales:3", "agreements:3"]
    assert reach_of(sources, set(), CHECKED, now.get) == Reach(T + 2 * MS, T + 2 * MS)
    assert reach_of(sources, {"agreements:3"}, CHECKED, now.get) == Reach(T + 9 * MS, T + 9 * MS)
    assert reach_of(sources, set(sources), CHECKED, now.get) == Reach(None, CHECKED)
