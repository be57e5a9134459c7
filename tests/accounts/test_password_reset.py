"""Password reset by email: POST /api/auth/password-reset/ and .../confirm/ (issue #17 point 1)."""

import re
import smtplib
from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import signals
from accounts.models import User
from api.throttling import ScopedRateThrottle
from audit.models import AuditEntry
from tests.accounts.helpers import REFRESH_URL, capture, log_in, token_pair

pytestmark = pytest.mark.django_db

RESET_URL = "/api/auth/password-reset/"
CONFIRM_URL = "/api/auth/password-reset/confirm/"
NEW_PASSWORD = "a brand new Passphrase 2026"
LINK = re.compile(r"uid=(?P<uid>[\w-]+)&token=(?P<token>[\w-]+)")


@pytest.fixture(autouse=True)
def inline_background(monkeypatch):
    """The mail task runs in the request's thread: this test's transaction is not committed,
    so a background thread would not see its rows. test_password_reset_smtp.py runs the thread."""
    monkeypatch.setattr("devlab.background.run_after_commit", lambda task, name: task())


def ask(client, email="alice@example.com", **extra):
    return client.post(RESET_URL, {"email": email}, format="json", **extra)


def confirm(client, uid, token, password=NEW_PASSWORD):
    return client.post(CONFIRM_URL, {"uid": uid, "token": token, "new_password": password}, format="json")


def link_of(message) -> dict:
    return LINK.search(message.body).groupdict()


def uid_of(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def test_a_known_address_gets_one_email_with_a_link_that_sets_the_password(api_client, user):
    response = ask(api_client)
    assert response.status_code == 202
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reset your DevLab password"
    link = link_of(message)
    assert f"http://testserver/reset-password?uid={link['uid']}&token={link['token']}" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f"uid={link['uid']}&amp;token={link['token']}" in html
    assert confirm(api_client, **link).status_code == 204
    assert log_in(api_client, "alice", NEW_PASSWORD).status_code == 200
    assert log_in(api_client, "alice").status_code == 401


def test_an_unknown_address_sends_nothing_and_gets_the_identical_answer(api_client, user):
    known = ask(api_client)
    unknown = ask(api_client, "nobody@example.com")
    assert unknown.status_code == known.status_code == 202
    assert unknown.content == known.content
    assert len(mail.outbox) == 1
    assert AuditEntry.objects.filter(action="password_reset_requested").count() == 1


def test_the_address_is_matched_ignoring_case(api_client, user):
    assert ask(api_client, "ALICE@Example.COM").status_code == 202
    assert mail.outbox[0].to == ["alice@example.com"]


def test_an_inactive_user_gets_no_email(api_client, user):
    user.is_active = False
    user.save()
    assert ask(api_client).status_code == 202
    assert mail.outbox == []


def test_not_an_email_is_400(api_client):
    assert ask(api_client, "not-an-address").status_code == 400
    assert api_client.post(RESET_URL, {}, format="json").status_code == 400


def test_the_request_is_audited_without_actor_and_the_reset_with_the_user(api_client, user):
    with capture(signals.password_reset_requested) as requested:
        ask(api_client)
        ask(api_client, "nobody@example.com")
    assert requested == [{"sender": User, "user": user}]
    entry = AuditEntry.objects.get(action="password_reset_requested")
    assert (entry.actor_id, entry.actor_username, entry.target_type, entry.target_id) == (None, "", "user", user.pk)
    with capture(signals.password_reset_done) as done:
        confirm(api_client, **link_of(mail.outbox[0]))
    assert done == [{"sender": User, "actor": user, "user": user}]
    entry = AuditEntry.objects.get(action="password_reset_done")
    assert (entry.actor_id, entry.target_id) == (user.pk, user.pk)


def test_the_token_appears_in_no_audit_row(api_client, user):
    ask(api_client)
    link = link_of(mail.outbox[0])
    confirm(api_client, **link)
    for row in AuditEntry.objects.values():
        assert link["token"] not in str(row)


def test_a_token_works_once(api_client, user):
    ask(api_client)
    link = link_of(mail.outbox[0])
    assert confirm(api_client, **link).status_code == 204
    response = confirm(api_client, **link, password="yet another Passphrase 99")
    assert response.status_code == 400
    assert "token" in response.json()
    assert log_in(api_client, "alice", NEW_PASSWORD).status_code == 200


def test_a_token_dies_when_the_password_changes_otherwise(api_client, user):
    ask(api_client)
    link = link_of(mail.outbox[0])
    user.set_password("changed elsewhere Passphrase 5")
    user.save()
    assert confirm(api_client, **link).status_code == 400


@pytest.mark.parametrize(
    "forge",
    [
        lambda link, user: {**link, "token": link["token"][:-1] + ("a" if link["token"][-1] != "a" else "b")},
        lambda link, user: {**link, "uid": urlsafe_base64_encode(force_bytes(user.pk + 1000))},
        lambda link, user: {**link, "uid": "!!not-base64!!"},
        lambda link, user: {**link, "uid": urlsafe_base64_encode(b"\xff\xfe")},
        lambda link, user: {**link, "token": "1-2"},
    ],
    ids=["altered token", "unknown uid", "malformed uid", "non-utf8 uid", "made-up token"],
)
def test_a_forged_link_is_refused(api_client, user, forge):
    ask(api_client)
    response = confirm(api_client, **forge(link_of(mail.outbox[0]), user))
    assert response.status_code == 400
    assert "token" in response.json()
    user.refresh_from_db()
    assert user.check_password("correct horse battery staple")


def test_another_users_token_does_not_open_this_account(api_client, user, other_user):
    ask(api_client, other_user.email)
    link = link_of(mail.outbox[0])
    assert confirm(api_client, uid_of(user), link["token"]).status_code == 400


def test_a_token_older_than_password_reset_minutes_is_refused(api_client, user, settings, monkeypatch):
    settings.PASSWORD_RESET_MINUTES = 60
    ask(api_client)
    link = link_of(mail.outbox[0])
    issued = timezone.now().replace(tzinfo=None)
    monkeypatch.setattr(default_token_generator, "_now", lambda: issued + timedelta(minutes=62))
    assert confirm(api_client, **link).status_code == 400
    monkeypatch.setattr(default_token_generator, "_now", lambda: issued + timedelta(minutes=58))
    assert confirm(api_client, **link).status_code == 204


def test_password_reset_minutes_sets_djangos_timeout_in_seconds(settings):
    assert settings.PASSWORD_RESET_TIMEOUT == settings.PASSWORD_RESET_MINUTES * 60 == 3600


def test_success_revokes_every_refresh_token(api_client, user):
    sessions = [token_pair("alice")["refresh"] for _ in range(2)]
    ask(api_client)
    confirm(api_client, **link_of(mail.outbox[0]))
    assert OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).count() == 0
    for refresh in sessions:
        assert api_client.post(REFRESH_URL, {"refresh": refresh}, format="json").status_code == 401


