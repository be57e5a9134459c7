"""POST /api/auth/logout/ and /api/auth/logout-all/: revoking refresh tokens."""

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts import signals
from accounts.models import User
from tests.accounts.helpers import LOGOUT_ALL_URL, LOGOUT_URL, REFRESH_URL, bearer, capture, token_pair

pytestmark = pytest.mark.django_db


def refresh_status(token: str) -> int:
    return bearer("unused").post(REFRESH_URL, {"refresh": token}, format="json").status_code


def test_logout_revokes_the_refresh_token_given(user):
    pair = token_pair("alice")
    response = bearer(pair["access"]).post(LOGOUT_URL, {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 204
    assert BlacklistedToken.objects.count() == 1
    assert refresh_status(pair["refresh"]) == 401


def test_logout_leaves_the_callers_other_sessions_alone(user):
    pair, other_session = token_pair("alice"), token_pair("alice")
    bearer(pair["access"]).post(LOGOUT_URL, {"refresh": pair["refresh"]}, format="json")
    assert refresh_status(other_session["refresh"]) == 200


def test_logout_sends_user_logged_out_once_with_the_user(user):
    pair = token_pair("alice")
    with capture(signals.user_logged_out) as calls:
        bearer(pair["access"]).post(LOGOUT_URL, {"refresh": pair["refresh"]}, format="json")
    assert calls == [{"sender": User, "user": user}]


def test_logging_out_twice_with_one_token_is_204_and_sends_nothing_more(user):
    pair = token_pair("alice")
    client = bearer(pair["access"])
    client.post(LOGOUT_URL, {"refresh": pair["refresh"]}, format="json")
    with capture(signals.user_logged_out) as calls:
        assert client.post(LOGOUT_URL, {"refresh": pair["refresh"]}, format="json").status_code == 204
    assert calls == []


def test_logout_without_a_token_is_400(user):
    response = bearer(token_pair("alice")["access"]).post(LOGOUT_URL, {}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["refresh"]


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "access"])
def test_logout_with_a_malformed_token_or_an_access_token_is_400(user, token):
    pair = token_pair("alice")
    response = bearer(pair["access"]).post(LOGOUT_URL, {"refresh": pair.get(token, token)}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["refresh"]


def test_logout_with_another_users_token_is_400_and_revokes_nothing(user, other_user):
    bobs = token_pair("bob")["refresh"]
    response = bearer(token_pair("alice")["access"]).post(LOGOUT_URL, {"refresh": bobs}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["refresh"]
    assert refresh_status(bobs) == 200


def test_logout_needs_authentication(api_client, user):
    response = api_client.post(LOGOUT_URL, {"refresh": token_pair("alice")["refresh"]}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_logout_all_revokes_every_refresh_token_of_the_caller_only(user, other_user):
    sessions = [token_pair("alice") for _ in range(3)]
    bobs = token_pair("bob")["refresh"]
    assert bearer(sessions[0]["access"]).post(LOGOUT_ALL_URL).status_code == 204
    assert [refresh_status(s["refresh"]) for s in sessions] == [401, 401, 401]
    assert refresh_status(bobs) == 200


def test_logout_all_sends_user_logged_out_once(user):
    client = bearer(token_pair("alice")["access"])
    with capture(signals.user_logged_out) as calls:
        client.post(LOGOUT_ALL_URL)
    assert calls == [{"sender": User, "user": user}]


def test_logout_all_needs_authentication(api_client):
    assert api_client.post(LOGOUT_ALL_URL).status_code == 401


def test_the_access_token_lives_on_after_logout_until_it_expires(user):
    # Documented behaviour: access tokens are short-lived (ACCESS_TOKEN_MINUTES) and not revocable.
    pair = token_pair("alice")
    client = bearer(pair["access"])
    client.post(LOGOUT_ALL_URL)
    assert client.get("/api/auth/me/").status_code == 200


def test_options_on_logout_all_describes_the_endpoint(user):
    # Found by schemathesis: a GenericAPIView without a serializer answered OPTIONS with 500.
    response = bearer(token_pair("alice")["access"]).options(LOGOUT_ALL_URL)
    assert response.status_code == 200
    assert response.json()["name"] == "Logout All"
