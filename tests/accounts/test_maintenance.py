"""manage.py maintenance: expired tokens, sessions and cache entries go, live ones stay."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from devlab import maintenance
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def token(user, jti, *, expires_in: timedelta, revoked=False) -> OutstandingToken:
    now = timezone.now()
    row = OutstandingToken.objects.create(
        user=user, jti=jti, token=f"token-{jti}", created_at=now - timedelta(days=8), expires_at=now + expires_in
    )
    if revoked:
        BlacklistedToken.objects.create(token=row)
    return row


def session(key, *, expires_in: timedelta) -> None:
    Session.objects.create(
        session_key=key, session_data=SessionStore().encode({}), expire_date=timezone.now() + expires_in
    )


def cache_entry(key, *, expires_in: timedelta) -> None:
    """A cache entry expiring ``expires_in`` from now; in the past, the way time would leave it."""
    cache.set(key, "value", timeout=60)
    table = connection.ops.quote_name(cache._table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET expires = %s WHERE cache_key = %s",  # noqa: S608
            [
                connection.ops.adapt_datetimefield_value((timezone.now() + expires_in).replace(microsecond=0)),
                cache.make_and_validate_key(key),
            ],
        )


def cache_rows() -> int:
    table = connection.ops.quote_name(cache._table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def rows(user):
    other = UserFactory(username="bob")
    token(user, "expired", expires_in=-timedelta(seconds=1))
    token(user, "expired-revoked", expires_in=-timedelta(days=1), revoked=True)
    token(other, "live", expires_in=timedelta(days=1))
    token(other, "live-revoked", expires_in=timedelta(minutes=1), revoked=True)
    session("expiredsessionkey0000000000000001", expires_in=-timedelta(seconds=1))
    session("livesessionkey000000000000000001", expires_in=timedelta(days=1))
    cache_entry("old", expires_in=-timedelta(minutes=1))
    cache_entry("fresh", expires_in=timedelta(minutes=5))


def test_expired_rows_go_and_live_ones_stay(rows, capsys):
    call_command("maintenance")
    assert set(OutstandingToken.objects.values_list("jti", flat=True)) == {"live", "live-revoked"}
    assert set(BlacklistedToken.objects.values_list("token__jti", flat=True)) == {"live-revoked"}
    assert list(Session.objects.values_list("session_key", flat=True)) == ["livesessionkey000000000000000001"]
    assert cache.get("fresh") == "value"
    assert cache_rows() == 1
    out = capsys.readouterr().out
    assert "Removed 2 expired refresh tokens." in out
    assert "Removed 1 blacklist entries of expired refresh tokens." in out
    assert "Removed 1 expired sessions." in out
    assert "Removed 1 expired cache entries (default)." in out


def test_dry_run_counts_and_removes_nothing(rows, capsys):
    call_command("maintenance", "--dry-run")
    out = capsys.readouterr().out
    assert "Would remove 2 expired refresh tokens." in out
    assert "Would remove 1 expired sessions." in out
    assert "Would remove 1 expired cache entries (default)." in out
    assert OutstandingToken.objects.count() == 4
    assert BlacklistedToken.objects.count() == 2
    assert Session.objects.count() == 2
    assert cache_rows() == 2


def test_a_second_run_finds_nothing_left(rows, capsys):
    call_command("maintenance", verbosity=0)
    assert {removed.count for removed in maintenance.run()} == {0}


def test_verbosity_0_prints_nothing(rows, capsys):
    call_command("maintenance", verbosity=0)
    assert capsys.readouterr().out == ""


def test_caches_other_than_the_database_are_left_to_expire_on_their_own(rows, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert maintenance.expired_cache_cull() == []
