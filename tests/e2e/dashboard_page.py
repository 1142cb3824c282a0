"""The dashboard page as the browser tests read it (tests/e2e/): what it shows, what the API
answers for the same, and waiting until they agree."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

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
            weeks_of_supply: text(document.getElementById("kpi-weeks")),
            aged_over_90: text(document.getElementById("kpi-aged"))},
  severities: Object.fromEntries([...document.querySelectorAll("#severity-counts [data-severity]")]
    .map((b) => [b.dataset.severity, text(b.querySelector(".count"))])),
  rebates: Object.fromEntries([...document.querySelectorAll("#rebate-rows .rebate")]
    .map((r) => [r.dataset.key, text(r.querySelector(".accrued"))])),
  quality: table("#quality-rows tr", ["accepted", "duplicates", "conflicts", "rejected",
    "reports_on_time", "reports_late", "periods_missing"]),
  resellers: table("#reseller-rows tr",
    ["onboarded", "active_90d", "new_this_quarter", "not_onboarded"]),
  obligations: Object.fromEntries([...document.querySelectorAll("#obligation-rows tr")]
    .map((r) => [r.dataset.key, text(r.querySelector('[data-field="units"]'))])),
  rotations: Object.fromEntries([...document.querySelectorAll("#rotation-rows tr")]
    .map((r) => [r.dataset.key, text(r.querySelector('[data-field="status"]'))])),
  claims: Object.fromEntries([...document.querySelectorAll("#claim-rows tr")]
    .map((r) => [r.dataset.key, text(r.querySelector('[data-field="total_claimed"]'))])),
  rejected: [...document.querySelectorAll("#rejected-rows tr")].map((row) => [row.dataset.where,
    ...["distributor_id", "reason", "source"]
      .map((f) => text(row.querySelector(`[data-field="${f}"]`)))]),
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
    "reports_on_time", "reports_late", "periods_missing",
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
        "obligations": {k: shown(v) for k, v in raw["obligations"].items()},
        "rotations": {k: shown(v) for k, v in raw["rotations"].items()},
        "claims": {k: shown(v) for k, v in raw["claims"].items()},
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


def aged_over_90(rows: list[dict[str, Any]]) -> str | None:
    """The value of the stock held over 90 days as the page shows it: a total per currency,
    "387.50 USD" or "1200.00 EUR + 387.50 USD" (None: no priced stock)."""
    by_currency: dict[str, list[Decimal]] = {}
    for row in rows:
        amount = row["values"][">90"]
        if amount is not None:
            by_currency.setdefault(row["currency"], []).append(Decimal(amount))
    totals = [f"{sum(amounts)} {currency}" for currency, amounts in sorted(by_currency.items())]
    return " + ".join(totals) or None


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


def came_from(row: dict[str, Any]) -> str:
    """Where a rejected line came from, as the page shows it: its door and where in its file
    ("csv week.csv:4"), else the topic and position it was read from."""
    door = " ".join(part for part in (row["door"], row["source_ref"]) if part)
    if door:
        return door
    offset, partition = row["source_offset"], row["source_partition"]
    position = (
        "" if offset is None else f":{offset}" if partition is None else f":{partition}@{offset}"
    )
    return f"{row['source']}{position}"


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
            "aged_over_90": aged_over_90(get("/api/inventory/aging?limit=10000")["rows"]),
        },
        "severities": {
            row["severity"]: shown(row["count"]) for row in get("/api/violations/summary")["rows"]
        },
        "rebates": {
            f"{r['program_id']}|{r['distributor_id']}|{r['period']}": with_currency(r, "rebate")
            for r in get("/api/rebates?status=open&limit=10000")["rows"]
        },
        "obligations": {
            f"{r['distributor_id']}|{r['kind']}|{r['ref']}": shown(
                r["excess_units"] if r["kind"] == "over_stock" else r["units"]
            )
            for r in get("/api/obligations?limit=1000")["rows"]
        },
        "rotations": {
            f"{r['distributor_id']}|{r['request_id']}": shown(r["status"])
            for r in get("/api/rotations?limit=1000")["rows"]
        },
        "claims": {
            f"{r['distributor_id']}|{r['claim_id']}": with_currency(r, "total_claimed")
            for r in get("/api/claims?limit=1000")["rows"]
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
            [f"{row['partition']}@{row['offset']}", sent_by(row), row["reason"], came_from(row)]
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


#: the scorecard panel as the page shows it: the period chosen, the ranking (null: hidden,
#: a distributor's token) and the open card's title and score (null: none open)
READ_SCORECARD = """
const text = (node) => node ? node.textContent.trim() : null;
const hidden = (id) => document.getElementById(id).hidden;
return {
  period: document.getElementById("scorecard-period").value,
  ranking: hidden("scorecard-table") ? null : [...document.querySelectorAll("#scorecard-rows tr")]
    .map((row) => [row.dataset.distributor, ...["rank", "score"]
      .map((f) => text(row.querySelector(`[data-field="${f}"]`)))]),
  card: hidden("scorecard-card") ? null : [text(document.getElementById("scorecard-card-title")),
    text(document.querySelector('#scorecard-figures [data-figure="Score"]'))],
};
"""


def scorecard_matches_api(
    driver: WebDriver, get: Getter, card_of: str | None, vendor: bool, timeout: float = 45
) -> View:
    """Wait until the scorecard panel shows the API's ranking of the quarter "now" falls
    in (a vendor's token; a distributor's: none) and `card_of`'s card (None: no card)."""
    period = get("/api/sell-through?granularity=quarter&limit=1")["partial_period"]
    deadline = time.monotonic() + timeout
    while True:
        ranking = None
        if vendor:
            rows = get(f"/api/scorecard?period={period}&limit=10000")["rows"]
            ranking = [[r["distributor_id"], str(r["rank"]), r["score"] or "–"] for r in rows]
        card = None
        if card_of is not None:
            own = get(f"/api/scorecard/{card_of}?period={period}")
            card = [f"{card_of}, {period}", own["score"] or "–"]
        expected = {"period": period, "ranking": ranking, "card": card}
        page = driver.execute_script(READ_SCORECARD)
        if page == expected:
            return expected
        if time.monotonic() > deadline:
            raise AssertionError(f"the scorecard never matched the API: {page} != {expected}")
        time.sleep(0.5)
