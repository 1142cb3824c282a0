"""Rebate inputs: accumulating qualifying lines, the events digest and the tally."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.rebates import QualifyingLine, RebateTally, accumulate, events_digest, tally_of

# --- inputs and digest ------------------------------------------------------------------------


def test_accumulate_sums_units_revenue_and_digests_ids() -> None:
    lines = [
        QualifyingLine("e1", 10, Decimal("12.50")),
        QualifyingLine("e2", -2, Decimal("12.00")),
    ]
    by_revenue = accumulate("revenue", lines)
    assert by_revenue.revenue == Decimal("101.00")
    assert by_revenue.volume == by_revenue.revenue
    assert by_revenue.units == 8 and by_revenue.event_count == 2
    assert by_revenue.digest == events_digest(["e2", "e1"])
    assert accumulate("units", lines).volume == Decimal(8)


def test_events_digest_is_sha256_of_the_sum_of_shake256_hashes() -> None:
    import hashlib

    def share(event_id: str) -> int:
        return int.from_bytes(hashlib.shake_256(event_id.encode()).digest(256), "big")

    total = (share("a") + share("b")) % 2**2048
    assert events_digest(["b", "a"]) == hashlib.sha256(total.to_bytes(256, "big")).hexdigest()
    assert events_digest([]) == hashlib.sha256(bytes(256)).hexdigest()
    uid = UUID(int=7, version=4)
    assert events_digest([uid]) == events_digest([str(uid)])
    assert events_digest(["a"]) != events_digest(["a", "a"])  # counted twice shows


@settings(max_examples=100)
@given(st.lists(st.uuids(), max_size=20), st.lists(st.uuids(), max_size=20))
def test_a_tally_adds_and_takes_out_events_like_the_digest_of_the_ids(
    kept: list[UUID], removed: list[UUID]
) -> None:
    """What makes statements incremental: the bucket's tally of every event less the
    tallies of the late ones digests exactly the on-time ids."""
    lines = {uid: QualifyingLine(str(uid), 2, Decimal("1.50")) for uid in [*kept, *removed]}
    everything = RebateTally()
    for line in [*kept, *removed]:
        everything = everything.plus(tally_of(lines[line]))
    on_time = everything
    for uid in removed:
        on_time = on_time.minus(tally_of(lines[uid]))
    expected = accumulate("units", [lines[uid] for uid in kept])
    assert on_time.inputs("units") == expected
    assert on_time.inputs("units").digest == events_digest(kept)
