"""One login-attempt service (accounts/login.py): every check of a password counts and is audited alike."""

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from accounts import login
from api.throttling import ScopedRateThrottle
from audit.models import AuditEntry
from tests.accounts.helpers import PASSWORD_URL, log_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

IP = "198.51.100.7"
NEW = "a brand new passphrase"


def change(client, old, new=NEW, **extra):
    return client.post(PASSWORD_URL, {"old_password": old, "new_password": new}, format="json", **extra)


def rows(action: str):
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


@pytest.fixture
def committed_cache():
    """transaction=True tests commit counters to the database cache; drop them after."""
    yield
    from django.core.cache import cache

    cache.clear()


# ---------------------------------------------------------------- password change


def test_wrong_old_passwords_lock_out_the_password_change_even_with_the_right_one(user_client, user):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert change(user_client, "guess", REMOTE_ADDR=IP).status_code == 400
    response = change(user_client, DEFAULT_PASSWORD, REMOTE_ADDR=IP)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= settings.LOGIN_LOCKOUT_MINUTES * 60
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_each_wrong_old_password_is_audited_as_password_change_failed(user_client, user):
    for _ in range(2):
        change(user_client, "guess", REMOTE_ADDR=IP)
    entries = rows("password_change_failed")
    assert [(e.actor_id, e.target_id, e.ip) for e in entries] == [(user.pk, user.pk, IP)] * 2
    assert all("guess" not in e.detail for e in entries)


def test_wrong_old_passwords_and_wrong_login_passwords_share_one_lockout(api_client, user_client, user):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        change(user_client, "guess", REMOTE_ADDR=IP)
    assert log_in(api_client, "alice", "wrong", REMOTE_ADDR=IP).status_code == 401
    assert log_in(api_client, "alice", REMOTE_ADDR=IP).status_code == 429
    assert change(user_client, DEFAULT_PASSWORD, REMOTE_ADDR=IP).status_code == 429


def test_a_locked_out_password_change_never_checks_the_old_password(user_client, user, monkeypatch):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        change(user_client, "guess", REMOTE_ADDR=IP)
    checked = []
    monkeypatch.setattr(type(user), "check_password", lambda self, raw: checked.append(raw) or True)
    assert change(user_client, DEFAULT_PASSWORD, REMOTE_ADDR=IP).status_code == 429
    assert checked == []
    assert [e.detail for e in rows("login_throttled")] == ["alice"]


def test_a_right_old_password_clears_the_failure_count(user_client, user):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        change(user_client, "guess", REMOTE_ADDR=IP)
    assert change(user_client, DEFAULT_PASSWORD, REMOTE_ADDR=IP).status_code == 204
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert change(user_client, "guess", REMOTE_ADDR=IP).status_code == 400
    assert change(user_client, NEW, new="another new passphrase", REMOTE_ADDR=IP).status_code == 204


def test_a_weak_new_password_is_refused_before_the_old_one_is_checked(user_client, user):
    # No oracle through a request that fails validation anyway: nothing counted, nothing audited.
    response = change(user_client, "guess", new="short")
    assert list(response.json()) == ["new_password"]
    assert rows("password_change_failed") == []


