"""Login lockout per (username, client IP) and the per-IP login rate, in the shared cache."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.utils import timezone

from accounts import lockout, signals
from accounts.models import User
from api.throttling import ScopedRateThrottle
from tests.accounts.helpers import capture, in_parallel, log_in

pytestmark = pytest.mark.django_db

IP = "198.51.100.7"


def fail(client, username="alice", times=None, **extra):
    for _ in range(settings.LOGIN_FAILURE_LIMIT if times is None else times):
        assert log_in(client, username, "wrong password", REMOTE_ADDR=IP, **extra).status_code == 401


@pytest.fixture
def committed_cache():
    """transaction=True tests commit counters to the database cache; drop them after."""
    yield
    cache.clear()


def test_the_limit_of_failures_locks_out_even_the_right_password(api_client, user):
    fail(api_client)
    response = log_in(api_client, "alice", REMOTE_ADDR=IP)
    assert response.status_code == 429
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    assert window - 5 <= int(response["Retry-After"]) <= window
    assert "detail" in response.json()


def test_one_failure_fewer_than_the_limit_does_not_lock_out(api_client, user):
    fail(api_client, times=settings.LOGIN_FAILURE_LIMIT - 1)
    assert log_in(api_client, "alice", REMOTE_ADDR=IP).status_code == 200


def test_the_username_is_counted_ignoring_case(api_client, user):
    fail(api_client, username="ALICE")
    assert log_in(api_client, "alice", REMOTE_ADDR=IP).status_code == 429


def test_a_locked_out_login_never_touches_the_password_hasher(api_client, user, monkeypatch):
    fail(api_client)
    calls = []
    monkeypatch.setattr(MD5PasswordHasher, "encode", lambda *args: calls.append(args))
    monkeypatch.setattr(MD5PasswordHasher, "verify", lambda *args: calls.append(args))
    assert log_in(api_client, "alice", REMOTE_ADDR=IP).status_code == 429
    assert calls == []


def test_a_locked_out_login_sends_login_throttled_with_the_username(api_client, user):
    fail(api_client)
    with capture(signals.login_throttled) as calls:
        log_in(api_client, "alice", REMOTE_ADDR=IP)
    assert calls == [{"sender": User, "username": "alice", "reason": "lockout"}]


def test_a_success_before_the_limit_resets_the_count(api_client, user):
    fail(api_client, times=settings.LOGIN_FAILURE_LIMIT - 1)
    assert log_in(api_client, "alice", REMOTE_ADDR=IP).status_code == 200
    fail(api_client, times=settings.LOGIN_FAILURE_LIMIT - 1)
    assert log_in(api_client, "alice", REMOTE_ADDR=IP).status_code == 200


def test_another_username_from_the_same_ip_is_not_locked_out(api_client, user, other_user):
    fail(api_client)
    assert log_in(api_client, "bob", REMOTE_ADDR=IP).status_code == 200


def test_the_same_username_from_another_ip_is_not_locked_out(api_client, user):
    fail(api_client)
    assert log_in(api_client, "alice", REMOTE_ADDR="198.51.100.8").status_code == 200


def test_x_forwarded_for_from_an_untrusted_peer_cannot_dodge_the_lockout(api_client, user):
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        log_in(api_client, "alice", "wrong", REMOTE_ADDR=IP, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = log_in(api_client, "alice", REMOTE_ADDR=IP, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count(api_client, user, settings):
    settings.TRUSTED_PROXIES = [IP]
    fail(api_client, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert log_in(api_client, "alice", REMOTE_ADDR=IP, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 429
    assert log_in(api_client, "alice", REMOTE_ADDR=IP, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 200


def test_the_lockout_ends_when_the_window_has_passed(api_client, user, monkeypatch):
    if not isinstance(caches["default"], DatabaseCache):
        pytest.skip("moves the database cache's clock")
    fail(api_client)
    later = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES, seconds=2)
    monkeypatch.setattr("django.core.cache.backends.db.tz_now", lambda: later)
    monkeypatch.setattr(lockout.time, "time", lambda: later.timestamp())
    assert log_in(api_client, "alice", REMOTE_ADDR=IP).status_code == 200


def test_the_counters_live_in_the_shared_cache_not_in_process_memory(api_client, user, monkeypatch):
    assert not isinstance(caches["default"], LocMemCache | DummyCache)
    fail(api_client)
    # A second, independent connection to the configured cache (another worker) sees the lockout.
    other_worker = caches.create_connection("default")
    assert other_worker is not caches["default"]
    monkeypatch.setattr(lockout, "cache", other_worker)
    assert _retry_after("alice") > 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("committed_cache")
def test_failures_counted_by_another_process_lock_out_this_one(api_client, user):
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
    }
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from accounts import lockout\n"
        "for _ in range(settings.LOGIN_FAILURE_LIMIT):\n"
        f"    lockout.record_failure(username='alice', ip='{IP}')\n"
    )
    subprocess.run(  # noqa: S603 - a fixed script with this interpreter
        [sys.executable, "-c", script],
        env={**env, "DJANGO_SETTINGS_MODULE": "devlab.settings"},
        cwd=settings.BASE_DIR,
        check=True,
        timeout=60,
    )
    assert log_in(api_client, "alice", REMOTE_ADDR=IP).status_code == 429


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("committed_cache")
def test_parallel_failures_are_all_counted(user):
    limit = settings.LOGIN_FAILURE_LIMIT
    results = in_parallel(limit, lambda client, _: log_in(client, "alice", "wrong", REMOTE_ADDR=IP))
    assert [r.status_code for r in results] == [401] * limit
    assert _retry_after("alice") > 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("committed_cache")
def test_failures_are_counted_with_atomic_requests_on(api_client, user, monkeypatch):
    # The 401 rolls back the request's transaction; the counters must not go with it.
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    fail(api_client)
    assert log_in(api_client, "alice", REMOTE_ADDR=IP).status_code == 429


@pytest.fixture
def three_logins_a_minute(monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "login", "3/min")


@pytest.mark.usefixtures("three_logins_a_minute")
def test_the_per_ip_login_rate_stops_spraying_across_usernames(api_client):
    for n in range(3):
        assert log_in(api_client, f"user{n}", "Winter2024!", REMOTE_ADDR=IP).status_code == 401
    with capture(signals.login_throttled) as calls:
        response = api_client.post(
            "/api/auth/login/",
            "username=victim&password=Winter2024%21",
            content_type="application/x-www-form-urlencoded",
            REMOTE_ADDR=IP,
        )
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert calls == [{"sender": User, "username": "victim", "reason": "rate"}]
    assert log_in(api_client, "user0", "Winter2024!", REMOTE_ADDR="198.51.100.99").status_code == 401


@pytest.mark.usefixtures("three_logins_a_minute")
def test_a_rate_limited_login_with_an_unreadable_body_still_sends_login_throttled(api_client):
    for n in range(3):
        log_in(api_client, f"user{n}", "x", REMOTE_ADDR=IP)
    with capture(signals.login_throttled) as calls:
        response = api_client.post("/api/auth/login/", "{not json", content_type="application/json", REMOTE_ADDR=IP)
    assert response.status_code == 429
    assert calls == [{"sender": User, "username": "", "reason": "rate"}]


def test_retry_after_counts_down(user, monkeypatch):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        lockout.record_failure(username="alice", ip=IP)
    now = time.time()
    monkeypatch.setattr(lockout.time, "time", lambda: now + 60)
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    assert window - 65 <= _retry_after("alice") <= window - 59


def test_a_check_counts_the_recent_failures_below_the_limit(user):
    lockout.record_failure(username="alice", ip=IP)
    lockout.record_failure(username="alice", ip=IP)
    assert lockout.check(username="alice", ip=IP) == 2
    assert lockout.check(username="alice", ip="198.51.100.99") == 0


def test_a_success_without_recorded_failures_writes_nothing_to_the_lockout(api_client, user, password, monkeypatch):
    cleared = []
    monkeypatch.setattr(lockout, "reset", lambda **pair: cleared.append(pair))
    assert log_in(api_client, "alice", password, REMOTE_ADDR=IP).status_code == 200
    assert cleared == []


def _retry_after(username: str) -> int:
    with pytest.raises(lockout.LockedOut) as locked:
        lockout.check(username=username, ip=IP)
    return locked.value.retry_after


def test_the_browsable_api_login_is_locked_out_like_the_api(client, user, password):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/api-auth/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR=IP)
    with capture(signals.login_throttled) as calls:
        response = client.post("/api-auth/login/", {"username": "alice", "password": password}, REMOTE_ADDR=IP)
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert calls == [{"sender": User, "username": "alice", "reason": "lockout"}]


def test_the_browsable_api_login_still_logs_in(client, user, password):
    response = client.post("/api-auth/login/", {"username": "alice", "password": password, "next": "/api/notes/"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
