"""The dashboard says what it shows: money with its currency, the rebate rows closest to
their next tier first, what the violations list holds, a partial period drawn as such."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from schemas.events import SaleReported
from streams.auth import TokenRegistry
from streams.generator import generate_channel, malformed_lines
from tests.e2e.dashboard_page import getter, page_matches_api, shown

pytestmark = pytest.mark.browser

REBATE_LAYOUT = """
const box = document.getElementById("rebate-rows");
const rows = [...box.querySelectorAll(".rebate")];
return {order: rows.map((r) => r.dataset.key), box: box.getBoundingClientRect().bottom,
        bottoms: rows.map((r) => r.getBoundingClientRect().bottom)};
"""


def to_next_tier(row: dict[str, Any]) -> Decimal:
    """What a rebate row still misses, as a share of its next threshold (top tier: ∞)."""
    if row["next_threshold"] is None:
        return Decimal("Infinity")
    return Decimal(row["gap_to_next"]) / Decimal(row["next_threshold"])


def test_the_page_says_what_it_shows(browser, live_app):
    """Money with its currency, the rebates to act on first and all in view, the violation
    list's note, the running week marked partial, rejected lines with their sender."""
    app = live_app(TokenRegistry([]))
    app.feed(generate_channel(seed=7, weeks=6))
    app.feed_raw(raw for raw, _ in malformed_lines())
    browser.get(app.url + "/dashboard")
    get = getter(app.url)
    view = page_matches_api(browser, get)  # amounts with currencies, senders, chart labels

    assert view["channel"]["value"].endswith(" USD")
    rebates = get("/api/rebates?status=open&limit=10000")["rows"]
    assert len(rebates) > 5 and any(r["next_threshold"] is None for r in rebates)
    layout = browser.execute_script(REBATE_LAYOUT)
    closest_first = sorted(rebates, key=to_next_tier)
    keys = [f"{r['program_id']}|{r['distributor_id']}|{r['period']}" for r in closest_first]
    assert layout["order"] == keys
    assert max(layout["bottoms"]) <= layout["box"] + 1  # no row cut off below the box
    by_revenue = next(
        r for r in closest_first if r["measure"] == "revenue" and r["next_threshold"] is not None
    )
    key = keys[closest_first.index(by_revenue)]
    gap = browser.find_element(By.CSS_SELECTOR, f'#rebate-rows [data-key="{key}"] .gap').text
    gap_to, at = Decimal(by_revenue["gap_to_next"]), Decimal(by_revenue["next_threshold"])
    assert gap == f"{gap_to:,} USD to the next tier (at {at:,} USD)"  # revenue is money
    short = sum(r["next_threshold"] is not None for r in rebates)
    note = browser.find_element(By.ID, "rebates-note").text
    assert note == f"{len(rebates)} open periods, {short} short of a next tier: the closest first"

    violations = get("/api/violations?limit=50")
    first = violations["rows"][0]
    price = browser.find_element(
        By.CSS_SELECTOR, f'[data-violation="{first["violation_id"]}"] [data-field="unit_price"]'
    )
    assert shown(price.text) == f"{first['unit_price']} {first['currency']}"
    listed = browser.find_element(By.ID, "violation-list-note").text
    assert listed == f"all {violations['total']} violations listed; scroll the table to see them"

    partial = get("/api/sell-through?granularity=week&limit=1")["partial_period"]
    assert view["chart"][-1][0] == f"{partial} (partial)"
    assert partial in browser.find_element(By.ID, "sell-through-note").text

    letters = get("/api/dead-letters/lines?order=newest&limit=10")["rows"]
    unkeyed = [i for i, row in enumerate(letters) if row["key"] is None]
    assert unkeyed and all(view["rejected"][i][1] == "D01" for i in unkeyed[:-1])
    assert view["rejected"][unkeyed[-1]][1] == "–"  # not JSON naming a distributor


def test_a_rejected_line_names_its_door_and_file_line(browser, live_app):
    """An event's rejected line shows the door it came in by and where in its file (not the
    topic it was read from); bytes that were no event, the topic."""
    app = live_app(TokenRegistry([]))
    events = generate_channel(seed=7, weeks=2)
    sale = next(event for event in events if isinstance(event, SaleReported))
    resent = sale.model_copy(  # its transaction id again, another quantity, from a CSV file
        update={"event_id": uuid.uuid4(), "quantity": sale.quantity + 1, "source": "csv",
                "source_ref": "week.csv:4"}
    )  # fmt: skip
    app.feed([*events, resent])
    app.feed_raw([b"{not json"])
    browser.get(app.url + "/dashboard")
    view = page_matches_api(browser, getter(app.url))
    listed = [row[2:] for row in view["rejected"]]
    assert listed[:2] == [["invalid_json", "test"], ["conflicting_duplicate", "csv week.csv:4"]]
    assert ["conflicting_duplicate", "api"] in listed[2:]  # the generator's: a door, no file
