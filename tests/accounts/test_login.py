"""POST /api/auth/login/: tokens for the right password, one indistinguishable 401 otherwise."""

import json
import logging

import jwt
import pytest
from django.conf import settings
from django.contrib.auth import user_logged_in, user_login_failed
from django.contrib.auth.hashers import MD5PasswordHasher
from jsonschema import Draft202012Validator

from accounts.models import User
from devlab.logging import JsonFormatter
from tests.accounts.helpers import (
    LOGIN_URL,
    LOGOUT_URL,
    PASSWORD_URL,
    REFRESH_URL,
    SIGNUP_URL,
    bearer,
    capture,
    full_width,
    log_in,
)
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def test_login_returns_a_bearer_token_pair_and_the_access_lifetime(api_client, user):
    response = log_in(api_client, "alice")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()
    access = jwt.decode(body["access"], settings.JWT_SIGNING_KEY, algorithms=["HS256"])
    assert access["token_type"] == "access"
    assert access["user_id"] == str(user.pk)
    assert access["exp"] - access["iat"] == body["expires_in"]


def test_login_accepts_a_urlencoded_form(api_client, user):
    body = f"username=alice&password={DEFAULT_PASSWORD.replace(' ', '+')}"
    response = api_client.post(LOGIN_URL, body, content_type=FORM)
    assert response.status_code == 200
    assert "access_token" not in response.json()


def test_the_oauth2_password_form_also_gets_access_token(api_client, user):
    body = f"grant_type=password&username=alice&password={DEFAULT_PASSWORD.replace(' ', '+')}&scope=&client_id="
    response = api_client.post(LOGIN_URL, body, content_type=FORM)
    assert response.status_code == 200
    assert response.json()["access_token"] == response.json()["access"]
    assert response.json()["token_type"] == "Bearer"


def test_the_username_is_matched_ignoring_case_and_width(api_client, user):
    assert log_in(api_client, "ALICE").status_code == 200
    assert log_in(api_client, full_width("alice")).status_code == 200


def test_unknown_user_wrong_password_and_inactive_user_get_the_same_401(api_client, user):
    UserFactory(username="sleeper", is_active=False)
    responses = [
        log_in(api_client, "nobody"),
        log_in(api_client, "alice", "wrong password"),
        log_in(api_client, "sleeper"),
    ]
    assert {r.status_code for r in responses} == {401}
    assert len({r.content for r in responses}) == 1
    assert all(r["WWW-Authenticate"].startswith("Bearer") for r in responses)


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", DEFAULT_PASSWORD), ("alice", "wrong password"), ("nobody", DEFAULT_PASSWORD), ("sleeper", "x")],
    ids=["right", "wrong-password", "unknown-user", "inactive-user"],
)
def test_every_login_runs_the_password_hasher_once(api_client, user, monkeypatch, username, password):
    # An unknown user is hashed against a dummy too, so timing does not reveal who exists.
    UserFactory(username="sleeper", is_active=False)
    calls = []
    original = MD5PasswordHasher.encode
    monkeypatch.setattr(MD5PasswordHasher, "encode", lambda self, *a: calls.append(1) or original(self, *a))
    log_in(api_client, username, password)
    assert len(calls) == 1


def test_login_updates_last_login(api_client, user):
    assert user.last_login is None
    log_in(api_client, "alice")
    user.refresh_from_db()
    assert user.last_login is not None


def test_login_sends_user_logged_in_once_with_the_request_and_user(api_client, user):
    with capture(user_logged_in) as calls:
        log_in(api_client, "alice", REMOTE_ADDR="203.0.113.9")
    assert len(calls) == 1
    assert calls[0]["sender"] is User
    assert calls[0]["user"] == user
    assert calls[0]["request"].META["REMOTE_ADDR"] == "203.0.113.9"


def test_a_failed_login_sends_user_login_failed_without_the_password(api_client, user):
    with capture(user_login_failed) as calls:
        log_in(api_client, "alice", "wrong password")
    assert len(calls) == 1
    assert calls[0]["credentials"]["username"] == "alice"
    assert "wrong password" not in repr(calls[0]["credentials"])
    assert calls[0]["request"] is not None


def test_a_stale_authorization_header_does_not_get_in_the_way(api_client, user):
    # Swagger UI keeps the last token; once it expires, logging in must still work.
    api_client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")
    assert log_in(api_client, "alice").status_code == 200


