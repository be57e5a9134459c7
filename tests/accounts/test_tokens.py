"""Refresh rotation with reuse detection, and what JWT authentication accepts."""

import time
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import services, signals
from accounts.models import User
from accounts.permissions import IsAdmin
from accounts.tokens import RefreshToken
from tests.accounts.helpers import ME_URL, REFRESH_URL, bearer, capture, in_parallel, token_pair

pytestmark = pytest.mark.django_db


def refresh(client, token):
    return client.post(REFRESH_URL, {"refresh": token}, format="json")


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def committed_cache():
    """transaction=True tests commit throttle counters to the database cache; drop them after."""
    yield
    cache.clear()


def test_refresh_returns_a_new_pair_and_revokes_the_token_sent(api_client, user):
    old = token_pair("alice")["refresh"]
    response = refresh(api_client, old)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != old
    assert claims(body["access"])["user_id"] == str(user.pk)
    assert BlacklistedToken.objects.filter(token__jti=claims(old)["jti"]).exists()
    assert bearer(body["access"]).get(ME_URL).status_code == 200
    assert refresh(api_client, body["refresh"]).status_code == 200


def test_refresh_responses_are_not_cached(api_client, user):
    response = refresh(api_client, token_pair("alice")["refresh"])
    assert response["Cache-Control"] == "no-store"


def test_reusing_a_rotated_out_token_revokes_every_refresh_token_of_its_user(api_client, user, other_user):
    stolen = token_pair("alice")["refresh"]
    other_session = token_pair("alice")["refresh"]
    bobs = token_pair("bob")["refresh"]
    thiefs = refresh(api_client, stolen).json()["refresh"]  # the thief rotates first
    with capture(signals.refresh_token_reused) as calls:
        response = refresh(api_client, stolen)  # then the victim presents the old one
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert calls == [{"sender": User, "user": user}]
    assert refresh(api_client, thiefs).status_code == 401
    assert refresh(api_client, other_session).status_code == 401
    assert refresh(api_client, bobs).status_code == 200


def test_presenting_a_logged_out_token_is_a_reuse_too(api_client, user):
    pair = token_pair("alice")
    assert bearer(pair["access"]).post("/api/auth/logout/", {"refresh": pair["refresh"]}).status_code == 204
    with capture(signals.refresh_token_reused) as calls:
        assert refresh(api_client, pair["refresh"]).status_code == 401
    assert len(calls) == 1


@pytest.mark.parametrize("atomic_requests", [False, True], ids=["autocommit", "atomic-requests"])
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("committed_cache")
def test_the_revocation_on_reuse_persists_although_the_request_fails(api_client, user, monkeypatch, atomic_requests):
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", atomic_requests)
    stolen = token_pair("alice")["refresh"]
    thiefs = refresh(api_client, stolen).json()["refresh"]
    assert refresh(api_client, stolen).status_code == 401
    assert BlacklistedToken.objects.filter(token__jti=claims(thiefs)["jti"]).exists()
    assert refresh(api_client, thiefs).status_code == 401


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("committed_cache")
def test_eight_parallel_refreshes_of_one_token_give_exactly_one_200(user, monkeypatch):
    token = token_pair("alice")["refresh"]
    issue = RefreshToken.for_user.__func__

    def slow_issue(cls, user):
        # Widens the race: the winner's transaction stays open while the others arrive.
        time.sleep(0.2)
        return issue(cls, user)

    monkeypatch.setattr(RefreshToken, "for_user", classmethod(slow_issue))
    results = in_parallel(8, lambda client, _: refresh(client, token))
    statuses = sorted(getattr(r, "status_code", r) for r in results)
    assert statuses == [200] + [401] * 7, results
    assert OutstandingToken.objects.filter(user=user).count() == 2  # the login's and the one rotation's


def test_a_refresh_token_of_a_deactivated_user_is_401(api_client, user):
    token = token_pair("alice")["refresh"]
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert refresh(api_client, token).status_code == 401


def test_a_refresh_token_of_a_deleted_user_is_401_not_500(api_client, user):
    token = token_pair("alice")["refresh"]
    user.delete()
    assert refresh(api_client, token).status_code == 401