def test_the_password_change_has_its_own_per_user_rate(user, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "password", "2/min")
    client = APIClient()
    client.force_authenticate(user)
    for n in range(2):
        # Each from its own IP: the lockout per IP would not stop this, the rate per user does.
        assert change(client, "guess", REMOTE_ADDR=f"198.51.100.{n}").status_code == 400
    response = change(client, DEFAULT_PASSWORD, REMOTE_ADDR="198.51.100.50")
    assert response.status_code == 429
    assert "Retry-After" in response
    assert [e.detail for e in rows("login_throttled")] == ["alice"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("committed_cache")
def test_password_change_failed_rows_and_counts_survive_atomic_requests(user, monkeypatch):
    # The 400 marks the request's transaction for rollback; the row and the count must not go with it.
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    client = APIClient()
    client.force_authenticate(user)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        change(client, "guess", REMOTE_ADDR=IP)
    assert len(rows("password_change_failed")) == settings.LOGIN_FAILURE_LIMIT
    assert change(client, DEFAULT_PASSWORD, REMOTE_ADDR=IP).status_code == 429


# ---------------------------------------------------------------- over-long usernames


def test_an_over_long_username_is_a_failed_login_audited_cut_to_150_characters(api_client):
    name = "x" * 151 + "tail"
    response = log_in(api_client, name, "whatever", REMOTE_ADDR=IP)
    assert response.status_code == 401
    assert [e.detail for e in rows("login_failed")] == [name[:150]]


def test_an_over_long_username_counts_towards_the_lockout(api_client):
    name = "y" * 300
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert log_in(api_client, name, "whatever", REMOTE_ADDR=IP).status_code == 401
    assert log_in(api_client, name, "whatever", REMOTE_ADDR=IP).status_code == 429


def test_a_username_whose_first_150_characters_are_a_user_is_not_that_user(api_client):
    UserFactory(username="u" * 150)
    assert log_in(api_client, "u" * 150).status_code == 200
    assert log_in(api_client, "u" * 151).status_code == 401


@pytest.mark.parametrize("url", ["/admin/login/", "/api-auth/login/"])
def test_an_over_long_username_at_a_session_login_is_audited_too(client, url):
    name = "z" * 200
    response = client.post(url, {"username": name, "password": "whatever"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert [e.detail for e in rows("login_failed")] == [name[:150]]


# ---------------------------------------------------------------- the admin site


def test_the_admin_login_refusing_a_non_admin_with_the_right_password_is_login_failed(client, user):
    response = client.post("/admin/login/", {"username": "alice", "password": DEFAULT_PASSWORD}, REMOTE_ADDR=IP)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert [(e.detail, e.ip, e.actor_id) for e in rows("login_failed")] == [("alice", IP, None)]
    assert rows("login_success") == []


def test_a_non_admin_at_the_admin_login_counts_once_per_attempt(client, user):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        client.post("/admin/login/", {"username": "alice", "password": DEFAULT_PASSWORD}, REMOTE_ADDR=IP)
    # One attempt short of the limit: the API login still works (each refusal counted once, not twice).
    assert log_in(APIClient(), "alice", REMOTE_ADDR=IP).status_code == 200


def test_an_admin_still_logs_in_at_the_admin_site(client, admin_user):
    credentials = {"username": admin_user.username, "password": DEFAULT_PASSWORD}
    response = client.post("/admin/login/?next=/admin/", credentials)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin_user.pk)
    assert len(rows("login_success")) == 1


def test_a_blank_password_at_a_session_login_neither_counts_nor_resets(client, user, monkeypatch):
    calls = []
    monkeypatch.setattr(login.lockout, "check", lambda **kw: calls.append(kw) or 0)
    client.post("/api-auth/login/", {"username": "alice", "password": ""})
    assert calls == []


# ---------------------------------------------------------------- bounded login_throttled rows


def test_a_locked_out_client_adds_one_login_throttled_row_a_minute(api_client, user, monkeypatch):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        log_in(api_client, "alice", "wrong", REMOTE_ADDR=IP)
    now = 1_800_000_000.0
    monkeypatch.setattr(login.time, "time", lambda: now)
    for _ in range(20):
        assert log_in(api_client, "alice", REMOTE_ADDR=IP).status_code == 429
    assert len(rows("login_throttled")) == 1
    now += login.THROTTLED_AUDIT_SECONDS
    assert log_in(api_client, "alice", REMOTE_ADDR=IP).status_code == 429
    assert len(rows("login_throttled")) == 2


def test_each_client_and_username_gets_its_own_login_throttled_row(api_client, user, other_user):
    for name in ("alice", "bob"):
        for ip in (IP, "203.0.113.5"):
            for _ in range(settings.LOGIN_FAILURE_LIMIT + 3):
                log_in(api_client, name, "wrong", REMOTE_ADDR=ip)
    entries = rows("login_throttled")
    assert sorted((e.detail, e.ip) for e in entries) == sorted(
        [("alice", IP), ("alice", "203.0.113.5"), ("bob", IP), ("bob", "203.0.113.5")]
    )


def test_the_login_rate_adds_one_login_throttled_row_a_minute_per_username(api_client, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "login", "1/min")
    log_in(api_client, "first", "x", REMOTE_ADDR=IP)
    for _ in range(10):
        assert log_in(api_client, "victim", "x", REMOTE_ADDR=IP).status_code == 429
    assert log_in(api_client, "other", "x", REMOTE_ADDR=IP).status_code == 429
    assert [e.detail for e in rows("login_throttled")] == ["victim", "other"]


def test_every_refusal_still_has_its_request_log_line(api_client, user, caplog):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        log_in(api_client, "alice", "wrong", REMOTE_ADDR=IP)
    caplog.set_level("INFO", logger="devlab.request")
    for _ in range(3):
        log_in(api_client, "alice", REMOTE_ADDR=IP)
    refused = [r for r in caplog.records if r.name == "devlab.request" and getattr(r, "status", None) == 429]
    assert len(refused) == 3
    assert len(rows("login_throttled")) == 1


# ---------------------------------------------------------------- IPv6 clients by /64


def test_an_ipv6_client_cannot_dodge_the_lockout_by_changing_address_within_its_64(api_client, user):
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        assert log_in(api_client, "alice", "wrong", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}").status_code == 401
    assert log_in(api_client, "alice", REMOTE_ADDR="2001:db8:1:2:ffff:1:2:3").status_code == 429
    assert log_in(api_client, "alice", REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


def test_an_ipv6_client_cannot_dodge_the_login_rate_by_changing_address_within_its_64(api_client, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "login", "3/min")
    for n in range(3):
        assert log_in(api_client, f"user{n}", "x", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}").status_code == 401
    assert log_in(api_client, "victim", "x", REMOTE_ADDR="2001:db8:1:2:abcd::9").status_code == 429
    assert log_in(api_client, "victim", "x", REMOTE_ADDR="2001:db8:9:9::1").status_code == 401


def test_ipv6_addresses_of_one_64_share_one_login_throttled_row(api_client, user):
    for n in range(settings.LOGIN_FAILURE_LIMIT + 5):
        log_in(api_client, "alice", "wrong", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}")
    assert len(rows("login_throttled")) == 1
