"""A strict Content-Security-Policy on every response: pages, API, errors and static files (devlab/csp.py).

That the pages still work under it (a clean browser console) is proven by tests/e2e.
"""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

CSP = "Content-Security-Policy"


def directives(response) -> dict[str, set[str]]:
    policy = {}
    for directive in response[CSP].split(";"):
        name, *values = directive.split()
        assert name not in policy, f"{name} twice"
        policy[name] = set(values)
    return policy


STRICT_PAGES = ["/admin/login/", "/healthz", "/no-such-page/"]
INLINE_STYLE_PAGES = ["/docs", "/redoc", "/api/", "/api-auth/login/", "/api/schema/", "/api/no-such-thing/"]


@pytest.mark.parametrize("path", STRICT_PAGES + INLINE_STYLE_PAGES + ["/docs?script="])
def test_every_response_has_a_policy_that_allows_only_this_origin(client, path):
    response = client.get(path, HTTP_ACCEPT="text/html")
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = directives(response)
    assert policy["default-src"] == {"'self'"}
    assert policy["script-src"] == {"'self'"}
    assert policy["object-src"] == {"'none'"}
    assert policy["base-uri"] == {"'self'"}
    assert policy["form-action"] == {"'self'"}
    assert policy["frame-ancestors"] == {"'none'"}
    assert policy["img-src"] == {"'self'", "data:"}
    assert policy["connect-src"] == {"'self'"}
    assert policy["font-src"] == {"'self'"}
    assert policy["worker-src"] == {"'self'", "blob:"}
    for values in policy.values():
        assert not values & {"'unsafe-eval'", "*", "http:", "https:"}


@pytest.mark.parametrize("path", STRICT_PAGES)
def test_the_admin_and_django_pages_allow_no_inline_style(client, path):
    assert directives(client.get(path))["style-src"] == {"'self'"}


@pytest.mark.parametrize("path", INLINE_STYLE_PAGES)
def test_the_docs_and_browsable_api_allow_inline_style_only(client, path):
    policy = directives(client.get(path, HTTP_ACCEPT="text/html"))
    assert policy["style-src"] == {"'self'", "'unsafe-inline'"}
    assert policy["script-src"] == {"'self'"}


def test_a_logged_in_admin_page_has_the_strict_policy(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert directives(response)["style-src"] == {"'self'"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/no-such-thing/", 404), ("DELETE", "/api/auth/signup/", 405), ("GET", "/no-such-page/", 404)],
)
def test_error_responses_carry_the_policy_too(client, method, path, status):
    response = client.generic(method, path)
    assert response.status_code == status
    assert "default-src 'self'" in response[CSP]


class _BrokenConnection:
    def cursor(self):
        raise RuntimeError("boom")


def test_a_500_carries_the_policy_too(client, monkeypatch):
    client.raise_request_exception = False
    monkeypatch.setattr("devlab.health.connection", _BrokenConnection())
    response = client.get("/readyz")
    assert response.status_code == 500
    assert "default-src 'self'" in response[CSP]


def test_static_files_served_by_whitenoise_carry_the_policy(settings):
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = Client().get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)
    assert "default-src 'self'" in response[CSP]


def test_the_swagger_page_runs_no_inline_script(client):
    html = client.get("/docs").content.decode()
    # Every <script> has a src (the start-up script is /docs?script=, a file of its own).
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert 'src="/docs?script="' in html


def test_the_redoc_page_runs_no_inline_script_and_loads_nothing_from_elsewhere(client):
    html = client.get("/redoc").content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<redoc spec-url=" in html
    assert "googleapis" not in html
    assert "//" not in re.sub(r"<!DOCTYPE[^>]*>", "", html).replace("http-equiv", "")


def test_the_browsable_api_runs_no_inline_script(client):
    html = client.get("/api/", HTTP_ACCEPT="text/html").content.decode()
    # Its only <script> without src carries JSON data (not executed), which CSP allows.
    for tag in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html):
        assert 'type="application/json"' in tag
