"""DRF's browsable API: a person logs in with a session and uses the HTML form."""

import pytest
from playwright.sync_api import expect

from scripts.browser import form_log_in
from tests.e2e.helpers import PageProblems, unique

pytestmark = pytest.mark.e2e


def test_log_in_create_a_note_with_the_html_form_see_it_listed_and_log_out(page, make_account):
    account = make_account("browsable")
    seen = PageProblems(page)
    text = f"Written in the browsable API {unique('note')}"

    form_log_in(page, "/api-auth/login/?next=/api/notes/", account.username, account.password)
    expect(page).to_have_url("/api/notes/")
    navbar = page.locator(".navbar")
    expect(navbar).to_contain_text(account.username)

    page.get_by_role("link", name="HTML form").click()
    form = page.locator("#post-object-form")
    form.locator("textarea[name=text]").fill(text)
    form.get_by_role("button", name="POST").click()
    expect(page.locator(".response-info")).to_contain_text("HTTP 201 Created")

    page.goto("/api/notes/")
    expect(page.locator(".response-info")).to_contain_text("HTTP 200 OK")
    expect(page.locator(".response-info")).to_contain_text(text)
    # Login page, list, HTML form and POST ran under the CSP without a violation or console error.
    assert seen.check() == []

    navbar.get_by_text(account.username).click()
    navbar.get_by_text("Log out").click()
    expect(navbar.get_by_role("link", name="Log in")).to_be_visible()
    expect(navbar).not_to_contain_text(account.username)
    page.goto("/api/notes/")
    expect(page.locator(".response-info")).to_contain_text("HTTP 401")


def test_a_session_login_without_next_lands_on_the_api_root(page, make_account):
    account = make_account("rootlanding")
    seen = PageProblems(page)
    form_log_in(page, "/api-auth/login/", account.username, account.password)
    expect(page).to_have_url("/api/")
    expect(page.locator(".navbar")).to_contain_text(account.username)
    expect(page.locator(".response-info")).to_contain_text("HTTP 200 OK")
    assert seen.check() == []
