"""The dashboard in headless Chromium: the numbers on the page are the API's, and follow it.

Each test opens the page, waits until what it shows equals what the JSON API answers at
that moment (per-distributor stock, value and weeks of supply, violations by severity,
open rebate accruals, data quality), then changes the data and waits again, without
reloading the page. Against the embedded runner and against a Kafka worker alike.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from domain.roles import Role
from schemas.events import SaleReported
from streams.auth import TokenRegistry, token_hash
from streams.generator import generate_channel, malformed_lines
from tests.integration.conftest import REPO, WorkerProcess, free_port
from tests.integration.helpers import (
    expected_snapshot,
    is_reference,
    order_independent_channel,
    publish,
    publish_reference_first,
)

pytestmark = pytest.mark.browser

Getter = Callable[[str], Any]
View = dict[str, Any]

#: what the test reads off the page, in one script run (textContent as displayed)
READ_PAGE = """
const text = (node) => node ? node.textContent.trim() : null;
const table = (selector, fields) => Object.fromEntries(
  [...document.querySelectorAll(selector)].map((row) => [
    row.dataset.distributor,
    Object.fromEntries(fields.map((f) => [f, text(row.querySelector(`[data-field="${f}"]`))])),
  ]));
return {
  inventory: table("#inventory-rows tr",
    ["expected_on_hand", "value", "weeks_of_supply", "sold_last_4_weeks"]),
  channel: {expected_on_hand: text(document.getElementById("kpi-on-hand")),
            value: text(document.getElementById("kpi-value")),
            weeks_of_supply: text(document.getElementById("kpi-weeks"))},
  severities: Object.fromEntries([...document.querySelectorAll("#severity-counts [data-severity]")]
    .map((b) => [b.dataset.severity, text(b.querySelector(".count"))])),
  rebates: Object.fromEntries([...document.querySelectorAll("#rebate-rows .rebate")]
    .map((r) => [r.dataset.key, text(r.querySelector(".accrued"))])),
  quality: table("#quality-rows tr", ["accepted", "duplicates", "conflicts", "rejected",
    "reports_on_time", "reports_late", "weeks_missing"]),
  resellers: table("#reseller-rows tr",
    ["onboarded", "active_90d", "new_this_quarter", "not_onboarded"]),
  rejected: [...document.querySelectorAll("#rejected-rows tr")].map((row) => [row.dataset.where,
    ...["distributor_id", "reason"].map((f) => text(row.querySelector(`[data-field="${f}"]`)))]),
  chart: (() => {
    const chart = window.Chart && window.Chart.getChart("sell-through-chart");
    if (!chart) return null;
    const [sellIn, sellThrough] = chart.data.datasets;
    return chart.data.labels.map((period, i) => [period, sellIn.data[i], sellThrough.data[i]]);
  })(),
};
"""
INVENTORY_FIELDS = ("expected_on_hand", "value", "weeks_of_supply", "sold_last_4_weeks")
QUALITY_FIELDS = (
    "accepted", "duplicates", "conflicts", "rejected",
    "reports_on_time", "reports_late", "weeks_missing",
)  # fmt: skip
RESELLER_FIELDS = ("onboarded", "active_90d", "new_this_quarter", "not_onboarded")


def shown(value: Any) -> str | None:
    """A value as the page shows it, separators removed; None for the page's dash."""
    if value is None or value == "–":
        return None
    return str(value).replace(",", "")


def page_view(driver: WebDriver) -> View:
    raw = driver.execute_script(READ_PAGE)
    return {
        "inventory": {
            d: {f: shown(v) for f, v in row.items()} for d, row in raw["inventory"].items()
        },
        "channel": {f: shown(v) for f, v in raw["channel"].items()},
        "severities": {s: shown(v) for s, v in raw["severities"].items()},
        "rebates": {k: shown(v) for k, v in raw["rebates"].items()},
        **{
            section: {d: {f: shown(v) for f, v in row.items()} for d, row in raw[section].items()}
            for section in ("quality", "resellers")
        },
        "chart": raw["chart"],
        "rejected": raw["rejected"],
    }


