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
import uuid
from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By

from schemas.agreements import RotationLine, StockRotationRequested
from schemas.events import SaleReported, ShipmentRecorded
from streams.auth import TokenRegistry
from streams.generator import generate_channel
from tests.e2e.dashboard_page import (
    View,
    assert_not_reloaded,
    click,
    getter,
    mark_page,
    page_matches_api,
    wait_for,
)
from tests.integration.conftest import REPO, WorkerProcess, free_port
from tests.integration.helpers import (
    expected_snapshot,
    is_reference,
    order_independent_channel,
    publish,
    publish_reference_first,
)
from tests.unit.agreement_events import signed
from tests.unit.claim_events import claim, line

pytestmark = pytest.mark.browser


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

    # the rest, a line sent again under its transaction id with another quantity, and a
    # shipment received 120 days before the channel's first day: stock over 90 days old,
    # which an agreement of its distributor forbids
    sale = next(event for event in events[:cut] if isinstance(event, SaleReported))
    conflict = sale.model_copy(update={"event_id": uuid.uuid4(), "quantity": sale.quantity + 1})
    old = events[0].business_time - timedelta(days=120)
    aged = ShipmentRecorded(
        event_id=uuid.uuid4(), occurred_at=old, source="erp", shipment_id="OLD-1",
        distributor_id="D99", sku=sale.sku, quantity=7, unit_price=sale.unit_price,
        currency="USD", shipped_at=old,
    )  # fmt: skip
    agreement = signed(
        "AG-D99", distributor_id="D99", occurred_at=old, signed_at=old, term_start=old.date(),
        term_end=old.date() + timedelta(days=730), inventory={"max_age_days": 90},
    )  # fmt: skip
    asked = old + timedelta(days=30)  # to send the 7 back: no allowance in the agreement
    rotation = StockRotationRequested(
        event_id=uuid.uuid4(), occurred_at=asked, source="api", request_id="ROT-1",
        distributor_id="D99", requested_at=asked,
        returns=[RotationLine(sku=sale.sku, quantity=7)],
    )  # fmt: skip
    debit = claim("DB-1", line(1, sale.transaction_id, 2), distributor_id="D99")
    app.feed([*events[cut:], conflict, aged, agreement, rotation, debit])
    after = page_matches_api(browser, get)
    assert after["channel"]["aged_over_90"] != before["channel"]["aged_over_90"]
    assert after["obligations"][f"D99|over_age|{sale.sku}"] == "7"
    assert after["rotations"] == {"D99|ROT-1": "rejected"}
    assert after["claims"] == {"D99|DB-1": "60.00 USD"}  # 30.00 × 2, rejected: no such deal
    assert after["inventory"] != before["inventory"]
    assert after["quality"] != before["quality"]
    assert after["rejected"][0][1:3] == [sale.distributor_id, "conflicting_duplicate"]
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
