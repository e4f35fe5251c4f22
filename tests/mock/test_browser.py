"""The UI in a real headless Chromium (Debian's chromium, driven by Playwright), and a page
from another origin trying to change the mock."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from support.mock import TOKEN, TOKEN_ID, WF

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


EVIL_PAGE = """<!doctype html><html><head><title>evil</title></head><body>
<form id="f" method="POST" action="{mock}/__admin/reset" enctype="text/plain">
<input name='{{"everything": true, "x": "' value='"}}'></form>
<script>
const reset = "{mock}/__admin/reset";
const body = JSON.stringify({{everything: true}});
Promise.allSettled([
  fetch(reset, {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}}, body}}),
  fetch(reset, {{method: "POST", headers: {{"Content-Type": "application/json"}}, body}}),
]).then(() => document.getElementById("f").submit());
</script></body></html>"""


@pytest.fixture
def evil_site(live: LiveMock) -> Iterator[str]:
    """A page on another 127.0.0.1 port that tries to wipe the mock as soon as it loads."""
    page = EVIL_PAGE.format(mock=live.url).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_page_from_another_origin_cannot_reset_the_mock(live: LiveMock, evil_site: str) -> None:
    """Auto-submitted form and fetch()es to /__admin/reset from another port: nothing is reset."""
    sync_playwright = _browser_or_skip()
    url = f"{live.url}/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"
    with httpx.Client() as c:
        c.post(
            url,
            json={"identityMap": {"Email": [{"id": "a@example.com"}]}},
            headers={"X-API-TOKEN": TOKEN},
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-sync"]
        )
        page = browser.new_context().new_page()
        answers: list[int] = []
        page.on(
            "response",
            lambda r: answers.append(r.status) if r.url.endswith("/__admin/reset") else None,
        )
        page.goto(evil_site)
        page.wait_for_url(f"{live.url}/__admin/reset", timeout=15_000)  # the form was submitted
        page.wait_for_load_state()
        browser.close()
    assert 403 in answers  # the requests reached the mock and were refused
    assert 200 not in answers
    with httpx.Client(base_url=live.url) as c:
        runs = c.get(f"/__admin/workflows/{WF}/runs", params={"wait_for": 1, "timeout": 5})
        assert len(runs.json()["runs"]) == 1
        assert c.get(f"/__admin/workflows/{WF}").status_code == 200
