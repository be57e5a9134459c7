"""Writes the README's pictures (``make screenshots``) into docs/screenshots/.

DevLab runs as it ships (``scripts.liveserver``: gunicorn, ``DEBUG=False``, a
fresh PostgreSQL database dropped afterwards) and Debian's Chromium
(``scripts.browser``) photographs it at 1280x800. The data is a demo, not test
noise: ``seed_demo`` fills the users list, and a few people then sign up, log
in, write notes and get promoted through the real API, so the audit log shows
what DevLab records for real actions (no synthetic audit rows). One admin turns
two-factor login on (``pyotp`` plays the authenticator app) for the pictures of
the admin login asking for the code and of Swagger's two-step login.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time

import pyotp
from playwright.sync_api import Page, expect

from scripts.browser import VIEWPORT, chromium, form_log_in
from scripts.liveserver import ROOT, LiveDevLab, http_json, live_devlab, log_in, manage, sign_up

OUT = ROOT / "docs" / "screenshots"
PEOPLE = {
    "ada": [
        "Draft the release notes for 1.1: refresh-token reuse detection, audit export as JSON lines.",
        "Ask the database team about moving the audit table to its own tablespace.",
        "Book the train to Lisbon for the conference on the 14th.",
    ],
    "grace": [
        "Review Linus's pull request on the cache culling before Friday.",
        "Rotate the audit signing key on staging and run verify_audit afterwards.",
    ],
    "linus": ["Buy coffee beans, oat milk and a new whiteboard marker."],
}


def api(live: LiveDevLab, method: str, path: str, body: dict | None = None, token: str | None = None, status=200):
    """One API call that must answer ``status``; its JSON."""
    got, answer = http_json(method, f"{live.url}/api/{path}", body, token=token)
    if got != status:
        raise SystemExit(f"screenshots: {method} /api/{path} answered {got}, not {status}: {answer}")
    return answer


def seed(live: LiveDevLab) -> dict[str, tuple[str, str]]:
    """Demo users from ``seed_demo``, then named people acting through the API; returns
    each person's password and access token."""
    demo = ("--users", "8", "--notes-per-user", "5", "--audit-rows", "0", "--seed", "8", "--force")
    manage({**live.env, "DEVLAB_DEMO": "True"}, "seed_demo", *demo)  # the server itself has no demo app
    people, ids = {}, {}
    for username, notes in PEOPLE.items():
        password = f"Demo-{secrets.token_urlsafe(12)}"
        user = sign_up(live.url, username, password)
        access = log_in(live.url, username, password)
        for text in notes:
            api(live, "POST", "notes/", {"text": text}, token=access, status=201)
        people[username], ids[username] = (password, access), user["id"]
    api(live, "POST", "auth/login/", {"username": "linus", "password": "not-his-password"}, status=401)
    staff = log_in(live.url, live.admin_username, live.admin_password)
    api(live, "POST", f"admin/users/{ids['grace']}/promote/", token=staff)
    return people


def two_factor_admin(live: LiveDevLab, username: str = "margaret") -> tuple[str, str, pyotp.TOTP]:
    """An admin with two-factor login on, all through the real API (signup, login, TOTP enrollment
    confirmed with the app's code) and ``promote_user``; the username, password and the app."""
    password = f"Demo-{secrets.token_urlsafe(12)}"
    sign_up(live.url, username, password)
    access = log_in(live.url, username, password)
    app = pyotp.TOTP(api(live, "POST", "auth/mfa/totp/", token=access, status=201)["secret"])
    api(live, "POST", "auth/mfa/totp/confirm/", {"code": app.now()}, token=access)
    manage(live.env, "promote_user", username)
    return username, password, app


def next_code(app: pyotp.TOTP) -> str:
    """The next step's code: one step of drift is allowed, and the current one may be used already."""
    return app.at(time.time() + 30)


def shoot(page: Page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    path = OUT / name
    page.screenshot(path=path)
    print(f"screenshots: wrote {path.relative_to(ROOT)}")


def swagger(page: Page, token: str) -> None:
    """/docs, authorized, with the staff-only sections folded and the notes list opened."""
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".auth-wrapper .authorize").click()
    scheme = page.locator(".modal-ux .auth-container").filter(has_text="jwtAuth")
    scheme.locator("input").fill(token)
    scheme.locator("button.authorize").click()
    scheme.locator("button", has_text="Close").click()
    for tag in ("admin", "audit", "auth"):
        page.locator(f"#operations-tag-{tag}").click()
    page.locator("#operations-notes-notes_list .opblock-summary").click()
    expect(page.locator("#operations-notes-notes_list .opblock-body")).to_be_visible()
    page.mouse.wheel(0, -10_000)
    shoot(page, "swagger.png")


