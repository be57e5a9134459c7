"""Every event, end to end: a real request to a real endpoint leaves the right row.

``transaction=True``: with ATOMIC_REQUESTS on, DRF marks whatever atomic block
is open for rollback when a view fails, and in a test that would be the
test's own transaction; real commits behave as production does.
"""

import pytest
from django.core.cache import caches
from django.db import connection
from rest_framework.test import APIClient

from audit.models import AuditEntry
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = {"HTTP_X_REQUEST_ID": "e2e-request", "HTTP_USER_AGENT": "e2e-agent/2.0", "REMOTE_ADDR": "192.0.2.55"}


@pytest.fixture(autouse=True)
def _fresh_lockout_counters():
    """Real commits keep the database cache's lockout counters from one test to the next."""
    caches["default"].clear()


@pytest.fixture(params=[False, True], ids=["atomic-requests-off", "atomic-requests-on"])
def atomic_requests(request, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", request.param)
    return request.param


def _row(action: str) -> AuditEntry:
    (entry,) = AuditEntry.objects.filter(action=action)
    assert (entry.ip, entry.user_agent, entry.request_id) == ("192.0.2.55", "e2e-agent/2.0", "e2e-request")
    return entry


def _facts(entry: AuditEntry) -> tuple:
    return (entry.actor_id, entry.actor_username, entry.target_type, entry.target_id, entry.detail)


def _login(client, username, password=DEFAULT_PASSWORD):
    return client.post("/api/auth/login/", {"username": username, "password": password}, format="json", **HEADERS)


def _bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_signup_is_recorded(api_client, atomic_requests):
    body = {"username": "newbie", "email": "newbie@example.com", "password": DEFAULT_PASSWORD}
    response = api_client.post("/api/auth/signup/", body, format="json", **HEADERS)
    assert response.status_code == 201
    user_id = response.json()["id"]
    assert _facts(_row("signup")) == (user_id, "newbie", "user", user_id, "")


def test_an_api_login_is_recorded(api_client, user, atomic_requests):
    assert _login(api_client, "alice").status_code == 200
    assert _facts(_row("login_success")) == (user.pk, "alice", "user", user.pk, "")


def test_a_failed_api_login_is_recorded_with_the_attempted_username(api_client, user, atomic_requests):
    assert _login(api_client, "alice", "wrong password").status_code == 401
    assert _facts(_row("login_failed")) == (None, "", None, None, "alice")


def test_a_login_of_an_unknown_user_is_recorded(api_client, atomic_requests):
    assert _login(api_client, "ghost").status_code == 401
    assert _row("login_failed").detail == "ghost"


def test_a_locked_out_login_is_recorded_as_throttled(api_client, user, settings, atomic_requests):
    settings.LOGIN_FAILURE_LIMIT = 2
    _login(api_client, "alice", "wrong")
    _login(api_client, "alice", "wrong")
    assert _login(api_client, "alice").status_code == 429
    assert _facts(_row("login_throttled")) == (None, "", None, None, "alice")
    assert AuditEntry.objects.filter(action="login_failed").count() == 2


def test_a_reused_refresh_token_is_recorded(api_client, user, atomic_requests):
    refresh = _login(APIClient(), "alice").json()["refresh"]
    assert api_client.post("/api/auth/refresh/", {"refresh": refresh}, format="json").status_code == 200
    response = api_client.post("/api/auth/refresh/", {"refresh": refresh}, format="json", **HEADERS)
    assert response.status_code == 401
    assert _facts(_row("token_reuse")) == (user.pk, "alice", "user", user.pk, "")


def test_logout_is_recorded(user, atomic_requests):
    tokens = _login(APIClient(), "alice").json()
    response = _bearer(tokens["access"]).post("/api/auth/logout/", {"refresh": tokens["refresh"]}, **HEADERS)
    assert response.status_code == 204
    assert _facts(_row("logout")) == (user.pk, "alice", "user", user.pk, "")


def test_logout_everywhere_is_recorded(user, atomic_requests):
    tokens = _login(APIClient(), "alice").json()
    assert _bearer(tokens["access"]).post("/api/auth/logout-all/", **HEADERS).status_code == 204
    assert _facts(_row("logout")) == (user.pk, "alice", "user", user.pk, "")


def test_a_password_change_is_recorded(user, atomic_requests):
    client = _bearer(_login(APIClient(), "alice").json()["access"])
    body = {"old_password": DEFAULT_PASSWORD, "new_password": "an entirely new passphrase 42"}
    assert client.post("/api/auth/password/", body, format="json", **HEADERS).status_code == 204
    assert _facts(_row("password_changed")) == (user.pk, "alice", "user", user.pk, "")


def test_a_profile_change_is_recorded_with_the_changed_field(user, atomic_requests):
    client = _bearer(_login(APIClient(), "alice").json()["access"])
    assert client.patch("/api/auth/me/", {"email": "new@example.com"}, format="json", **HEADERS).status_code == 200
    assert _facts(_row("profile_updated")) == (user.pk, "alice", "user", user.pk, "email")


def test_a_non_admin_on_the_audit_api_is_recorded(user, atomic_requests):
    client = _bearer(_login(APIClient(), "alice").json()["access"])
    assert client.get("/api/audit/logs/", **HEADERS).status_code == 403
    assert _facts(_row("access_denied")) == (user.pk, "alice", None, None, "GET /api/audit/logs/")


def test_an_admin_reads_the_trail_with_a_bearer_token(admin_user):
    client = _bearer(_login(APIClient(), "root").json()["access"])
    response = client.get("/api/audit/logs/", {"action": "login_success"})
    assert response.status_code == 200
    assert [row["actor_username"] for row in response.json()["results"]] == ["root"]


def test_a_spoofed_forwarded_for_does_not_change_the_recorded_ip(api_client, user):
    api_client.post(
        "/api/auth/login/",
        {"username": "alice", "password": "wrong"},
        format="json",
        REMOTE_ADDR="192.0.2.77",
        HTTP_X_FORWARDED_FOR="10.9.9.9",
    )
    assert AuditEntry.objects.get(action="login_failed").ip == "192.0.2.77"


def test_behind_a_trusted_proxy_the_forwarded_client_is_recorded(api_client, user, settings):
    settings.TRUSTED_PROXIES = ["192.0.2.1"]
    api_client.post(
        "/api/auth/login/",
        {"username": "alice", "password": "wrong"},
        format="json",
        REMOTE_ADDR="192.0.2.1",
        HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.23",
    )
    assert AuditEntry.objects.get(action="login_failed").ip == "198.51.100.23"
