"""Error tracking: off without SENTRY_DSN; with it, an error leaves without secrets.

A capturing transport stands in for Sentry: the tests read the very bytes
that would be sent.
"""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import RequestFactory
from django.urls import path
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework_simplejwt.tokens import RefreshToken
from sentry_sdk.transport import Transport

from devlab import error_tracking
from devlab import urls as devlab_urls

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-staple-9"
NOTE_TEXT = "my diary: the safe code is 4-8-15-16"
OTP = "493817"
SEARCH = "needle-in-my-notes"
CSRF = "csrf-cookie-value-0123456789"
SESSION = "sessionid-value-0123456789"


@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def _fails_with_secrets_around(request):
    password = request.data["password"]  # a local variable holding the password
    text = request.data["text"]
    with connection.cursor() as cursor:  # an SQL breadcrumb whose parameters hold the note text
        cursor.execute("SELECT %s, %s", [text, password])
    logging.getLogger("devlab.test").info("about to fail for %s", request.data["refresh"])
    raise RuntimeError(f"broken while saving a note of {len(text)} characters")


@api_view(["GET"])
@permission_classes([AllowAny])
def _fails_outside_api(request):
    raise ValueError("page failure")


urlpatterns = [
    path("api/test/fail/", _fails_with_secrets_around),
    path("test/fail/", _fails_outside_api),
    *devlab_urls.urlpatterns,
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


class CapturingTransport(Transport):
    """Keeps every envelope instead of sending it."""

    sent: list = []

    def capture_envelope(self, envelope):
        CapturingTransport.sent.append(envelope)


@pytest.fixture
def sentry():
    CapturingTransport.sent = []
    for scope in (sentry_sdk.get_global_scope(), sentry_sdk.get_isolation_scope(), sentry_sdk.get_current_scope()):
        scope.clear_breadcrumbs()
    error_tracking.init(
        dsn="https://public@errors.invalid/1",
        environment="staging",
        release="devlab@9.9.9",
        transport=CapturingTransport,
    )
    yield CapturingTransport
    sentry_sdk.get_client().close()
    sentry_sdk.init(release="test")  # back to an inactive client


def wsgi(environ) -> int:
    """Serves ``environ`` through Django's WSGI handler, as gunicorn does (the Sentry
    integration wraps that handler; the test client goes around it). Returns the status."""
    statuses = []
    # As the test client does: the test's transaction must survive the request's end.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(response)
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return int(statuses[0].split()[0])


def outgoing(transport) -> tuple[bytes, list[dict]]:
    """Everything that would have left, as bytes, and the error events in it."""
    sentry_sdk.flush()
    raw = b"".join(envelope.serialize() for envelope in transport.sent)
    events = [item.payload.json for envelope in transport.sent for item in envelope.items if item.type == "event"]
    return raw, events


def fail(user=None):
    refresh = str(RefreshToken.for_user(user)) if user else "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl"
    body = {"password": PASSWORD, "text": NOTE_TEXT, "code": OTP, "refresh": refresh}
    request = RequestFactory().post(
        f"/api/test/fail/?search={SEARCH}&page_size=5",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {refresh}",
        HTTP_COOKIE=f"sessionid={SESSION}; csrftoken={CSRF}",
        HTTP_X_REQUEST_ID="req-sentry-1",
        HTTP_X_FORWARDED_FOR="198.51.100.77",
        HTTP_HOST="localhost",
        REMOTE_ADDR="203.0.113.5",
    )
    assert wsgi(request.environ) == 500
    return refresh


def test_an_api_error_is_sent_with_release_environment_and_request_id(sentry):
    fail()
    _raw, events = outgoing(sentry)
    assert len(events) == 1
    event = events[0]
    assert event["release"] == "devlab@9.9.9"
    assert event["environment"] == "staging"
    assert event["tags"]["request_id"] == "req-sentry-1"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["request"]["method"] == "POST"


def test_no_password_token_code_note_text_cookie_or_ip_leaves(sentry, user):
    refresh = fail(user)
    raw, events = outgoing(sentry)
    assert events
    leaked = [
        secret
        for secret in (
            PASSWORD,
            NOTE_TEXT,
            "safe code",
            OTP,
            SEARCH,
            CSRF,
            SESSION,
            refresh,
            "198.51.100.77",
            "203.0.113.5",
        )
        if secret.encode() in raw
    ]
    assert leaked == []
    # Nor the user: send_default_pii is off.
    assert b"alice" not in raw
    assert '"email"' not in json.dumps(events)


def test_what_is_kept_is_still_useful(sentry):
    fail()
    _raw, [event] = outgoing(sentry)
    request = event["request"]
    assert "data" not in request
    assert "cookies" not in request
    assert "query_string" not in request
    assert request["url"] == "http://localhost/api/test/fail/"
    assert request["headers"]["Authorization"] == "[Filtered]"
    assert request["headers"]["X-Request-Id"] == "req-sentry-1"
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames[-1]["function"] == "_fails_with_secrets_around"
    assert all("vars" not in frame for frame in frames)
    assert "runtime" in event["contexts"]
    sql = [crumb for crumb in event["breadcrumbs"]["values"] if crumb.get("category") == "query"]
    assert any("SELECT %s, %s" in crumb["message"] for crumb in sql)
    assert all("data" not in crumb for crumb in event["breadcrumbs"]["values"])


def test_an_error_outside_the_api_is_sent_once(sentry):
    assert wsgi(RequestFactory().get("/test/fail/", HTTP_HOST="localhost").environ) == 500
    _raw, events = outgoing(sentry)
    assert [event["exception"]["values"][-1]["type"] for event in events] == ["ValueError"]


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("new_password", True),
        ("mfa_token", True),
        ("recovery_code", True),
        ("HTTP_COOKIE", True),
        ("X-CSRFToken", True),
        ("note_text", True),
        ("db.params", True),
        ("contexts", False),
        ("context_line", False),
        ("request_id", False),
        ("method", False),
    ],
)
def test_which_keys_are_secret(key, secret):
    assert error_tracking.sensitive(key) is secret


def test_a_query_string_that_gets_through_keeps_its_names_only():
    event = {"request": {"query_string": "search=diary&page_size=5", "url": "http://x/api/notes/?search=diary"}}
    assert error_tracking.scrub(event)["request"] == {
        "query_string": "search=[Filtered]&page_size=[Filtered]",
        "url": "http://x/api/notes/",
    }


def test_a_jwt_anywhere_in_a_string_is_filtered():
    event = {"message": "refresh eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl failed"}
    assert error_tracking.scrub(event) == {"message": "refresh [Filtered] failed"}


def _client_state(env) -> dict:
    script = (
        "import django, json, sentry_sdk; django.setup(); client = sentry_sdk.get_client();"
        "print(json.dumps({'active': client.is_active(), 'release': client.options['release'],"
        " 'environment': client.options['environment'], 'pii': client.should_send_default_pii()}))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_error_tracking_is_off_without_a_dsn_and_on_with_one():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "DEVLAB_RELEASE"))}
    env.update(DJANGO_SETTINGS_MODULE="devlab.settings", DEBUG="True")
    assert _client_state(env)["active"] is False
    env.update(
        SENTRY_DSN="https://public@errors.invalid/1", SENTRY_ENVIRONMENT="eu-prod", DEVLAB_RELEASE="devlab@abc123"
    )
    assert _client_state(env) == {"active": True, "release": "devlab@abc123", "environment": "eu-prod", "pii": False}
    del env["DEVLAB_RELEASE"]
    assert _client_state(env)["release"] == "devlab@1.0.0"