def test_a_rotated_out_token_of_a_deleted_user_is_a_reuse_without_a_user(api_client, user):
    token = token_pair("alice")["refresh"]
    refresh(api_client, token)
    user.delete()
    with capture(signals.refresh_token_reused) as calls:
        assert refresh(api_client, token).status_code == 401
    assert calls == [{"sender": User, "user": None}]


def test_an_expired_refresh_token_is_401(api_client, user):
    token = RefreshToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    assert refresh(api_client, str(token)).status_code == 401


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 5000])
def test_a_malformed_refresh_token_is_401(api_client, token):
    assert refresh(api_client, token).status_code == 401


def test_a_missing_refresh_token_is_400(api_client):
    response = api_client.post(REFRESH_URL, {}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["refresh"]


def test_an_access_token_is_not_accepted_as_a_refresh_token(api_client, user):
    assert refresh(api_client, token_pair("alice")["access"]).status_code == 401


def test_a_refresh_token_is_never_accepted_as_an_access_token(user):
    assert bearer(token_pair("alice")["refresh"]).get(ME_URL).status_code == 401


def _forged(token: str, key: str | None, algorithm: str) -> str:
    return jwt.encode(claims(token), key, algorithm=algorithm)


@pytest.mark.parametrize(
    ("key", "algorithm"), [(None, "none"), ("another-secret-key-of-32-bytes-ok!", "HS256")], ids=["alg-none", "foreign"]
)
def test_forged_tokens_are_401(api_client, user, key, algorithm):
    pair = token_pair("alice")
    assert bearer(_forged(pair["access"], key, algorithm)).get(ME_URL).status_code == 401
    assert refresh(api_client, _forged(pair["refresh"], key, algorithm)).status_code == 401


def test_tokens_in_the_query_string_are_ignored(api_client, user):
    access = token_pair("alice")["access"]
    response = api_client.get(f"{ME_URL}?access_token={access}&token={access}&jwt={access}")
    assert response.status_code == 401


def test_jwt_authentication_reads_the_user_with_one_primary_key_query(user):
    client = bearer(token_pair("alice")["access"])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(ME_URL).status_code == 200
    user_queries = [q["sql"] for q in queries.captured_queries if "accounts_user" in q["sql"]]
    assert len(user_queries) == 1
    assert '"accounts_user"."id" = ' in user_queries[0]


def test_a_deactivated_users_access_token_stops_working_at_once(user):
    client = bearer(token_pair("alice")["access"])
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get(ME_URL).status_code == 401


class _AdminOnly(APIView):
    permission_classes = [IsAdmin]

    def get(self, request):
        return Response({"ok": True})


def test_a_demoted_admins_access_token_loses_admin_rights_at_once(admin_user):
    access = token_pair("root")["access"]

    def admin_only():
        request = APIRequestFactory().get("/admin-only/", HTTP_AUTHORIZATION=f"Bearer {access}")
        return _AdminOnly.as_view()(request).status_code

    assert admin_only() == 200
    User.objects.filter(pk=admin_user.pk).update(is_staff=False)
    assert admin_only() == 403


def test_user_revoke_tokens_revokes_every_outstanding_refresh_token_of_that_user_only(user, other_user):
    mine = [token_pair("alice")["refresh"] for _ in range(3)]
    already = RefreshToken(mine[0])
    already.blacklist()
    expired = RefreshToken.for_user(user)
    OutstandingToken.objects.filter(jti=expired["jti"]).update(expires_at="2000-01-01T00:00:00Z")
    bobs = token_pair("bob")["refresh"]

    assert services.user_revoke_tokens(user=user) == 2
    revoked = set(BlacklistedToken.objects.values_list("token__jti", flat=True))
    assert {claims(t)["jti"] for t in mine} <= revoked
    assert claims(bobs)["jti"] not in revoked


def test_login_issues_tokens_with_the_configured_lifetimes(user):
    pair = token_pair("alice")
    access, refresh_claims = claims(pair["access"]), claims(pair["refresh"])
    assert access["exp"] - access["iat"] == settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    assert (
        refresh_claims["exp"] - refresh_claims["iat"] == settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds()
    )
