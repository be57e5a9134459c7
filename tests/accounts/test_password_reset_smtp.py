"""The reset mail on a real SMTP socket, sent by the real background thread, then used."""

import email
import email.policy
import queue
import re
import socket
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.core.cache import cache

from audit.models import AuditEntry
from tests.accounts.helpers import log_in
from tests.factories import UserFactory

RESET_URL = "/api/auth/password-reset/"
CONFIRM_URL = "/api/auth/password-reset/confirm/"
NEW_PASSWORD = "reset over smtp Passphrase 31"


class Inbox:
    """An aiosmtpd handler that keeps every message it is handed."""

    def __init__(self):
        self.messages: queue.Queue = queue.Queue()

    async def handle_DATA(self, server, session, envelope):
        self.messages.put((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """An SMTP server on a free loopback port; DevLab's mail goes to it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "DevLab <noreply@devlab.test>"
    try:
        yield inbox
    finally:
        controller.stop()
        cache.clear()  # throttle counters committed by this transaction=True test


@pytest.mark.django_db(transaction=True)
def test_the_reset_mail_arrives_over_smtp_and_its_link_sets_a_new_password(api_client, smtp_server):
    UserFactory(username="alice", email="alice@example.com")
    response = api_client.post(RESET_URL, {"email": "alice@example.com"}, format="json")
    assert response.status_code == 202
    recipients, message = smtp_server.messages.get(timeout=20)
    assert recipients == ["alice@example.com"]
    assert message["From"] == "DevLab <noreply@devlab.test>"
    assert message["Subject"] == "Reset your DevLab password"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert message.get_body(preferencelist=("html",)) is not None
    link = re.search(r"http://testserver/reset-password\?\S+", text).group()
    query = parse_qs(urlsplit(link).query)
    confirmed = api_client.post(
        CONFIRM_URL, {"uid": query["uid"][0], "token": query["token"][0], "new_password": NEW_PASSWORD}, format="json"
    )
    assert confirmed.status_code == 204
    assert log_in(api_client, "alice", NEW_PASSWORD).status_code == 200
    # The background thread wrote the request's audit row with the request's id.
    entry = AuditEntry.objects.get(action="password_reset_requested")
    assert entry.request_id == response["X-Request-ID"]


@pytest.mark.django_db(transaction=True)
def test_the_answer_does_not_wait_for_the_mail_server(api_client, smtp_server, monkeypatch):
    UserFactory(username="alice", email="alice@example.com")
    original = Inbox.handle_DATA

    async def slow(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(1.5)
        return await original(self, server, session, envelope)

    monkeypatch.setattr(Inbox, "handle_DATA", slow)
    started = time.monotonic()
    response = api_client.post(RESET_URL, {"email": "alice@example.com"}, format="json")
    elapsed = time.monotonic() - started
    assert response.status_code == 202
    assert elapsed < 1.0
    smtp_server.messages.get(timeout=20)  # it still arrives


@pytest.mark.django_db(transaction=True)
def test_an_unknown_address_sends_nothing_over_smtp(api_client, smtp_server):
    UserFactory(username="alice", email="alice@example.com")
    response = api_client.post(RESET_URL, {"email": "nobody@example.com"}, format="json")
    assert response.status_code == 202
    with pytest.raises(queue.Empty):
        smtp_server.messages.get(timeout=2)
