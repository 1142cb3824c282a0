"""Each authorization's cap given out and days left, flagged near either (docs/CLAIMS.md,
"Cap use and expiry"): read from its ledger by key, per distributor it names, over the
route and the CLI."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from projections.authorization_usage import NearThresholds, usage_rows
from streams.cli.claims import usage_lines
from tests.unit.claim_events import authorization, claim, line, sale
from tests.unit.test_claim_wiring import example

#: the worked example's A1 runs from 2026-04-01 to 2026-06-30
MAY = date(2026, 5, 1)


def fields(rows: list[dict[str, Any]], *names: str) -> list[tuple[Any, ...]]:
    return [tuple(row[name] for name in names) for row in rows]


def test_the_cap_given_out_is_the_ledgers_and_flags_the_deal_near_its_cap() -> None:
    feed = example()
    feed.claim(claim("C1", line(1, "T1", 60)))
    [row] = usage_rows(feed.stores, MAY, None)
    assert fields([row], "units_given", "units_left", "percent_used", "near") == [
        (60, 40, 60.0, [])
    ]
    feed.claim(claim("C2", line(1, "T2", 30)))  # 90 of 100: near
    [row] = usage_rows(feed.stores, MAY, None)
    assert fields([row], "units_given", "units_left", "percent_used", "near") == [
        (90, 10, 90.0, ["cap"])
    ]
    assert (row["authorization_id"], row["distributor_id"], row["shared_by"]) == ("A1", "D1", 1)
    assert (row["valid_to"], row["days_left"], row["skus"]) == ("2026-06-30", 60, ["X"])


def test_the_thresholds_are_settings() -> None:
    feed = example()
    feed.claim(claim("C1", line(1, "T1", 60)))
    strict = NearThresholds(cap_percent=50, expiry_days=61)
    assert fields(usage_rows(feed.stores, MAY, None, strict), "near") == [(["cap", "expiry"],)]
    assert fields(usage_rows(feed.stores, MAY, None), "near") == [([],)]


@pytest.mark.parametrize(
    ("today", "days_left", "near"),
    [
        (date(2026, 6, 16), 14, ["expiry"]),
        (date(2026, 6, 15), 15, []),
        (date(2026, 6, 30), 0, ["expiry"]),
        (date(2026, 7, 1), -1, []),  # past its last day: near nothing
        (None, None, []),  # nothing recorded yet: no "now"
    ],
)
def test_days_left_to_the_recorded_now(today: date | None, days_left: int | None, near: list[str]):
    [row] = usage_rows(example().stores, today, None)
    assert (row["days_left"], row["near"]) == (days_left, near)


def test_a_deal_without_a_cap_counts_what_it_gave_and_is_never_near_its_cap() -> None:
    feed = example()
    feed.send("authorizations", authorization("A2", n=2, quantity_cap=None))
    feed.claim(claim("C1", line(1, "T1", 60, authorization_id="A2")))
    rows = {row["authorization_id"]: row for row in usage_rows(feed.stores, MAY, None)}
    got = rows["A2"]
    assert (got["quantity_cap"], got["units_given"], got["units_left"]) == (None, 60, None)
    assert (got["percent_used"], got["near"]) == (None, [])
    assert rows["A1"]["units_given"] == 0


def test_a_deal_naming_two_distributors_shares_one_ledger_and_each_sees_its_own_rows() -> None:
    feed = example()
    shared = authorization("A2", n=2, distributor_ids=["D1", "D2"], quantity_cap=20)
    feed.send("authorizations", shared)
    feed.sell(sale("T7", 12, distributor_id="D2"))
    feed.claim(claim("C1", line(1, "T1", 10, authorization_id="A2")))
    feed.claim(claim("C9", line(1, "T7", 8, authorization_id="A2"), distributor_id="D2"))
    everyone = [
        row for row in usage_rows(feed.stores, MAY, None) if row["authorization_id"] == "A2"
    ]
    assert fields(everyone, "distributor_id", "units_given", "shared_by", "near") == [
        ("D1", 18, 2, ["cap"]),
        ("D2", 18, 2, ["cap"]),
    ]
    assert fields(usage_rows(feed.stores, MAY, "D2"), "authorization_id") == [("A2",)]
    assert usage_rows(feed.stores, MAY, "D3") == []


def test_the_cli_prints_a_row_a_deal_and_distributor() -> None:
    feed = example()
    feed.claim(claim("C1", line(1, "T1", 60), line(2, "T2", 30)))
    head, row = usage_lines(usage_rows(feed.stores, MAY, None))
    assert head[:3] == ["authorization", "distributor", "cap"]
    assert row == ["A1", "D1", "100", "90", "10", "90.0 %", "2026-06-30", "60", "cap"]
