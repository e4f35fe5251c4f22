"""The UI in a real headless Chromium (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mock_helpers import TOKEN, TOKEN_ID, WF

from mock_qualtrics import LiveMock

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.browser


def _browser_or_skip() -> Any:
    reason = ""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed"
    else:
        if not os.path.exists(CHROMIUM):
            reason = f"no Chromium at {CHROMIUM}"
    if reason:
        if os.environ.get("QH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"QH_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture
def page(live: LiveMock) -> Iterator[Any]:
    sync_playwright = _browser_or_skip()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(java_script_enabled=False)
        yield context.new_page()
        browser.close()


def test_run_history_views_and_detail(live: LiveMock, page: Any) -> None:
    """Workflows list -> run history (both views, filter) -> run detail, with JavaScript off."""
    url = f"{live.url}/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"
    with httpx.Client() as c:
        c.post(
            url,
            json={"identityMap": {"Email": [{"id": "dave@example.com"}]}},
            headers={"X-API-TOKEN": TOKEN},
        )
        c.post(url, json={"no": "email"}, headers={"X-API-TOKEN": TOKEN})
        c.get(f"{live.url}/__admin/workflows/{WF}/runs", params={"wait_for": 2, "timeout": 10})
    page.goto(live.url + "/")
    assert page.title().startswith("Workflows")
    page.get_by_role("link", name="Test workflow").click()
    assert "Successfully started with tasks run" in page.locator("h2").inner_text()
    assert page.locator("#runs tbody tr").count() == 1
    page.get_by_role("link", name="Failed to start after triggered").click()
    assert page.locator("#runs tbody tr").count() == 1
    assert "$.identityMap.Email[0].id" in page.locator("#runs").inner_text()
    page.get_by_role("link", name="All runs").click()
    page.select_option("select[name=status]", "Succeeded")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("#runs tbody tr").count() == 1
    page.locator("#runs tbody tr a").first.click()
    assert page.locator("h1").inner_text() == "Run details"
    assert "dave@example.com" in page.locator("#fields").inner_text()
    assert "Succeeded" in page.locator("#run").inner_text()
