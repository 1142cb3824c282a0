"""The POS lines and flagged sales the worker writes to its changelog leave their times and
event ids to orjson (`pos_to_changelog`, `FlaggedSale.to_changelog`): the bytes are those
of `to_json`'s text, and they read back as the same value."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import orjson
from hypothesis import given
from hypothesis import strategies as st

from domain.claim_rules import PosLine
from projections.claims import pos_from_json, pos_to_changelog, pos_to_json
from projections.price_rules import FlaggedSale, Severity
from streams.worker.stores import store_layouts

#: UTC times as the stores hold them, with and without microseconds (hypothesis takes
#: naive bounds and adds the zone)
EARLIEST, LATEST = datetime(1990, 1, 1), datetime(2100, 1, 1)  # noqa: DTZ001
TIMES = st.datetimes(EARLIEST, LATEST, timezones=st.just(UTC))
IDS = st.uuids()
TEXT = st.text(st.characters(codec="utf-8"), max_size=8)
MAYBE = st.none() | TEXT

POS_LINES = st.builds(
    PosLine, TEXT, TEXT, TEXT, st.integers(-(10**6), 10**6), TEXT, MAYBE, TIMES, TEXT, IDS, MAYBE
)
AMOUNTS = st.decimals(allow_nan=False, allow_infinity=False, places=2, max_value=10**9)
FLAGGED = st.builds(
    FlaggedSale,
    st.sampled_from(["violation", "unpriced"]),
    TEXT, TEXT, TEXT, TEXT, TIMES, st.integers(0, 10**6), AMOUNTS, TEXT,
    st.none() | AMOUNTS, st.none() | st.sampled_from(list(Severity)),
)  # fmt: skip


@given(POS_LINES)
def test_a_pos_line_is_written_as_its_json_text(pos: PosLine) -> None:
    written = orjson.dumps(pos_to_changelog(pos))
    assert written == orjson.dumps(pos_to_json(pos))
    assert pos_from_json(orjson.loads(written)) == pos


@given(FLAGGED)
def test_a_flagged_sale_is_written_as_its_json_text(sale: FlaggedSale) -> None:
    written = orjson.dumps(sale.to_changelog())
    assert written == orjson.dumps(sale.to_json())
    assert FlaggedSale.from_json(orjson.loads(written)) == sale


def test_the_worker_writes_them_so() -> None:
    layouts = store_layouts(4)
    assert layouts["pos_lines"].encode is pos_to_changelog
    assert layouts["unpriced"].encode == layouts["violations"].encode == FlaggedSale.to_changelog
    sale = FlaggedSale(
        "unpriced", "D1", "T1", "R1", "X", datetime(2026, 4, 6, 15, 0, 0, 5, tzinfo=UTC), 3,
        Decimal("95.00"), "USD",
    )  # fmt: skip
    assert b'"at":"2026-04-06T15:00:00.000005+00:00"' in orjson.dumps(sale.to_changelog())
