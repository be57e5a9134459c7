"""GET and PATCH /api/auth/me/: your own account, where only the email can change."""

import pytest
from django.core.exceptions import ValidationError

from accounts import services, signals
from accounts.models import User
from tests.accounts.helpers import ME_URL, bearer, capture, token_pair
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_me_returns_the_callers_account_and_nothing_more(user_client, user):
    response = user_client.get(ME_URL)
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "username": "alice",
        "email": "alice@example.com",
        "is_admin": False,
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
    }


def test_is_admin_is_is_staff(admin_api_client):
    assert admin_api_client.get(ME_URL).json()["is_admin"] is True


def test_me_with_a_bearer_token_works(user):
    assert bearer(token_pair("alice")["access"]).get(ME_URL).json()["username"] == "alice"


def test_me_needs_authentication(api_client):
    response = api_client.get(ME_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_patch_changes_the_email(user_client, user):
    response = user_client.patch(ME_URL, {"email": "new@example.com"}, format="json")
    assert response.status_code == 200
    assert response.json()["email"] == "new@example.com"
    user.refresh_from_db()
    assert user.email == "new@example.com"


def test_patch_sends_profile_updated_once_with_the_fields_changed(user_client, user):
    with capture(signals.profile_updated) as calls:
        user_client.patch(ME_URL, {"email": "new@example.com"}, format="json")
    assert calls == [{"sender": User, "user": user, "fields": ["email"]}]


def test_patch_with_the_same_email_changes_nothing_and_sends_nothing(user_client):
    with capture(signals.profile_updated) as calls:
        assert user_client.patch(ME_URL, {"email": "alice@example.com"}, format="json").status_code == 200
    assert calls == []


def test_read_only_fields_in_the_body_are_ignored_never_applied(user_client, user):
    attempt = {
        "id": 999,
        "username": "mallory",
        "is_admin": True,
        "is_staff": True,
        "is_superuser": True,
        "is_active": False,
        "date_joined": "2000-01-01T00:00:00Z",
        "password": "hijacked password 123",
        "email": "alice2@example.com",
    }
    response = user_client.patch(ME_URL, attempt, format="json")
    assert response.status_code == 200
    before_joined = user.date_joined
    user.refresh_from_db()
    assert (user.pk, user.username, user.is_staff, user.is_superuser, user.is_active) == (
        response.json()["id"],
        "alice",
        False,
        False,
        True,
    )
    assert user.date_joined == before_joined
    assert user.email == "alice2@example.com"
    assert not user.check_password("hijacked password 123")


def test_an_email_taken_by_someone_else_in_any_case_is_400(user_client, other_user):
    response = user_client.patch(ME_URL, {"email": "BOB@example.com"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["email"]


def test_changing_the_case_of_your_own_email_is_allowed(user_client):
    assert user_client.patch(ME_URL, {"email": "Alice@Example.com"}, format="json").status_code == 200


@pytest.mark.parametrize("email", ["not-an-email", "", "al\x00ice@example.com"])
def test_a_bad_email_is_400(user_client, email):
    response = user_client.patch(ME_URL, {"email": email}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["email"]


def test_put_is_not_allowed(user_client):
    assert user_client.put(ME_URL, {"email": "x@example.com"}, format="json").status_code == 405


def test_the_service_turns_a_concurrent_email_collision_into_a_field_error(user):
    # The serializer checks first; this is the race it cannot see, settled by the unique constraint.
    UserFactory(username="carol", email="carol@example.com")
    with pytest.raises(ValidationError) as raised:
        services.user_update_profile(user=user, email="CAROL@example.com")
    assert list(raised.value.message_dict) == ["email"]
    assert user.email == "alice@example.com"
