"""Browser tests: Debian's Chromium, driven by Playwright, against DevLab as it ships.

One live server (gunicorn, ``DEBUG=False``, a fresh PostgreSQL database) and one
browser serve the whole session; each test gets a fresh browser context (no
cookies or storage shared between tests). Only collected when tests/e2e is
named on the command line (``make e2e``); see tests/conftest.py.
"""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page

from scripts.browser import VIEWPORT, chromium
from scripts.liveserver import ROOT, LiveDevLab, live_devlab, sign_up
from tests.e2e.helpers import Account, unique

FAILURE_SHOTS = ROOT / "test-results" / "e2e"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the item, so the page fixture knows a test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def live() -> LiveDevLab:
    with live_devlab(workers=2, label="e2e") as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture
def page(browser, live, request) -> Page:
    """A page in a fresh context; a screenshot lands in test-results/e2e/ when the test fails."""
    context = browser.new_context(base_url=live.url, viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        FAILURE_SHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]", "_", request.node.name)
        page.screenshot(path=FAILURE_SHOTS / f"{name}.png", full_page=True)
    context.close()


@pytest.fixture
def make_account(live):
    """Signs up a normal user through the API (not through the page under test)."""

    def make(prefix: str = "user") -> Account:
        username, password = unique(prefix), f"Pw-{secrets.token_urlsafe(12)}"
        return Account(username, password, sign_up(live.url, username, password)["id"])

    return make


@pytest.fixture
def admin_account(live) -> Account:
    return Account(live.admin_username, live.admin_password)
