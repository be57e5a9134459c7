"""The one way DevLab starts a browser: Debian's Chromium driven by Playwright.

Used by the browser tests (``tests/e2e``) and ``scripts/screenshots.py``.
``playwright install`` cannot download browsers here and is never called: the
browser is the ``chromium`` package from apt (``make e2e`` installs it).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# No sandbox (containers and CI run as root), no GPU, and nothing that would
# reach the network on its own: the browser only ever talks to the live server.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed (with Playwright's driver) on the way out."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def form_log_in(page: Page, path: str, username: str, password: str) -> None:
    """Logs in through a Django login form (the admin's or the browsable API's) at ``path``."""
    page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