@pytest.mark.parametrize("field", ["username", "password"])
def test_a_nul_character_is_400_not_500(api_client, user, field):
    body = {"username": "alice", "password": DEFAULT_PASSWORD, field: "al\x00ice"}
    response = api_client.post(LOGIN_URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_a_missing_field_is_400(api_client):
    response = api_client.post(LOGIN_URL, {"username": "alice"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["password"]


def test_login_responses_are_not_cached(api_client, user):
    assert log_in(api_client, "alice")["Cache-Control"] == "no-store"
    assert log_in(api_client, "alice", "wrong")["Cache-Control"] == "no-store"


def test_no_password_hash_or_token_reaches_any_log_line(api_client, caplog, django_capture_on_commit_callbacks):
    password, wrong, new_password = "MARKER-pass-7f3a alpha", "MARKER-wrong-9c1d beta", "MARKER-new-2b8e gamma"
    audit_logger = logging.getLogger("audit")
    audit_logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    try:
        with django_capture_on_commit_callbacks(execute=True):  # the audit mirror logs on commit
            api_client.post(SIGNUP_URL, {"username": "mark", "email": "m@example.com", "password": password})
            log_in(api_client, "mark", wrong)
            tokens = log_in(api_client, "mark", password).json()
            rotated = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json").json()
            api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")  # reuse
            client = bearer(rotated["access"])
            client.post(PASSWORD_URL, {"old_password": password, "new_password": new_password}, format="json")
            client.post(LOGOUT_URL, {"refresh": rotated["refresh"]}, format="json")
    finally:
        audit_logger.removeHandler(caplog.handler)
    hash_ = User.objects.get(username="mark").password
    text = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "/api/auth/login/" in text  # the request lines were captured
    secrets = [password, wrong, new_password, "MARKER", hash_, tokens["access"], tokens["refresh"]]
    secrets += [rotated["access"], rotated["refresh"]]
    for secret in secrets:
        assert secret not in text


def _schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_lists_the_seven_auth_endpoints_with_their_bodies(api_client):
    paths = _schema(api_client)["paths"]
    expected = {
        "/api/auth/signup/": {"post": (True, "201")},
        "/api/auth/login/": {"post": (True, "200")},
        "/api/auth/refresh/": {"post": (True, "200")},
        "/api/auth/logout/": {"post": (True, "204")},
        "/api/auth/logout-all/": {"post": (False, "204")},
        "/api/auth/me/": {"get": (False, "200"), "patch": (True, "200")},
        "/api/auth/password/": {"post": (True, "204")},
    }
    for path, operations in expected.items():
        assert set(paths[path]) == set(operations), path
        for method, (has_body, success) in operations.items():
            operation = paths[path][method]
            assert ("requestBody" in operation) is has_body, (path, method)
            assert success in operation["responses"], (path, method)
    assert set(paths["/api/auth/login/"]["post"]["requestBody"]["content"]) == {"application/json", FORM}
    assert {"401", "429"} <= set(paths["/api/auth/login/"]["post"]["responses"])
    assert "Retry-After" in paths["/api/auth/login/"]["post"]["responses"]["429"]["headers"]


def test_swagger_authorize_offers_bearer_and_the_oauth2_password_flow_on_login(api_client):
    schema = _schema(api_client)
    schemes = schema["components"]["securitySchemes"]
    assert schemes["jwtAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["oauth2"]["flows"]["password"]["tokenUrl"] == LOGIN_URL
    me = schema["paths"]["/api/auth/me/"]["get"]["security"]
    assert {"jwtAuth": []} in me
    assert {"oauth2": []} in me


def test_the_oauth2_login_response_matches_its_documented_schema(api_client, user):
    schema = _schema(api_client)
    ok = schema["paths"]["/api/auth/login/"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    # A token pair, or (two-factor login on) an mfa_token: tests/accounts/test_mfa.py.
    one_of = schema["components"]["schemas"][ok["$ref"].rsplit("/", 1)[1]]["oneOf"]
    token_pair = schema["components"]["schemas"]["TokenPair"]
    assert {"$ref": "#/components/schemas/TokenPair"} in one_of
    assert "access_token" in token_pair["properties"]
    assert "access_token" not in token_pair["required"]
    validator = Draft202012Validator({**ok, "components": schema["components"]})
    body = f"grant_type=password&username=alice&password={DEFAULT_PASSWORD.replace(' ', '+')}"
    validator.validate(api_client.post(LOGIN_URL, body, content_type=FORM).json())
    validator.validate(log_in(api_client, "alice").json())


def test_a_non_ascii_username_finds_its_own_account(db):
    # SQLite's lower() folds ASCII only; the lookup lowers both sides in SQL.
    from tests.factories import UserFactory

    owner = UserFactory(username="Ärger")
    assert User.objects.by_username("Ärger").get() == owner


def _request_schema(schema: dict, path: str) -> dict:
    body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]


@pytest.mark.parametrize(
    ("path", "field"), [("/api/auth/signup/", "password"), ("/api/auth/password/", "new_password")]
)
def test_the_schema_states_the_password_rules_it_can(api_client, path, field):
    rules = _request_schema(_schema(api_client), path)["properties"][field]
    assert (rules["minLength"], rules["pattern"]) == (8, r"\D")


@pytest.mark.parametrize("path", ["/api/auth/refresh/", "/api/auth/logout/"])
def test_the_schema_states_a_refresh_token_is_a_jwt(api_client, path):
    refresh = _request_schema(_schema(api_client), path)["properties"]["refresh"]
    assert refresh["pattern"] == r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
