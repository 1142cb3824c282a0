"""A rejected line's dead letter names the door it came in by and where it was in its file,
whether the gateway rejected it (a bad quantity) or the worker did (an unknown SKU), and
`/api/dead-letters/lines?source=` finds it by that door."""

from __future__ import annotations

from typing import Any

from tests.unit.api.ingest_api import WEEKLY, Api, csv_text


def letters(api: Api, **query: str) -> list[dict[str, Any]]:
    found = "&".join(f"{name}={value}" for name, value in query.items())
    body = api.get(f"/api/dead-letters/lines?{found}")
    assert body["total"] == len(body["rows"]), body
    rows: list[dict[str, Any]] = body["rows"]
    return rows


def test_csv_lines_are_found_by_their_door_and_name_their_line(api):
    body = csv_text(
        "C-1,RES-1,WIDGET-100,1,12.50,USD,2026-04-07",
        "C-2,RES-1,WIDGET-100,abc,12.50,USD,2026-04-07",  # the gateway rejects it
        "C-3,RES-1,NO-SUCH-SKU,1,12.50,USD,2026-04-07",  # the worker does
    )
    api.ok("/api/ingest/csv", body, filename="week.csv")
    api.ok("/api/ingest/edi", WEEKLY.replace(b"WIDGET-100", b"WIDGET-999", 1))
    found = letters(api, source="csv")
    assert sorted((row["reason"], row["door"], row["source_ref"]) for row in found) == [
        ("bad_quantity", "csv", "week.csv:3"),
        ("unknown_sku", "csv", "week.csv:4"),
    ]
    # the topic it was read from still narrows, as it did
    assert {row["source"] for row in found} == {"rejections", "sales"}
    assert [row["source_ref"] for row in letters(api, source="rejections")] == ["week.csv:3"]
    x12 = letters(api, source="edi867")
    assert [row["door"] for row in x12] == ["edi867"] and "segment" in x12[0]["source_ref"]
    assert letters(api, source="edi852") == []