def browsable_api(page: Page, username: str, password: str) -> None:
    form_log_in(page, "/api-auth/login/?next=/api/notes/", username, password)
    expect(page).to_have_url("/api/notes/")
    shoot(page, "browsable-api-notes.png")


def admin(page: Page, live: LiveDevLab) -> None:
    form_log_in(page, "/admin/login/?next=/admin/", live.admin_username, live.admin_password)
    expect(page.locator("#site-name")).to_be_visible()
    page.goto("/admin/accounts/user/")
    page.locator("#toggle-nav-sidebar").click()  # the table gets the width (kept for the session)
    page.evaluate("window.scrollTo(0, 0)")  # the click may have scrolled a page taller than the window
    shoot(page, "admin-users.png")
    page.goto("/admin/audit/auditentry/")
    shoot(page, "admin-audit.png")


def admin_two_factor(page: Page, username: str, password: str, app: pyotp.TOTP) -> None:
    """The admin login of a two-factor admin: the password alone gets the form asking for the
    code; the picture is the form filled in again, the authenticator's code typed (not sent)."""
    form_log_in(page, "/admin/login/?next=/admin/", username, password)
    expect(page.locator(".errornote")).to_contain_text("Two-factor login is on")
    page.get_by_label("Password").fill(password)
    page.get_by_label("Two-factor code").fill(next_code(app))
    shoot(page, "admin-login-two-factor.png")


def try_it_out(page: Page, operation: str, body: dict) -> dict:
    """Swagger UI's "Try it out" of ``operation`` with a JSON ``body``, executed; the response's
    JSON. The page is scrolled to the Execute button, so that the picture shows the request
    (as curl) and the response under it."""
    block = page.locator(f"#operations-auth-{operation}")
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    block.locator("textarea.body-param__text").fill(json.dumps(body, indent=2))
    block.locator("button.execute").click()
    answer = block.locator(".live-responses-table .response-col_description pre.microlight").first
    expect(answer).to_be_visible()
    block.locator("button.execute").evaluate("element => { element.scrollIntoView(); window.scrollBy(0, -24); }")
    return json.loads(answer.inner_text())


def swagger_two_step(page: Page, username: str, password: str, app: pyotp.TOTP) -> None:
    """/docs logging a two-factor user in: ``POST /api/auth/login/`` answers an ``mfa_token`` for
    the password, then ``POST /api/auth/login/mfa/`` a token pair for it and the app's code."""
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    for tag in ("admin", "audit", "notes"):
        page.locator(f"#operations-tag-{tag}").click()
    step = try_it_out(page, "auth_login_create", {"username": username, "password": password})
    if not step.get("mfa_required"):
        raise SystemExit(f"screenshots: the login of {username} did not ask for a second factor: {step}")
    shoot(page, "swagger-two-step-login.png")
    pair = try_it_out(page, "auth_login_mfa_create", {"mfa_token": step["mfa_token"], "code": next_code(app)})
    if "access" not in pair:
        raise SystemExit(f"screenshots: the second step of {username}'s login answered {pair}")
    shoot(page, "swagger-two-step-login-mfa.png")


def main() -> int:
    os.environ.setdefault("DJANGO_SUPERUSER_USERNAME", "admin")
    OUT.mkdir(parents=True, exist_ok=True)
    with live_devlab(workers=2, label="screenshots") as live:
        people = seed(live)
        margaret = two_factor_admin(live)
        with chromium() as browser:
            for take in (
                lambda page: swagger(page, people["ada"][1]),
                lambda page: browsable_api(page, "ada", people["ada"][0]),
                lambda page: admin(page, live),
                lambda page: admin_two_factor(page, *margaret),
                lambda page: swagger_two_step(page, *margaret),
            ):
                context = browser.new_context(base_url=live.url, viewport=VIEWPORT)
                take(context.new_page())
                context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
