"""POST /api/auth/password/: a new password, and every refresh token revoked."""

import pytest

from accounts import signals
from accounts.models import User
from tests.accounts.helpers import ME_URL, PASSWORD_URL, REFRESH_URL, bearer, capture, log_in, token_pair
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

NEW = "a brand new passphrase"


def change(client, old=DEFAULT_PASSWORD, new=NEW):
    return client.post(PASSWORD_URL, {"old_password": old, "new_password": new}, format="json")


def test_the_new_password_works_and_the_old_one_does_not(user_client, api_client, user):
    assert change(user_client).status_code == 204
    assert log_in(api_client, "alice", NEW).status_code == 200
    assert log_in(api_client, "alice", DEFAULT_PASSWORD).status_code == 401


def test_a_password_change_revokes_every_refresh_token_of_the_user(api_client, user, other_user):
    sessions = [token_pair("alice") for _ in range(2)]
    bobs = token_pair("bob")["refresh"]
    assert change(bearer(sessions[0]["access"])).status_code == 204
    for session in sessions:
        assert api_client.post(REFRESH_URL, {"refresh": session["refresh"]}, format="json").status_code == 401
    assert api_client.post(REFRESH_URL, {"refresh": bobs}, format="json").status_code == 200


def test_a_password_change_sends_password_changed_once_with_the_user_as_actor(user_client, user):
    with capture(signals.password_changed) as calls:
        change(user_client)
    assert calls == [{"sender": User, "actor": user, "user": user}]


def test_a_wrong_old_password_is_400_and_changes_nothing(user_client, user):
    with capture(signals.password_changed) as calls:
        response = change(user_client, old="not my password")
    assert response.status_code == 400
    assert list(response.json()) == ["old_password"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert calls == []


def test_the_old_password_is_required(user_client):
    response = user_client.post(PASSWORD_URL, {"new_password": NEW}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["old_password"]


@pytest.mark.parametrize("new", ["password", "12345678", "short", "alice-example"], ids=str)
def test_a_new_password_rejected_by_djangos_validators_is_400(user_client, new):
    response = change(user_client, new=new)
    assert response.status_code == 400
    assert list(response.json()) == ["new_password"]


def test_a_password_change_needs_authentication(api_client, user):
    assert change(api_client).status_code == 401


def test_a_browsable_api_session_survives_its_own_password_change(client, user):
    client.force_login(user)
    assert client.post(PASSWORD_URL, {"old_password": DEFAULT_PASSWORD, "new_password": NEW}).status_code == 204
    assert client.get(ME_URL).status_code == 200
