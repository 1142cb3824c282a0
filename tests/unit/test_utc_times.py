"""Times at the doors held in UTC: a run of times given with any offsets, converted one
after the other as the events of a bundle are, each gives its own instant in UTC (the
conversion keeps the last one it made, for a sale's sold_at after its equal occurred_at)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from schemas.types import UtcDatetime

_ADAPTER: TypeAdapter[datetime] = TypeAdapter(UtcDatetime)

OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
#: wall times close together (their offset replaced): a run holds equal ones often
WALLS = st.integers(min_value=0, max_value=6).map(
    lambda hours: datetime(2026, 3, 4, 10, tzinfo=UTC) + timedelta(hours=hours)
)


def expected(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@given(st.lists(st.tuples(WALLS, OFFSETS), min_size=1, max_size=12))
def test_each_time_of_a_run_is_its_own_instant_in_utc(
    times: list[tuple[datetime, timezone]],
) -> None:
    for wall, offset in times:
        text = wall.replace(tzinfo=offset).isoformat()
        for given_as in (text, datetime.fromisoformat(text)):
            held = _ADAPTER.validate_python(given_as)
            assert held.tzinfo is UTC
            assert held.isoformat() == expected(text).isoformat()


def test_the_same_wall_time_at_another_offset_is_another_instant() -> None:
    first = _ADAPTER.validate_python("2026-03-04T10:00:00+01:00")
    second = _ADAPTER.validate_python("2026-03-04T10:00:00Z")
    third = _ADAPTER.validate_python("2026-03-04T11:00:00+01:00")
    assert [first.isoformat(), second.isoformat(), third.isoformat()] == [
        "2026-03-04T09:00:00+00:00",
        "2026-03-04T10:00:00+00:00",
        "2026-03-04T10:00:00+00:00",
    ]
