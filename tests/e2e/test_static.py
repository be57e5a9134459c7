"""With DEBUG=False the pages still get every stylesheet and script (WhiteNoise, collectstatic)
and run without a console error or a Content-Security-Policy violation; / leads to the API docs."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PageProblems, admin_login

pytestmark = pytest.mark.e2e


def test_root_redirects_to_the_docs(page):
    page.goto("/")
    expect(page).to_have_url("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("DevLab API")


def test_swagger_ui_loads_its_css_and_js_without_errors(page):
    seen = PageProblems(page)
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert seen.check() == []
    assert {"css", "js"} <= seen.static_ok


def test_admin_pages_load_their_css_and_js_without_errors(page, admin_account):
    seen = PageProblems(page)
    admin_login(page, admin_account)
    expect(page.locator("#site-name")).to_contain_text("DevLab administration")
    for path in ("/admin/", "/admin/accounts/user/", "/admin/audit/auditentry/", "/admin/accounts/user/add/"):
        seen.check()
        page.goto(path)
        expect(page.locator("#content")).to_be_visible()
        page.wait_for_load_state("networkidle")
    # The stylesheet really applied: the header has the admin's colours, not the browser default.
    expect(page.locator("#header")).not_to_have_css("background-color", "rgba(0, 0, 0, 0)")
    assert seen.check() == []
    assert {"css", "js"} <= seen.static_ok


# ReDoc always tries its vendor's logo from a CDN (and hides it when it fails to load): the
# policy blocks it on purpose, so the docs make no third-party request.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_redoc_renders_every_operation_and_searches_them_without_errors(page):
    seen = PageProblems(page, blocked_on_purpose=(REDOCLY_LOGO,))
    schema = page.request.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}).json()
    operation_ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    page.goto("/redoc")
    operations = page.locator("div[id*='/operation/'][data-section-id]")
    # ReDoc parses and lays out the whole schema before it shows anything: slow on a busy machine.
    expect(operations.first).to_be_visible(timeout=30_000)
    expect(operations).to_have_count(len(operation_ids))
    expect(page.locator("h2", has_text="Log in: a token pair for a username and password")).to_be_visible()
    # The search index runs in a web worker (worker-src blob:).
    page.get_by_placeholder("Search...").fill("token pair")
    expect(page.locator("[data-role='search:results'] li").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert seen.check() == []
    assert "js" in seen.static_ok
