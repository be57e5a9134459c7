"""With DEBUG=False the pages still get every stylesheet and script (WhiteNoise, collectstatic)
and run without a console error; / leads to the API docs."""

from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import admin_login

pytestmark = pytest.mark.e2e


class PageProblems:
    """Every failed static file and every console error or uncaught exception of a page."""

    def __init__(self, page: Page):
        self.static_ok: set[str] = set()
        self.problems: list[str] = []
        page.on("response", self._response)
        page.on("requestfailed", lambda request: self._static(request.url, f"failed: {request.failure}"))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _response(self, response) -> None:
        if response.status >= 400:
            self._static(response.url, str(response.status))
        elif urlparse(response.url).path.startswith("/static/"):
            self.static_ok.add(urlparse(response.url).path.rsplit(".", 1)[-1])

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text} ({message.location.get('url')})")

    def _static(self, url: str, what: str) -> None:
        if urlparse(url).path.startswith("/static/"):
            self.problems.append(f"{url}: {what}")


def test_root_redirects_to_the_docs(page):
    page.goto("/")
    expect(page).to_have_url("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("DevLab API")


def test_swagger_ui_loads_its_css_and_js_without_errors(page):
    seen = PageProblems(page)
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert seen.problems == []
    assert {"css", "js"} <= seen.static_ok


def test_admin_pages_load_their_css_and_js_without_errors(page, admin_account):
    seen = PageProblems(page)
    admin_login(page, admin_account)
    expect(page.locator("#site-name")).to_contain_text("DevLab administration")
    for path in ("/admin/accounts/user/", "/admin/audit/auditentry/", "/admin/accounts/user/add/"):
        page.goto(path)
        expect(page.locator("#content")).to_be_visible()
        page.wait_for_load_state("networkidle")
    # The stylesheet really applied: the header has the admin's colours, not the browser default.
    expect(page.locator("#header")).not_to_have_css("background-color", "rgba(0, 0, 0, 0)")
    assert seen.problems == []
    assert {"css", "js"} <= seen.static_ok
