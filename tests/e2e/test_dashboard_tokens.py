"""The dashboard with bearer tokens: it asks once, and shows what the role may read."""

from __future__ import annotations

import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from domain.roles import Role
from streams.auth import TokenRegistry, token_hash
from streams.generator import generate_channel
from tests.e2e.dashboard_page import (
    click,
    getter,
    page_matches_api,
    scorecard_matches_api,
    wait_for,
)

pytestmark = pytest.mark.browser


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
    cm = getter(app.url, "cm-token")
    ranked = scorecard_matches_api(browser, cm, None, vendor=True)
    assert len(ranked["ranking"]) == 5 and ranked["ranking"][0][1] == "1"
    click(browser, '#scorecard-rows tr[data-distributor="D03"]')  # its own card opens
    scorecard_matches_api(browser, cm, "D03", vendor=True)
    browser.execute_script("window.scrollTo(0, 0)")  # back to the header's buttons
    browser.refresh()  # the token is kept for the tab: no prompt again
    page_matches_api(browser, getter(app.url, "cm-token"))
    assert not browser.find_element(By.ID, "token-form").is_displayed()

    click(browser, "#token-button")
    click(browser, "#token-clear")
    enter_token(browser, "d02-token")
    distributor = page_matches_api(browser, getter(app.url, "d02-token"))
    assert list(distributor["inventory"]) == list(distributor["quality"]) == ["D02"]
    assert browser.find_element(By.ID, "kpi-dead-letters").text == "–"  # vendor roles only
    # no ranking (it tells about the others): the distributor's own card
    scorecard_matches_api(browser, getter(app.url, "d02-token"), "D02", vendor=False)


def test_the_metrics_link_reads_them_with_the_tabs_token(browser, live_app):
    """A plain link sends no token (401 with tokens on): the page reads /metrics with the
    tab's token and shows them; a role that may not read them is told why."""
    app = live_app(token_registry())
    app.feed(generate_channel(seed=23, weeks=1))
    browser.get(app.url + "/dashboard")
    enter_token(browser, "cm-token")
    page_matches_api(browser, getter(app.url, "cm-token"))

    def metrics_shown() -> str:
        click(browser, 'footer a[href="/metrics"]')
        shown = browser.find_element(By.ID, "metrics-text")
        return wait_for(lambda: shown.is_displayed() and shown.text, "the metrics shown")

    assert browser.current_url == app.url + "/dashboard"  # it stays on the page
    assert "# TYPE channelflow_" in metrics_shown()
    click(browser, 'footer a[href="/metrics"]')  # a second click hides them
    assert not browser.find_element(By.ID, "metrics-text").is_displayed()

    browser.execute_script("window.scrollTo(0, 0)")  # back to the header's buttons
    click(browser, "#token-button")
    click(browser, "#token-clear")
    enter_token(browser, "d02-token")
    page_matches_api(browser, getter(app.url, "d02-token"))
    assert "/metrics answered 403: the metrics carry channel-wide figures" in metrics_shown()


def test_the_scorecard_export_is_read_with_the_tabs_token(browser, live_app, tmp_path):
    """A plain download link sends no token (a saved 401 with tokens on): the page reads the
    CSV with the tab's token and saves it under the server's file name."""
    app = live_app(token_registry())
    app.feed(generate_channel(seed=23, weeks=3))
    browser.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    browser.get(app.url + "/dashboard")
    enter_token(browser, "cm-token")
    page_matches_api(browser, getter(app.url, "cm-token"))
    period = wait_for(
        lambda: browser.find_element(By.ID, "scorecard-period").get_attribute("value"),
        "a scorecard period",
    )
    click(browser, "#scorecard-export")
    saved = tmp_path / f"scorecard-{period}.csv"
    wait_for(lambda: saved.exists() and saved.stat().st_size > 0, "the CSV saved")
    request = urllib.request.Request(
        f"{app.url}/api/scorecard.csv?period={period}",
        headers={"Authorization": "Bearer cm-token"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert saved.read_bytes() == response.read()
    assert browser.current_url == app.url + "/dashboard"  # it stays on the page
