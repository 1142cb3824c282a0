"""A move keeps the time its line was recorded, as text: the lines of a bundle share the
broker's time (its text made once), and each bundle's lines have their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from projections.channel import apply_message
from projections.positions import message_position
from schemas.codec import event_to_dict
from tests.unit.catalog import catalog_stores
from tests.unit.channel_cases import sale

FIRST = datetime(2026, 7, 7, 12, tzinfo=UTC)  # a day after the lines were sold (T0)


def test_each_bundles_lines_keep_their_own_recorded_time() -> None:
    stores = catalog_stores("SKU-1")
    recorded = [FIRST, FIRST + timedelta(seconds=1), FIRST, FIRST + timedelta(hours=3)]
    for offset, at in enumerate(recorded):
        lines = [sale(10 * offset + n, f"T{offset}-{n}", 1) for n in range(2)]
        raw = orjson.dumps([event_to_dict(line) for line in lines])
        apply_message(stores, raw, "D01", message_position("sales:0", offset), recorded_at=at)
    kept = sorted((move.line, move.recorded) for _, move in stores.moves.scan())
    assert kept == [
        (f"T{offset}-{n}", at.isoformat()) for offset, at in enumerate(recorded) for n in range(2)
    ]
