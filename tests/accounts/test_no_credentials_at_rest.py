"""No usable credential at rest or on screen (issue #20).

A whole run of DevLab is driven through the API (``STEPS``), then every place
a credential could leak to is collected (``surfaces``): the admin pages of
every registered model, the API's own later responses, the audit API and its
csv and jsonl exports, the JSON log lines (request log and audit mirror) and
a dump of every database table. None may hold a JWT-shaped string, a token
the run was issued, a password or a password hash.

The reset mail itself is the one place its token may be (it is read from
``mail.outbox``, not scanned). Adding a flow is one function: decorate it with ``@step``; it drives the API
through ``run`` and declares what it was handed with ``run.secret(...)``.
Responses that issue a credential are read with ``run.issuing(...)``, every
other response with ``run.shown(...)`` (which scans it too).
"""

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.contrib import admin
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from devlab.logging import JsonFormatter
from tests.accounts.helpers import (
    LOGIN_URL,
    LOGOUT_ALL_URL,
    LOGOUT_URL,
    ME_URL,
    PASSWORD_URL,
    REFRESH_URL,
    SIGNUP_URL,
)

JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
HASH_PREFIXES = ("pbkdf2_sha256$", "pbkdf2_sha1$", "md5$", "argon2$", "bcrypt$")
PASSWORDS = ["first Passphrase of Mallory 71", "second Passphrase of Mallory 72", "third Passphrase of Mallory 73"]
RESET_URL = "/api/auth/password-reset/"
RESET_CONFIRM_URL = "/api/auth/password-reset/confirm/"