def with_currency(row: dict[str, Any], field: str) -> str | None:
    """An amount as the page shows it: with its currency (the row's)."""
    amount = shown(row[field])
    return None if amount is None else f"{amount} {row['currency'] or '(mixed currencies)'}"


def sent_by(row: dict[str, Any]) -> str:
    """The distributor a rejected line was sent by, as the page shows it: the message key
    on a topic keyed by distributor, else the one its original JSON names."""
    topic = row["source"].rsplit(".", 1)[-1]
    if row["key"] is not None and topic in ("shipments", "sales", "inventory", "resellers",
                                            "rejections"):  # fmt: skip
        return str(row["key"])
    try:
        original = orjson.loads(row["original"])
    except orjson.JSONDecodeError:
        return "–"
    named = original.get("distributor_id") if isinstance(original, dict) else None
    return named.strip() if isinstance(named, str) else "–"


def api_view(get: Getter) -> View:
    summary = get("/api/inventory/summary?limit=10000")
    return {
        "inventory": {
            row["distributor_id"]: {
                f: with_currency(row, f) if f == "value" else shown(row[f])
                for f in INVENTORY_FIELDS
            }
            for row in summary["rows"]
        },
        "channel": {
            "expected_on_hand": shown(summary["channel"]["expected_on_hand"]),
            "value": with_currency(summary["channel"], "value"),
            "weeks_of_supply": shown(summary["channel"]["weeks_of_supply"]),
        },
        "severities": {
            row["severity"]: shown(row["count"]) for row in get("/api/violations/summary")["rows"]
        },
        "rebates": {
            f"{r['program_id']}|{r['distributor_id']}|{r['period']}": with_currency(r, "rebate")
            for r in get("/api/rebates?status=open&limit=10000")["rows"]
        },
        "quality": {
            row["distributor_id"]: {f: shown(row[f]) for f in QUALITY_FIELDS}
            for row in get("/api/quality?limit=10000")["rows"]
        },
        "resellers": {
            row["distributor_id"]: {f: shown(row[f]) for f in RESELLER_FIELDS}
            for row in get("/api/resellers?limit=10000")["rows"]
        },
        "chart": weekly_totals(get("/api/sell-through?granularity=week&limit=10000")),
        "rejected": [
            [f"{row['partition']}@{row['offset']}", sent_by(row), row["reason"]]
            for row in get("/api/dead-letters/lines?order=newest&limit=10")["rows"]
        ],
    }


def weekly_totals(page: dict[str, Any]) -> list[list[Any]]:
    """[period, sell-in, sell-through] per week over the distributors the rows cover; the
    week still running labelled as partial."""
    totals: dict[str, list[int]] = {}
    for row in page["rows"]:
        bucket = totals.setdefault(row["period"], [0, 0])
        bucket[0] += row["sell_in"]
        bucket[1] += row["sell_through"]
    label = {page["partial_period"]: f"{page['partial_period']} (partial)"}
    return [[label.get(period, period), *totals[period]] for period in sorted(totals)]


