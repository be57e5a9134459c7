"""What the browser tests do the same way more than once: accounts, the admin login, Swagger UI,
and watching a page for errors (console, uncaught exceptions, failed static files, CSP violations)."""

from __future__ import annotations

import itertools
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlparse

from playwright.sync_api import Locator, Page, expect

from scripts.browser import form_log_in

_serial = itertools.count(1)


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    id: int | None = None


def unique(prefix: str) -> str:
    """A name no other test (or earlier run against the same server) has used."""
    return f"{prefix}{next(_serial)}{secrets.token_hex(3)}"


# Runs in every document of the page before its own scripts (Playwright injects it, outside the
# page's CSP): each Content-Security-Policy violation is kept, also those that log nothing.
_RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const element = event.target && event.target.outerHTML ? event.target.outerHTML.slice(0, 160) : "";
  window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
    + ` (${event.sourceFile || document.location.pathname}:${event.lineNumber}) ${element}`);
});
"""


class PageProblems:
    """Every failed static file, console error, uncaught exception and CSP violation of a page.

    ``problems`` is read after the last navigation; call ``check()`` before each
    ``goto`` to keep the violations of the document being left. ``blocked_on_purpose``
    lists URLs the policy is meant to block (their violation is expected, nothing else).
    """

    def __init__(self, page: Page, blocked_on_purpose: tuple[str, ...] = ()):
        self.page = page
        self.blocked_on_purpose = blocked_on_purpose
        self.static_ok: set[str] = set()
        self.problems: list[str] = []
        page.add_init_script(_RECORD_CSP_VIOLATIONS)
        page.on("response", self._response)
        page.on("requestfailed", lambda request: self._static(request.url, f"failed: {request.failure}"))
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def csp_violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations || []")

    def check(self) -> list[str]:
        """The problems so far, with the CSP violations of the current document."""
        self.problems.extend(f"CSP: {v}" for v in self.csp_violations() if f"CSP: {v}" not in self.problems)
        return [p for p in self.problems if not any(url in p for url in self.blocked_on_purpose)]

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


def admin_login(page: Page, account: Account) -> None:
    """Logs in through the admin site's own form."""
    form_log_in(page, "/admin/login/?next=/admin/", account.username, account.password)


class SwaggerUI:
    """Swagger UI at /docs, used as a person would: expand, Try it out, Execute, read the answer."""

    def __init__(self, page: Page):
        self.page = page

    def open(self) -> SwaggerUI:
        self.page.goto("/docs")
        expect(self.page.locator(".opblock").first).to_be_visible()
        return self

    def operation(self, operation_id: str) -> Locator:
        """One operation's block; ids are ``operations-<tag>-<operationId>``."""
        tag = operation_id.split("_", 1)[0]
        return self.page.locator(f"#operations-{tag}-{operation_id}")

    def execute(self, operation_id: str, body: dict | None = None) -> tuple[int, str]:
        """Expands the operation, types ``body`` into its request body, presses Execute and
        returns the status code and the response body as the page shows them."""
        block = self.operation(operation_id)
        if "is-open" not in (block.get_attribute("class") or ""):
            block.locator(".opblock-summary").click()
        try_it, cancel = block.get_by_role("button", name="Try it out"), block.get_by_role("button", name="Cancel")
        expect(try_it.or_(cancel)).to_be_visible()
        if try_it.is_visible():
            try_it.click()
        if body is not None:
            block.locator("textarea.body-param__text").fill(json.dumps(body, indent=2))
        block.get_by_role("button", name="Execute").click()
        expect(self.response_body(operation_id)).to_be_visible()
        status = block.locator(".live-responses-table tr.response .response-col_status").inner_text()
        return int(status), self.response_body(operation_id).inner_text()

    def response_body(self, operation_id: str) -> Locator:
        """The response body shown under "Server response" after Execute."""
        return self.operation(operation_id).locator(".live-responses-table tr.response .highlight-code code")

    def authorize_bearer(self, token: str) -> None:
        """Pastes an access token into Authorize → jwtAuth (http, bearer)."""
        self.page.locator(".auth-wrapper .authorize").click()
        scheme = self.page.locator(".modal-ux .auth-container").filter(has_text="jwtAuth")
        scheme.locator("input").fill(token)
        scheme.locator("button.authorize").click()
        expect(scheme.locator("button", has_text="Logout")).to_be_visible()
        scheme.locator("button", has_text="Close").click()
        expect(self.page.locator(".auth-wrapper .authorize")).to_have_class("btn authorize locked")
