"""The JWT authentication: simplejwt's checks, one precompiled query for the user, and
tokens a worker has validated kept so that only their expiry is checked again."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow

from accounts import authentication
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/auth/me/"


def client_with(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture(autouse=True)
def _no_validated_tokens():
    authentication._validated_tokens.clear()
    yield
    authentication._validated_tokens.clear()


def test_a_valid_token_is_kept_after_its_first_use(user):
    token = str(AccessToken.for_user(user))
    assert client_with(token).get(ME).status_code == 200
    assert token.encode() in authentication._validated_tokens


def test_a_kept_token_that_has_since_expired_is_refused(user, monkeypatch):
    token = str(AccessToken.for_user(user))
    assert client_with(token).get(ME).status_code == 200
    later = aware_utcnow() + timedelta(days=1)
    monkeypatch.setattr("rest_framework_simplejwt.tokens.aware_utcnow", lambda: later)
    monkeypatch.setattr(authentication, "aware_utcnow", lambda: later)
    response = client_with(token).get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert token.encode() not in authentication._validated_tokens


def test_a_kept_token_of_a_user_deactivated_since_is_refused_at_once(user):
    token = str(AccessToken.for_user(user))
    assert client_with(token).get(ME).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client_with(token).get(ME).status_code == 401


def test_a_kept_token_of_a_deleted_user_is_refused(user):
    token = str(AccessToken.for_user(user))
    assert client_with(token).get(ME).status_code == 200
    user.delete()
    assert client_with(token).get(ME).status_code == 401


def test_a_tampered_token_is_never_taken_for_a_kept_one(user):
    token = str(AccessToken.for_user(user))
    assert client_with(token).get(ME).status_code == 200
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert client_with(tampered).get(ME).status_code == 401


def test_the_worker_keeps_a_bounded_number_of_tokens(monkeypatch):
    monkeypatch.setattr(authentication, "VALIDATED_TOKENS_MAX", 3)
    for user in UserFactory.create_batch(5):
        assert client_with(AccessToken.for_user(user)).get(ME).status_code == 200
        assert len(authentication._validated_tokens) <= 3


def test_the_user_is_read_with_one_query(user, django_assert_num_queries):
    token = str(AccessToken.for_user(user))
    header = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    with django_assert_num_queries(1):
        user_found, _ = authentication.JWTAuthentication().authenticate(APIRequestFactory().get(ME, **header))
    assert user_found == user