def getter(base: str, token: str | None = None) -> Getter:
    def get(path: str) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(base + path, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            return orjson.loads(response.read())

    return get


def page_matches_api(driver: WebDriver, get: Getter, timeout: float = 45) -> View:
    """Wait until the page shows what the API answers; returns that view."""
    deadline = time.monotonic() + timeout
    while True:
        api, page = api_view(get), page_view(driver)
        if page == api and api["inventory"]:
            return api
        if time.monotonic() > deadline:
            raise AssertionError(f"the page never matched the API:\npage {page}\napi  {api}")
        time.sleep(0.5)


def mark_page(driver: WebDriver) -> None:
    """A marker that a reload would wipe: its presence later proves the page updated live."""
    driver.execute_script("window.channelflowTestMarker = 'still here';")


def assert_not_reloaded(driver: WebDriver) -> None:
    assert driver.execute_script("return window.channelflowTestMarker") == "still here"


def test_dashboard_shows_the_api_numbers_and_follows_new_events(browser, live_app):
    events = generate_channel(seed=21, weeks=6)
    cut = len(events) * 2 // 3
    app = live_app(TokenRegistry([]))  # open mode, as `channelflow demo`
    app.feed(events[:cut])
    browser.get(app.url + "/")  # redirects to /dashboard
    assert browser.current_url.endswith("/dashboard")
    get = getter(app.url)
    before = page_matches_api(browser, get)
    assert len(before["inventory"]) == 5 and before["rebates"]
    assert sum(int(n or 0) for n in before["severities"].values()) > 0
    mark_page(browser)

    # the rest, and a line sent again under its transaction id with another quantity
    sale = next(event for event in events[:cut] if isinstance(event, SaleReported))
    conflict = sale.model_copy(update={"event_id": uuid.uuid4(), "quantity": sale.quantity + 1})
    app.feed([*events[cut:], conflict])
    after = page_matches_api(browser, get)
    assert after["inventory"] != before["inventory"]
    assert after["quality"] != before["quality"]
    assert after["rejected"][0][1:] == [sale.distributor_id, "conflicting_duplicate"]
    assert_not_reloaded(browser)
    whole = app.channel.snapshot()["inventory"]
    assert int(after["channel"]["expected_on_hand"]) == sum(r["expected_on_hand"] for r in whole)


def test_the_demo_prints_the_dashboard_url_and_serves_it(browser, tmp_path):
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "demo", "--port", str(port), "--weeks", "3"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "demo.log").open("wb"),
        text=True,
    )
    try:
        assert demo.stdout is not None
        printed = [demo.stdout.readline() for _ in range(2)]
        url = re.search(r"http://\S+/dashboard", "".join(printed))
        assert url, printed
        wait_for(lambda: getter(f"http://127.0.0.1:{port}")("/health"), "the demo's /health")
        browser.get(url.group(0))
        view = page_matches_api(browser, getter(f"http://127.0.0.1:{port}"))
        assert len(view["inventory"]) == 5
    finally:
        demo.terminate()
        demo.wait(30)


def test_a_violation_drills_down_to_its_sale(browser, live_app):
    app = live_app(TokenRegistry([]))
    app.feed(generate_channel(seed=22, weeks=4))
    browser.get(app.url + "/dashboard")
    get = getter(app.url)
    page_matches_api(browser, get)
    severity = next(r for r in get("/api/violations/summary")["rows"] if r["count"])["severity"]
    click(browser, f'[data-severity="{severity}"]')
    expected = get(f"/api/violations?severity={severity}&limit=50")
    wait_for(
        lambda: (
            browser.execute_script(
                "return [...document.querySelectorAll('#violation-rows tr')]"
                ".map((tr) => tr.dataset.violation)"
            )
            == [row["violation_id"] for row in expected["rows"]]
        ),
        "the list of that severity's violations",
    )
    first = expected["rows"][0]
    click(browser, f'[data-violation="{first["violation_id"]}"]')
    detail = get(f"/api/violations/{first['violation_id']}")

    def field(name: str) -> str:
        return browser.find_element(
            By.CSS_SELECTOR, f'#violation-detail [data-field="{name}"]'
        ).text

    wait_for(lambda: browser.find_element(By.ID, "violation-detail").is_displayed(), "detail")
    sale = detail["sale"]
    assert field("transaction_id") == sale["transaction_id"] == first["transaction_id"]
    assert field("quantity") == str(sale["quantity"])
    assert field("reseller_id") == sale["reseller_id"]
    assert field("unit_price") == f"{sale['unit_price']} {sale['currency']}"
    assert field("floor_price").startswith(f"{detail['price']['floor_price']} {sale['currency']} (")
    assert field("event_id") == sale["event_id"]


