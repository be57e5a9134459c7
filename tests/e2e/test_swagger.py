"""Swagger UI at /docs, used the way an API client's developer would: all in the page."""

import json
import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PageProblems, SwaggerUI, unique

pytestmark = pytest.mark.e2e


def test_sign_up_log_in_authorize_then_create_and_list_a_note(page):
    seen = PageProblems(page)
    swagger = SwaggerUI(page).open()
    username, password = unique("swagger"), f"Pw-{secrets.token_urlsafe(12)}"
    text = f"Written in Swagger UI {unique('note')}"

    status, shown = swagger.execute(
        "auth_signup_create", {"username": username, "email": f"{username}@example.com", "password": password}
    )
    assert status == 201, shown
    assert json.loads(shown)["username"] == username

    status, shown = swagger.execute("auth_login_create", {"username": username, "password": password})
    assert status == 200, shown
    swagger.authorize_bearer(json.loads(shown)["access"])

    status, shown = swagger.execute("notes_create", {"text": text})
    assert status == 201, shown
    assert json.loads(shown)["text"] == text

    status, shown = swagger.execute("notes_list")
    assert status == 200, shown
    assert [note["text"] for note in json.loads(shown)["results"]] == [text]
    expect(swagger.response_body("notes_list")).to_contain_text(text)
    # Authorize and Try it out ran under the strict CSP without a violation or console error.
    assert seen.check() == []
    # persistAuthorization is off: the bearer token is not left in localStorage.
    assert page.evaluate("window.localStorage.getItem('authorized')") is None
