"""Two-factor login at the admin site, in a browser: the form asks for the code a test computes."""

import time

import pyotp
import pytest
from playwright.sync_api import expect

from scripts.liveserver import http_json, log_in, manage
from tests.e2e.helpers import admin_login

pytestmark = pytest.mark.e2e


def test_an_admin_with_two_factor_logs_in_to_the_admin_with_a_totp_code(page, live, make_account):
    account = make_account("twofactor")
    manage(live.env, "promote_user", account.username)
    access = log_in(live.url, account.username, account.password)
    status, enrollment = http_json("POST", f"{live.url}/api/auth/mfa/totp/", token=access)
    assert status == 201, enrollment
    app = pyotp.TOTP(enrollment["secret"])
    status, confirmed = http_json("POST", f"{live.url}/api/auth/mfa/totp/confirm/", {"code": app.now()}, token=access)
    assert status == 200, confirmed
    assert len(confirmed["recovery_codes"]) == 10

    # The password alone is not enough any more.
    admin_login(page, account)
    expect(page.locator(".errornote")).to_contain_text("Two-factor login is on")
    expect(page).to_have_url("/admin/login/?next=/admin/")

    # The next step's code (one step of drift is allowed; the current one was used to confirm).
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_label("Two-factor code").fill(app.at(time.time() + 30))
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url("/admin/")
    expect(page.locator("#site-name")).to_contain_text("DevLab administration")
    expect(page.locator("#user-tools")).to_contain_text(account.username)
