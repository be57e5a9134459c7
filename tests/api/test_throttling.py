"""Throttles count requests in fixed windows with one atomic counter hit each."""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from api.throttling import FixedWindowThrottle, UserRateThrottle
from devlab.cache import count_hit
from tests.notes.conftest import NOTES_URL, bearer

pytestmark = pytest.mark.django_db

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle-tests"}}


@pytest.fixture
def two_a_minute(monkeypatch):
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "2/min")


def _set_clock(monkeypatch, now):
    monkeypatch.setattr(FixedWindowThrottle, "timer", lambda self: now)


def test_a_hit_on_the_database_cache_is_one_statement_that_returns_the_count():
    with CaptureQueriesContext(connection) as captured:
        counts = [count_hit(caches["default"], "hits", timeout=60) for _ in range(3)]
    assert counts == [1, 2, 3]
    assert len(captured.captured_queries) == 3


@override_settings(CACHES=LOCMEM)
def test_a_hit_on_another_cache_counts_with_add_and_incr():
    cache = caches["default"]
    cache.clear()
    assert [count_hit(cache, "hits", timeout=60) for _ in range(3)] == [1, 2, 3]


@pytest.mark.usefixtures("two_a_minute")
def test_a_request_over_the_rate_is_429_until_the_window_ends(user, monkeypatch, throttle_clock):
    _set_clock(monkeypatch, throttle_clock + 20)
    client = bearer(user)
    assert [client.get(NOTES_URL).status_code for _ in range(3)] == [200, 200, 429]
    refused = client.get(NOTES_URL)
    assert refused.json()["detail"]
    assert int(refused["Retry-After"]) == 40


@pytest.mark.usefixtures("two_a_minute")
def test_the_next_window_starts_from_zero(user, monkeypatch, throttle_clock):
    client = bearer(user)
    assert [client.get(NOTES_URL).status_code for _ in range(3)] == [200, 200, 429]
    _set_clock(monkeypatch, throttle_clock + 60)
    assert client.get(NOTES_URL).status_code == 200


@pytest.mark.usefixtures("two_a_minute")
def test_each_user_has_a_counter_of_their_own(user, other_user):
    client = bearer(user)
    assert [client.get(NOTES_URL).status_code for _ in range(3)] == [200, 200, 429]
    assert bearer(other_user).get(NOTES_URL).status_code == 200
