"""Refresh tokens are remembered by their jti only: the stored rows are no credential (issue #20)."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken as SimpleJwtRefreshToken

from accounts import services
from accounts.tokens import PresentedRefreshToken, RefreshToken
from tests.accounts.helpers import LOGOUT_URL, REFRESH_URL, bearer, token_pair

pytestmark = pytest.mark.django_db


def jti(token: str) -> str:
    return PresentedRefreshToken(token)["jti"]


def assert_stored_without_text(token: str) -> None:
    row = OutstandingToken.objects.get(jti=jti(token))
    assert row.token == ""
    assert row.expires_at is not None
    assert row.created_at is not None


def test_login_stores_the_refresh_token_by_jti_without_its_text(user):
    pair = token_pair("alice")
    assert_stored_without_text(pair["refresh"])
    assert OutstandingToken.objects.get(jti=jti(pair["refresh"])).user == user


def test_a_rotated_token_is_stored_without_its_text_and_the_old_one_is_revoked(api_client, user):
    old = token_pair("alice")["refresh"]
    new = api_client.post(REFRESH_URL, {"refresh": old}, format="json").json()["refresh"]
    assert_stored_without_text(new)
    assert BlacklistedToken.objects.filter(token__jti=jti(old)).exists()


def test_no_stored_row_holds_any_issued_token(api_client, user):
    pair = token_pair("alice")
    rotated = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json").json()
    bearer(rotated["access"]).post(LOGOUT_URL, {"refresh": rotated["refresh"]}, format="json")
    stored = list(OutstandingToken.objects.values_list("token", flat=True))
    assert len(stored) == 2
    assert stored == ["", ""]


def test_outstand_and_blacklist_record_a_missing_token_without_its_text(user):
    # simplejwt writes a row from these too when the jti is unknown (e.g. a token
    # issued before the blacklist app was installed).
    token = RefreshToken.for_user(user)
    OutstandingToken.objects.all().delete()
    token.blacklist()
    row = OutstandingToken.objects.get(jti=token["jti"])
    assert row.token == ""
    assert row.user == user
    assert BlacklistedToken.objects.filter(token=row).exists()
    other = RefreshToken.for_user(user)
    OutstandingToken.objects.filter(jti=other["jti"]).delete()
    assert other.outstand().token == ""


def test_a_presented_token_is_still_refused_once_revoked_although_its_text_is_not_stored(api_client, user):
    pair = token_pair("alice")
    services.user_revoke_tokens(user=user)
    assert api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json").status_code == 401


def test_the_migration_blanks_the_tokens_stored_before(user):
    # Rows as simplejwt wrote them before DevLab stopped storing the text.
    old = [str(SimpleJwtRefreshToken.for_user(user)) for _ in range(3)]
    assert set(OutstandingToken.objects.values_list("token", flat=True)) == set(old)
    migration = importlib.import_module("accounts.migrations.0004_blank_refresh_tokens")
    migration.blank_tokens(apps, SimpleNamespace(connection=connection))
    assert set(OutstandingToken.objects.values_list("token", flat=True)) == {""}
    assert OutstandingToken.objects.count() == 3  # the jtis stay: revocation still works


def test_flushexpiredtokens_still_drops_expired_records(user, settings):
    token = RefreshToken.for_user(user)
    OutstandingToken.objects.filter(jti=token["jti"]).update(expires_at="2000-01-01T00:00:00Z")
    kept = RefreshToken.for_user(user)
    call_command("flushexpiredtokens")
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [kept["jti"]]
