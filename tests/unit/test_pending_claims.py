"""The index of POS lines with claim lines waiting for them, by recorded day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.identity import sale_key
from projections.claims import PosClaims
from projections.keyvalue import DictStore
from projections.pending_claims import due_pos_lines, update_index
from tests.unit.claim_events import RECORDED, Channel, claim, example_channel, line, sale

WAIT = timedelta(days=30)


def index_of(pos_claims: dict[str, PosClaims]) -> DictStore[bool]:
    index: DictStore[bool] = DictStore()
    for claims in pos_claims.values():
        update_index(index, None, claims)
    return index


def keep_index(channel: Channel, index: DictStore[bool], step: Callable[[], object]) -> None:
    """Run `step` and bring the index up to date with the POS lines' claims it changed."""
    before = dict(channel.pos_claims)
    step()
    for key, after in channel.pos_claims.items():
        if before.get(key) != after:
            update_index(index, before.get(key), after)


def test_due_pos_lines_are_those_of_days_whose_wait_ran_out() -> None:
    channel = example_channel()
    index: DictStore[bool] = DictStore()
    day = timedelta(days=1)
    keep_index(channel, index, lambda: channel.claim(claim("C1", line(1, "T8", 5)), at=RECORDED))
    keep_index(
        channel, index, lambda: channel.claim(claim("C2", line(1, "T9", 5)), at=RECORDED + day)
    )
    keep_index(
        channel,
        index,
        lambda: channel.claim(claim("C3", line(1, "T8", 5)), at=RECORDED + 2 * day),
    )
    assert list(index.scan()) == [
        (f"D1|2026-04-20|{sale_key('D1', 'T8')}", True),
        (f"D1|2026-04-21|{sale_key('D1', 'T9')}", True),
        (f"D1|2026-04-22|{sale_key('D1', 'T8')}", True),
    ]
    assert list(due_pos_lines(index, "D1", RECORDED + WAIT - day)) == []
    assert list(due_pos_lines(index, "D1", RECORDED + WAIT)) == [sale_key("D1", "T8")]
    later = RECORDED + WAIT + 2 * day
    assert list(due_pos_lines(index, "D1", later)) == [sale_key("D1", "T8"), sale_key("D1", "T9")]
    assert list(due_pos_lines(index, "D2", later)) == []
    keep_index(channel, index, lambda: channel.expire("D1", "T8", RECORDED + WAIT + day))
    assert [key for key, _ in index.scan()] == [
        f"D1|2026-04-21|{sale_key('D1', 'T9')}",
        f"D1|2026-04-22|{sale_key('D1', 'T8')}",
    ]  # C3's line, recorded two days after C1's, still waits
    keep_index(channel, index, lambda: channel.sell(sale("T9", 5)))
    assert [key for key, _ in index.scan()] == [f"D1|2026-04-22|{sale_key('D1', 'T8')}"]


@settings(max_examples=80)
@given(
    st.lists(
        st.sampled_from(["claim1", "claim8", "claim9", "sell9", "expire8", "reverse1"]), max_size=12
    )
)
def test_the_index_kept_step_by_step_is_the_index_of_the_state(steps: list[str]) -> None:
    channel = example_channel()
    index: DictStore[bool] = DictStore()
    for hour, step in enumerate(steps):
        at = RECORDED + timedelta(hours=7 * hour)
        if step.startswith("claim"):
            made = claim(f"C{hour}", line(1, f"T{step[-1]}", 5), n=hour)
            keep_index(channel, index, partial(channel.claim, made, at=at))
        elif step == "sell9" and sale_key("D1", "T9") not in channel.sales:
            keep_index(channel, index, lambda: channel.sell(sale("T9", 5)))
        elif step == "expire8":
            expire = partial(channel.expire, "D1", "T8", at, timedelta(hours=10))
            keep_index(channel, index, expire)
        elif step == "reverse1" and sale_key("D1", "T1") in channel.sales:
            keep_index(channel, index, lambda: channel.reverse("D1", "T1"))
        assert list(index.scan()) == list(index_of(channel.pos_claims).scan())
