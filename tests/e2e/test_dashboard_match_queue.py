"""The reseller match queue and masters on the dashboard (headless Chromium): the open
proposals with their candidates; a proposal confirmed through the page maps the reseller id
(the channel manager named in its history, the alias listed under its master), one rejected
leaves the queue; no reason, no step; a distributor's token sees neither panel."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from domain.roles import Role
from streams.auth import TokenRegistry, token_hash
from tests.e2e.dashboard_page import click, wait_for
from tests.e2e.test_dashboard_tokens import enter_token
from tests.unit.test_match_queue import M1, M2, TYPO, onboarding

pytestmark = pytest.mark.browser

READ_QUEUE = """
const text = (node) => node ? node.textContent.trim() : null;
return [...document.querySelectorAll("#match-rows tr")].map((row) => [row.dataset.key,
  ...["candidates", "reasons"].map((f) => text(row.querySelector(`[data-field="${f}"]`)))]);
"""


READ_MASTERS = """
return [...document.querySelectorAll("#master-rows tr")].map((row) => [row.dataset.key,
  ...["legal_name", "country", "aliases"].map(
    (f) => row.querySelector(`[data-field="${f}"]`).textContent.trim())]);
"""


def queue(driver: WebDriver) -> list[list[Any]]:
    return driver.execute_script(READ_QUEUE)


def masters(driver: WebDriver) -> list[list[Any]]:
    return driver.execute_script(READ_MASTERS)


def note(driver: WebDriver) -> str:
    return driver.find_element(By.ID, "match-note").text


def test_a_proposal_is_confirmed_and_another_rejected_through_the_page(browser, live_app):
    tokens = TokenRegistry(
        [
            {"sha256": token_hash("cm-token"), "role": Role.CHANNEL_MANAGER.value, "actor": "cm"},
            {"sha256": token_hash("d1-token"), "role": Role.DISTRIBUTOR.value, "actor": "d1",
             "distributor_id": "D1"},
        ]
    )  # fmt: skip
    app = live_app(tokens)
    app.feed([M1, M2, TYPO, onboarding(20, "R5", "Acme Tolls", country="US", postal_code="94108")])
    browser.get(app.url + "/dashboard")
    enter_token(browser, "cm-token")
    shown = wait_for(lambda: len(rows := queue(browser)) == 2 and rows, "the two proposals")
    assert wait_for(lambda: masters(browser), "the masters") == [
        ["M1", "Acme Tools Inc.", "US", "–"], ["M2", "Zeta Audio Systems", "DE", "–"],
    ]  # fmt: skip
    assert shown[0] == [
        "D1|R2", "M1 88.03", "name 94.74; postal 50 (same postal area); no address to compare",
    ]  # fmt: skip

    click(browser, '#match-rows tr[data-key="D1|R2"] button.confirm')
    assert wait_for(lambda: "reason first" in note(browser), "the reason asked for")
    assert len(queue(browser)) == 2  # nothing was sent
    browser.find_element(By.ID, "match-reason").send_keys("same owner, checked by phone")
    click(browser, '#match-rows tr[data-key="D1|R2"] button.confirm')
    wait_for(lambda: [row[0] for row in queue(browser)] == ["D1|R5"], "R2 leaving the queue")
    assert note(browser) == "R2 of D1 confirmed as M1"
    alias = app._call(lambda: app.channel.stores.party_aliases.get("id|D1|R2"))
    assert alias is not None and alias.master_id == "M1"
    step = alias.history[-1]
    assert (step.changed_by, step.reason, step.automatic) == (
        "cm", "same owner, checked by phone", False,
    )  # fmt: skip
    wait_for(lambda: masters(browser)[0][3] == "D1|R2", "R2 listed under M1")

    click(browser, '#match-rows tr[data-key="D1|R5"] button.reject')
    wait_for(lambda: browser.find_element(By.ID, "match-empty").is_displayed(), "an empty queue")
    assert note(browser) == "R5 of D1 rejected"
    assert app._call(lambda: app.channel.stores.party_aliases.get("id|D1|R5")) is None

    browser.execute_script("window.scrollTo(0, 0)")
    click(browser, "#token-button")
    click(browser, "#token-clear")
    enter_token(browser, "d1-token")
    wait_for(
        lambda: (
            not any(
                browser.find_element(By.ID, panel).is_displayed()
                for panel in ("match-queue", "masters")
            )
        ),
        "the panels hidden for a distributor",
    )