#: the rebate rows in the order shown, each row's bottom and the scroll box's (px)
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


def token_registry() -> TokenRegistry:
    return TokenRegistry(
        [
            {"sha256": token_hash("cm-token"), "role": Role.CHANNEL_MANAGER.value, "actor": "cm"},
            {
                "sha256": token_hash("d02-token"),
                "role": Role.DISTRIBUTOR.value,
                "actor": "d02",
                "distributor_id": "D02",
            },
        ]
    )


def enter_token(driver: WebDriver, token: str) -> None:
    wait_for(lambda: driver.find_element(By.ID, "token-form").is_displayed(), "token prompt")
    driver.find_element(By.ID, "token-input").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()


def test_with_bearer_tokens_the_page_asks_once_and_shows_what_the_role_may_read(browser, live_app):
    app = live_app(token_registry())
    app.feed(generate_channel(seed=23, weeks=3))

    browser.get(app.url + "/dashboard")
    enter_token(browser, "cm-token")
    manager = page_matches_api(browser, getter(app.url, "cm-token"))
    assert len(manager["inventory"]) == 5
    browser.refresh()  # the token is kept for the tab: no prompt again
    page_matches_api(browser, getter(app.url, "cm-token"))
    assert not browser.find_element(By.ID, "token-form").is_displayed()

    click(browser, "#token-button")
    click(browser, "#token-clear")
    enter_token(browser, "d02-token")
    distributor = page_matches_api(browser, getter(app.url, "d02-token"))
    assert list(distributor["inventory"]) == list(distributor["quality"]) == ["D02"]
    assert browser.find_element(By.ID, "kpi-dead-letters").text == "–"  # vendor roles only


def click(driver: WebDriver, selector: str) -> None:
    """Click an element; the page re-renders a section when its data changes, so an
    element found a moment ago may have been replaced: find it again."""
    for _ in range(20):
        try:
            driver.find_element(By.CSS_SELECTOR, selector).click()
            return
        except StaleElementReferenceException:
            time.sleep(0.1)
    raise AssertionError(f"{selector} kept being replaced")


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except (ConnectionError, urllib.error.URLError):  # a server still starting
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


@pytest.mark.kafka
def test_dashboard_on_a_kafka_worker_follows_published_events(browser, worker_factory):
    events = order_independent_channel(seed=24, weeks=3)
    business = [e for e in events if not is_reference(e)]
    cut = len(business) // 2
    first = [e for e in events if is_reference(e)] + business[:cut]
    worker: WorkerProcess = worker_factory().start()
    publish_reference_first(worker.settings, worker, first)
    get = getter(worker.url)
    expected_first = expected_snapshot(first)["inventory"]

    def on_hand(view: View) -> int:
        return int(view["channel"]["expected_on_hand"])

    browser.get(worker.url + "/dashboard")
    wait_for(
        lambda: (
            on_hand(page_matches_api(browser, get))
            == sum(r["expected_on_hand"] for r in expected_first)
        ),
        "the first half on the page",
        timeout=90,
    )
    mark_page(browser)

    publish(worker.settings, business[cut:])
    expected_all = expected_snapshot(events)["inventory"]
    view = wait_for(
        lambda: (
            (v := page_matches_api(browser, get))
            and on_hand(v) == sum(r["expected_on_hand"] for r in expected_all)
            and v
        ),
        "every event on the page",
        timeout=90,
    )
    per_distributor: dict[str, int] = {}
    for row in expected_all:
        per_distributor[row["distributor_id"]] = (
            per_distributor.get(row["distributor_id"], 0) + row["expected_on_hand"]
        )
    assert {d: int(r["expected_on_hand"]) for d, r in view["inventory"].items()} == per_distributor
    assert_not_reloaded(browser)
