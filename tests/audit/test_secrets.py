"""No password (even a wrong one), password hash, token or note text in a row or a log line."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts import signals
from audit.models import PUBLIC_FIELDS, AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

User = get_user_model()

PASSWORD = "Marker-Password-7e1f correct staple"
WRONG_PASSWORD = "Marker-WrongPassword-91ab"
NEW_PASSWORD = "Marker-NewPassword-3c5d battery"


def _bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def _every_event(secrets: list[str]) -> None:
    """Causes every account event through the API, collecting every secret it handles."""
    anonymous = APIClient()
    body = {"username": "marker", "email": "marker@example.com", "password": PASSWORD}
    assert anonymous.post("/api/auth/signup/", body, format="json").status_code == 201
    secrets.append(User.objects.get(username="marker").password)

    def login(password):
        return anonymous.post("/api/auth/login/", {"username": "marker", "password": password}, format="json")

    assert login(WRONG_PASSWORD).status_code == 401
    tokens = login(PASSWORD).json()
    secrets += [tokens["access"], tokens["refresh"]]
    rotated = anonymous.post("/api/auth/refresh/", {"refresh": tokens["refresh"]}, format="json").json()
    secrets += [rotated["access"], rotated["refresh"]]
    assert anonymous.post("/api/auth/refresh/", {"refresh": tokens["refresh"]}, format="json").status_code == 401

    tokens = login(PASSWORD).json()
    secrets += [tokens["access"], tokens["refresh"]]
    client = _bearer(tokens["access"])
    assert client.patch("/api/auth/me/", {"email": "marker2@example.com"}, format="json").status_code == 200
    assert client.get("/api/audit/logs/").status_code == 403
    assert client.post("/api/auth/logout/", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    body = {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert client.post("/api/auth/password/", body, format="json").status_code == 204
    user = User.objects.get(username="marker")
    secrets.append(user.password)

    for _ in range(settings.LOGIN_FAILURE_LIMIT + 1):
        login(WRONG_PASSWORD)

    admin = User.objects.create_user(username="boss", password=PASSWORD, is_staff=True)
    secrets.append(admin.password)
    for signal in (signals.user_promoted, signals.user_demoted, signals.user_updated, signals.user_deleted):
        signal.send(sender=User, actor=admin, user=user, superuser=False, fields=["password", "is_active"])


def test_no_secret_reaches_an_audit_row_or_a_log_line(audit_log):
    caches["default"].clear()
    secrets = [PASSWORD, WRONG_PASSWORD, NEW_PASSWORD]
    _every_event(secrets)

    recorded = set(AuditEntry.objects.values_list("action", flat=True))
    assert recorded >= {
        "signup",
        "login_failed",
        "login_success",
        "token_reuse",
        "profile_updated",
        "access_denied",
        "logout",
        "password_changed",
        "login_throttled",
        "user_promoted",
        "user_demoted",
        "user_updated",
        "user_deleted",
    }
    rows = "\n".join(str(value) for row in AuditEntry.objects.values_list(*PUBLIC_FIELDS) for value in row)
    lines = "\n".join(audit_log.lines)
    assert len(audit_log.lines) == AuditEntry.objects.count()
    for secret in secrets:
        assert secret not in rows
        assert secret not in lines
        # Nor a recognisable part of one (a hash's salt and digest, a JWT's signature).
        for part in secret.split("$")[1:] + secret.split(".")[2:]:
            assert part not in rows
            assert part not in lines
