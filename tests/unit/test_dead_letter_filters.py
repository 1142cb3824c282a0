"""`deadletters` with a filter that matches no letter (a typo'd id: D7 for D07) says so and
names the values the letters have, rather than listing nothing in silence."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from schemas.deadletter import DeadLetter
from streams.cli.deadletters import unmatched
from streams.ingest.deadletters import StoredDeadLetter

AT = datetime(2026, 3, 2, tzinfo=UTC)


def stored(offset: int, reason: str, key: str, source: str) -> StoredDeadLetter:
    letter = DeadLetter.of(b"x", reason, "why", source, AT, partition=0, offset=offset, key=key)
    return StoredDeadLetter(0, offset, letter)


EVERY = [
    stored(1, "unknown_sku", "D07", "t.sales"),
    stored(2, "bad_date", "D01", "t.sales"),
    stored(3, "unknown_sku", "D01", "t.shipments"),
]


def filters(
    reason: str | None = None, distributor: str | None = None, source: str | None = None
) -> argparse.Namespace:
    return argparse.Namespace(reason=reason, distributor=distributor, source=source)


def test_a_distributor_no_letter_has_is_named_with_those_they_have() -> None:
    said = unmatched(filters(distributor="D7"), EVERY)
    assert said == "no dead letter has distributor 'D7'; those they have: D01, D07\n"


def test_each_filter_matching_nothing_is_named() -> None:
    said = unmatched(filters(reason="unknown-sku", source="edi867", distributor="D01"), EVERY)
    assert said.splitlines() == [
        "no dead letter has reason 'unknown-sku'; those they have: bad_date, unknown_sku",
        "no dead letter has source 'edi867'; those they have: t.sales, t.shipments",
    ]


def test_filters_each_matching_some_say_nothing() -> None:
    assert unmatched(filters(reason="bad_date", distributor="D07"), EVERY) == ""