@pytest.mark.parametrize("password", ["short", "12345678901", "password123", "alice-example"])
def test_a_weak_password_is_400_and_leaves_the_token_usable(api_client, user, password):
    ask(api_client)
    link = link_of(mail.outbox[0])
    response = confirm(api_client, **link, password=password)
    assert response.status_code == 400
    assert "new_password" in response.json()
    assert confirm(api_client, **link).status_code == 204


def test_a_failed_send_is_logged_and_answers_202(api_client, user, monkeypatch, caplog):
    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    response = ask(api_client)
    assert response.status_code == 202
    (record,) = [r for r in caplog.records if r.getMessage() == "password reset email could not be sent"]
    assert record.levelname == "ERROR"
    assert record.user_id == user.pk
    assert "SMTPServerDisconnected" in record.error
    assert AuditEntry.objects.filter(action="password_reset_requested").count() == 1


def test_the_email_is_in_portuguese_when_asked_in_portuguese(api_client, user):
    ask(api_client, HTTP_ACCEPT_LANGUAGE="pt-BR")
    message = mail.outbox[0]
    assert message.subject == "Redefina sua senha do DevLab"
    assert "Para escolher uma nova senha" in message.body
    assert 'lang="pt-BR"' in message.alternatives[0][0]


def test_the_link_follows_password_reset_url(api_client, user, settings):
    settings.PASSWORD_RESET_URL = "https://app.example.com/#/reset/{uid}/{token}"
    ask(api_client)
    assert re.search(r"https://app\.example\.com/#/reset/[\w-]+/[\w-]+-[\w-]+", mail.outbox[0].body)


def test_a_forged_host_header_cannot_redirect_the_link(api_client, user):
    response = ask(api_client, HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert mail.outbox == []


# ---------------------------------------------------------------- throttling


def test_requests_are_limited_per_client_ip(api_client, monkeypatch, user):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "password_reset", "3/hour")
    statuses = [ask(api_client, f"someone{i}@example.com").status_code for i in range(4)]
    assert statuses == [202, 202, 202, 429]
    response = ask(api_client, "someone9@example.com")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    other_ip = ask(api_client, "someone9@example.com", REMOTE_ADDR="198.51.100.7")
    assert other_ip.status_code == 202


def test_requests_are_limited_per_address_whatever_the_ip(api_client, user):
    # THROTTLE_PASSWORD_RESET_EMAIL defaults to 3/hour.
    statuses = [ask(api_client, "Alice@example.com", REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(4)]
    assert statuses == [202, 202, 202, 429]
    assert len(mail.outbox) == 3
    assert int(ask(api_client, "alice@example.com", REMOTE_ADDR="203.0.113.5")["Retry-After"]) > 0
    assert ask(api_client, "bob@example.com", REMOTE_ADDR="203.0.113.5").status_code == 202


def test_the_per_address_limit_answers_the_same_for_unknown_addresses(api_client, user):
    known = [ask(api_client, "alice@example.com", REMOTE_ADDR=f"198.51.100.{i}") for i in range(4)]
    unknown = [ask(api_client, "ghost@example.com", REMOTE_ADDR=f"198.51.101.{i}") for i in range(4)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert known[-1].content == unknown[-1].content


# ---------------------------------------------------------------- schema


def test_both_operations_are_in_the_schema(api_client):
    paths = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    reset = paths[RESET_URL]["post"]
    assert set(reset["responses"]) >= {"202", "400", "429"}
    assert "Retry-After" in reset["responses"]["429"]["headers"]
    body = paths[CONFIRM_URL]["post"]
    assert set(body["responses"]) >= {"204", "400", "429"}
    assert body["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("PasswordResetConfirmRequest")