@dataclass
class Run:
    """What a run was handed (``secrets``) and what it saw (``surfaces``)."""

    api: APIClient = field(default_factory=APIClient)
    secrets: dict[str, str] = field(default_factory=dict)
    surfaces: dict[str, str] = field(default_factory=dict)
    state: dict = field(default_factory=dict)

    def secret(self, label: str, value: str) -> None:
        """A credential the run was handed: it must appear nowhere else."""
        assert value, label
        self.secrets[label] = value

    def issuing(self, label: str, response, *fields: str) -> dict:
        """The one response allowed to show credentials: ``fields`` of its JSON body."""
        assert response.status_code < 300, (label, response.status_code, response.content[:500])
        body = response.json()
        for name in fields:
            self.secret(f"{label}.{name}", body[name])
        return body

    def shown(self, label: str, response, status: int | None = None):
        """Any other response: its body is a surface that the scan reads."""
        if status is not None:
            assert response.status_code == status, (label, response.status_code, response.content[:500])
        content = b"".join(response.streaming_content) if response.streaming else response.content
        self.surfaces[f"response {label}"] = content.decode(errors="replace")
        return response

    def bearer(self, access: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        return client


STEPS: list[Callable[[Run], None]] = []


def step(function: Callable[[Run], None]) -> Callable[[Run], None]:
    """Adds ``function`` to the run, after the steps declared before it."""
    STEPS.append(function)
    return function


# ---------------------------------------------------------------- the run


@step
def sign_up(run: Run) -> None:
    run.secret("password", PASSWORDS[0])
    data = {"username": "mallory", "email": "mallory@example.com", "password": PASSWORDS[0]}
    run.shown("signup", run.api.post(SIGNUP_URL, data, format="json"), 201)


@step
def log_in(run: Run) -> None:
    response = run.api.post(LOGIN_URL, {"username": "mallory", "password": PASSWORDS[0]}, format="json")
    run.state["tokens"] = run.issuing("login", response, "access", "refresh")
    # A failed login with a password-shaped guess is logged and audited too.
    failed = run.api.post(LOGIN_URL, {"username": "mallory", "password": PASSWORDS[1]}, format="json")
    run.shown("failed login", failed, 401)


@step
def refresh(run: Run) -> None:
    old = run.state["tokens"]["refresh"]
    run.state["tokens"] = run.issuing(
        "refresh", run.api.post(REFRESH_URL, {"refresh": old}, format="json"), "access", "refresh"
    )
    # The rotated-out token presented again: reuse detection, all tokens revoked.
    run.shown("reuse", run.api.post(REFRESH_URL, {"refresh": old}, format="json"), 401)
    response = run.api.post(LOGIN_URL, {"username": "mallory", "password": PASSWORDS[0]}, format="json")
    run.state["tokens"] = run.issuing("login again", response, "access", "refresh")


@step
def read_and_edit_profile(run: Run) -> None:
    client = run.bearer(run.state["tokens"]["access"])
    run.shown("me", client.get(ME_URL), 200)
    run.shown("me patch", client.patch(ME_URL, {"email": "mallory@example.org"}, format="json"), 200)


@step
def change_password(run: Run) -> None:
    run.secret("new password", PASSWORDS[1])
    client = run.bearer(run.state["tokens"]["access"])
    data = {"old_password": PASSWORDS[0], "new_password": PASSWORDS[1]}
    run.shown("password change", client.post(PASSWORD_URL, data, format="json"), 204)
    response = run.api.post(LOGIN_URL, {"username": "mallory", "password": PASSWORDS[1]}, format="json")
    run.state["tokens"] = run.issuing("login new password", response, "access", "refresh")


def _wait_for_mail(count: int) -> mail.EmailMessage:
    """The password-reset mail is sent by a background thread."""
    deadline = time.monotonic() + 20
    while len(mail.outbox) < count:
        assert time.monotonic() < deadline, "no reset mail arrived"
        time.sleep(0.05)
    return mail.outbox[count - 1]


@step
def reset_password(run: Run) -> None:
    sent = len(mail.outbox)
    run.shown("reset unknown", run.api.post(RESET_URL, {"email": "nobody@example.com"}, format="json"), 202)
    run.shown("reset", run.api.post(RESET_URL, {"email": "mallory@example.org"}, format="json"), 202)
    message = _wait_for_mail(sent + 1)
    link = re.search(r"uid=(?P<uid>[\w-]+)&token=(?P<token>[\w-]+)", message.body).groupdict()
    run.secret("reset token", link["token"])
    run.secret("reset password", PASSWORDS[2])
    data = {**link, "new_password": PASSWORDS[2]}
    run.shown("reset confirm", run.api.post(RESET_CONFIRM_URL, data, format="json"), 204)
    run.shown("reset confirm again", run.api.post(RESET_CONFIRM_URL, data, format="json"), 400)
    response = run.api.post(LOGIN_URL, {"username": "mallory", "password": PASSWORDS[2]}, format="json")
    run.state["tokens"] = run.issuing("login after reset", response, "access", "refresh")


@step
def log_out(run: Run) -> None:
    tokens = run.state["tokens"]
    client = run.bearer(tokens["access"])
    run.shown("logout", client.post(LOGOUT_URL, {"refresh": tokens["refresh"]}, format="json"), 204)
    response = run.api.post(LOGIN_URL, {"username": "mallory", "password": PASSWORDS[2]}, format="json")
    tokens = run.issuing("login before logout-all", response, "access", "refresh")
    run.shown("logout-all", run.bearer(tokens["access"]).post(LOGOUT_ALL_URL), 204)
    # A live session is left behind on purpose: the dump must not hold it either.
    response = run.api.post(LOGIN_URL, {"username": "mallory", "password": PASSWORDS[2]}, format="json")
    run.state["tokens"] = run.issuing("live session", response, "access", "refresh")


# ---------------------------------------------------------------- where credentials could leak


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines():
    """The JSON lines of every logger: the root's (request log, errors) and the audit mirror's."""
    handler = _Lines()
    loggers = [logging.getLogger(), logging.getLogger("audit")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def admin_pages(run: Run, superuser: User) -> None:
    """Every registered model's changelist and the change page of up to five of its objects."""
    browser = Client()
    browser.force_login(superuser)
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        run.shown(f"admin {changelist}", browser.get(changelist), 200)
        for pk in model_admin.get_queryset(_AdminRequest(superuser)).values_list("pk", flat=True)[:5]:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
            run.shown(f"admin {change}", browser.get(change), 200)
    for url in ("/admin/", f"/admin/accounts/user/{User.objects.get(username='mallory').pk}/password/"):
        run.shown(f"admin {url}", browser.get(url), 200)


@dataclass
class _AdminRequest:
    user: User


def audit_api(run: Run, superuser: User) -> None:
    client = APIClient()
    client.force_authenticate(superuser)
    run.shown("audit list", client.get("/api/audit/logs/?page_size=100"), 200)
    for export_format in ("csv", "jsonl"):
        run.shown(f"audit export {export_format}", client.get(f"/api/audit/logs/export/?format={export_format}"), 200)


def table_dump() -> dict[str, str]:
    """Every row of every table, as text; only ``accounts_user.password`` is left out."""
    dump = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected names
            columns = [column[0] for column in cursor.description]
            rows = [
                {c: v for c, v in zip(columns, row, strict=True) if (table, c) != ("accounts_user", "password")}
                for row in cursor.fetchall()
            ]
            dump[f"table {table}"] = "\n".join(repr(row) for row in rows)
    return dump


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    found = [f"JWT-shaped {match!r}" for match in JWT.findall(text)]
    found += [f"password hash ({prefix})" for prefix in HASH_PREFIXES if prefix in text]
    found += [label for label, value in secrets.items() if value in text]
    return found


# ---------------------------------------------------------------- the scan


@pytest.mark.real_hasher
@pytest.mark.django_db(transaction=True)
def test_a_full_run_leaves_no_credential_in_admin_pages_responses_logs_exports_or_the_database(log_lines):
    run = Run()
    for function in STEPS:
        function(run)

    superuser = User.objects.create_superuser("root", "root@example.com", "root Passphrase 9317 unique")
    run.secret("superuser password", "root Passphrase 9317 unique")
    for user in User.objects.all():
        algorithm, _iterations, salt, digest = user.password.split("$")
        assert algorithm == "pbkdf2_sha256"
        run.secret(f"{user.username} password hash", user.password)
        run.secret(f"{user.username} password salt", salt)
        run.secret(f"{user.username} password digest", digest)
    run.secret("SECRET_KEY", settings.SECRET_KEY)

    admin_pages(run, superuser)
    audit_api(run, superuser)
    run.surfaces["log lines"] = "\n".join(log_lines)
    run.surfaces.update(table_dump())

    # The scan is not vacuous: tokens were issued, logs and the audit trail were written.
    assert sum(label.endswith(".refresh") for label in run.secrets) >= 6
    assert any('"logger": "devlab.request"' in line for line in log_lines)
    assert any('"logger": "audit"' in line and "login_success" in line for line in log_lines)
    assert "token_reuse" in run.surfaces["response audit export jsonl"]
    assert "password_reset_done" in run.surfaces["response audit export csv"]
    assert "response admin /admin/token_blacklist/outstandingtoken/" in run.surfaces
    found = {where: hits for where, text in run.surfaces.items() if (hits := leaks(text, run.secrets))}
    assert found == {}
