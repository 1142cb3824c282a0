"""The dashboard in headless Chromium against text a distributor controls: markup in a
distributor id (and its sale's reseller id) and in a rejected line's bytes is shown as
text, never run; and
the page's Content-Security-Policy refuses an inline script while the page itself (its
script, Chart.js, its styles) breaks none of it."""

from __future__ import annotations

import uuid

import orjson
import pytest

from schemas.events import SaleReported
from streams.auth import TokenRegistry
from streams.generator import generate_channel
from tests.e2e.dashboard_page import getter, page_matches_api, wait_for

pytestmark = pytest.mark.browser

#: ids and bytes that would run a script if the page put them into HTML
DISTRIBUTOR = '<img src=x onerror="window.pwned=1">'
RESELLER = "<script>window.pwned=2</script>"
REJECTED = {"event_type": "SaleReported", "distributor_id": "<svg onload=window.pwned=3>"}

#: every CSP violation of the page, from before its first script runs
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.cspViolations.push(event.violatedDirective + " " + event.blockedURI));
"""
READ_CELLS = """
return [...document.querySelectorAll(arguments[0])].map((cell) => cell.textContent);
"""
INLINE_SCRIPT = """
const script = document.createElement("script");
script.textContent = "window.inlineRan = true";
document.body.append(script);
return window.inlineRan === true;
"""


def test_markup_a_distributor_sent_is_shown_as_text_and_no_inline_script_runs(browser, live_app):
    events = generate_channel(seed=23, weeks=3)
    sale = next(event for event in events if isinstance(event, SaleReported))
    hostile = sale.model_copy(
        update={
            "event_id": uuid.uuid4(),
            "transaction_id": "HOSTILE-1",
            "distributor_id": DISTRIBUTOR,
            "reseller_id": RESELLER,
        }
    )
    app = live_app(TokenRegistry([]))
    app.feed([*events, hostile])
    app.feed_raw([orjson.dumps(REJECTED)])
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    browser.get(app.url + "/dashboard")
    page_matches_api(browser, getter(app.url))  # the hostile distributor's row among them

    def cells(selector: str) -> list[str]:
        return list(browser.execute_script(READ_CELLS, selector))

    assert DISTRIBUTOR in cells('#inventory-rows [data-field="distributor_id"]')
    assert DISTRIBUTOR in cells("#distributor option")
    wait_for(
        lambda: REJECTED["distributor_id"] in cells('#rejected-rows [data-field="distributor_id"]'),
        "the rejected line, by the distributor its bytes name",
    )
    assert browser.execute_script("return window.pwned") is None
    assert browser.execute_script("return document.querySelectorAll('img, svg').length") == 0
    assert browser.execute_script("return window.cspViolations") == []  # the page's own code
    assert browser.execute_script(INLINE_SCRIPT) is False
    violations = browser.execute_script("return window.cspViolations")
    assert [v.split()[0] for v in violations] == ["script-src-elem"]
