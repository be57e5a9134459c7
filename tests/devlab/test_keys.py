"""Secret keys that cannot be guessed: weak or published keys stop startup with DEBUG off,
and the JWTs are signed with a key of their own."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from django.core.checks.security import base as django_security
from django.utils import timezone

from audit import chain
from devlab import keys

ROOT = Path(__file__).resolve().parents[2]
STRONG = "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz"


def _manage(*args, **env):
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DEBUG", "JWT_SIGNING_KEY", "AUDIT_SIGNING_KEY"}
    }
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _example_secret_key() -> str:
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("SECRET_KEY="):
            return line.removeprefix("SECRET_KEY=")
    raise AssertionError(".env.example sets no SECRET_KEY")


def _refused(result, name: str, reason: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"DevLab configuration error: {name} cannot be used because {reason}")
    assert "secrets.token_urlsafe(50)" in line


def test_the_example_files_placeholder_is_refused_with_one_line():
    placeholder = _example_secret_key()
    assert len(placeholder) >= keys.MIN_LENGTH  # refused for being published, not only for being short
    _refused(_manage("check", DEBUG="False", SECRET_KEY=placeholder), "SECRET_KEY", "it is the placeholder")


@pytest.mark.parametrize(
    ("secret_key", "reason"),
    [
        ("change-me-to-a-long-random-string", "it is the placeholder"),  # the example's former placeholder
        ("a" * 30 + "bcdefghij", "it is shorter than 50"),
        ("abcd" * 20, "it has fewer than 5 distinct"),
        ("django-insecure-" + STRONG, "it starts with 'django-insecure-'"),
    ],
)
def test_a_key_djangos_deploy_check_calls_weak_is_refused(secret_key, reason):
    _refused(_manage("check", DEBUG="False", SECRET_KEY=secret_key), "SECRET_KEY", reason)


def test_a_weak_jwt_or_audit_key_is_refused_too():
    _refused(_manage("check", DEBUG="False", SECRET_KEY=STRONG, JWT_SIGNING_KEY="short"), "JWT_SIGNING_KEY", "it is")
    _refused(_manage("check", DEBUG="False", SECRET_KEY=STRONG, AUDIT_SIGNING_KEY="x" * 60), "AUDIT_SIGNING_KEY", "it")


def test_a_jwt_key_equal_to_the_secret_key_is_refused():
    result = _manage("check", DEBUG="False", SECRET_KEY=STRONG, JWT_SIGNING_KEY=STRONG)
    _refused(result, "JWT_SIGNING_KEY", "it is SECRET_KEY itself")


def test_a_strong_key_starts_and_debug_allows_a_weak_one():
    assert _manage("check", DEBUG="False", SECRET_KEY=STRONG).returncode == 0
    assert _manage("check", DEBUG="True", SECRET_KEY="short").returncode == 0


def test_the_thresholds_are_djangos_own():
    assert keys.MIN_LENGTH == django_security.SECRET_KEY_MIN_LENGTH
    assert keys.MIN_UNIQUE_CHARACTERS == django_security.SECRET_KEY_MIN_UNIQUE_CHARACTERS
    assert keys.INSECURE_PREFIX == django_security.SECRET_KEY_INSECURE_PREFIX


def test_the_jwt_key_is_derived_with_its_own_label_when_unset():
    assert keys.derive(settings.SECRET_KEY, b"devlab.jwt.signing-key") == settings.JWT_SIGNING_KEY
    assert settings.SIMPLE_JWT["SIGNING_KEY"] == settings.JWT_SIGNING_KEY
    assert settings.JWT_SIGNING_KEY != settings.SECRET_KEY
    assert bytes.fromhex(settings.JWT_SIGNING_KEY) != chain.derive_key(settings.SECRET_KEY)


def test_jwt_signing_key_from_the_environment_signs_the_tokens():
    code = "from django.conf import settings; print(settings.SIMPLE_JWT['SIGNING_KEY'])"
    result = _manage("shell", "-v", "0", "-c", code, DEBUG="False", SECRET_KEY=STRONG, JWT_SIGNING_KEY=STRONG[::-1])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == STRONG[::-1]


def _forged_admin_token(key: str, user) -> str:
    now = timezone.now()
    claims = {
        "token_type": "access",
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "iat": int(now.timestamp()),
        "jti": "f" * 32,
        "user_id": str(user.pk),
    }
    return jwt.encode(claims, key, algorithm="HS256")


@pytest.mark.django_db
def test_a_jwt_minted_with_the_secret_key_is_refused(api_client, admin_user):
    """Whoever knows SECRET_KEY (or guessed it) cannot mint an admin token from it."""
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {_forged_admin_token(settings.SECRET_KEY, admin_user)}")
    assert api_client.get("/api/admin/users/").status_code == 401
    # The same claims signed with the JWT key are accepted: the key is what differs.
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {_forged_admin_token(settings.JWT_SIGNING_KEY, admin_user)}")
    assert api_client.get("/api/admin/users/").status_code == 200
