"""Two-factor login: a TOTP authenticator (django-otp's ``TOTPDevice``) and ten single-use recovery codes.

TOTP is RFC 6238 as authenticator apps implement it: SHA-1, 6 digits, 30 s
steps, one step of drift either side (``OTP_TOTP_SYNC`` off, so the window
never widens), and a code is accepted once: django-otp keeps the last
accepted step (``last_t``) and accepts only later ones, under a row lock.
django-otp also slows verification down after failures (doubling waits,
``OTP_TOTP_THROTTLE_FACTOR``), for every client at once; the login lockout
(``accounts.login``) counts wrong codes per client network besides.

Secrets: django-otp stores the TOTP key as it must use it (hex, not
encrypted). It is shown once, in the enrollment answer, and never logged,
audited, exported or shown in the admin (``OTP_ADMIN_HIDE_SENSITIVE_DATA``,
and its admin page is not registered). Recovery codes are stored as keyed
hashes (HMAC-SHA256 under a key derived from ``SECRET_KEY``): they carry
60 random bits, so a fast hash is enough and one look-up checks a code.

The ``mfa_token`` of a right password is signed (``django.core.signing``,
its own salt), expires after ``MFA_TOKEN_SECONDS``, names the user, dies
when their password changes, and is single use: its nonce lives in the
shared cache until a completed login deletes it.
"""

import re
import secrets
from base64 import b32encode
from typing import Literal

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import signals
from accounts.models import RecoveryCode, User

RECOVERY_CODE_COUNT = 10
#: Lower-case letters and digits without look-alikes (0/o, 1/l/i): 31 symbols, 12 of them
#: a code (over 59 random bits), shown as xxxx-xxxx-xxxx.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 12
TOTP_CODE = re.compile(r"^[0-9]{6}$")
_RECOVERY_CODE = re.compile(r"^[a-z0-9]{12}$")
_TOKEN_SALT = "accounts.mfa.token"  # noqa: S105 - a signing salt, not a secret
_RECOVERY_SALT = "accounts.mfa.recovery-code"

Method = Literal["totp", "recovery"]


class AlreadyEnabled(Exception):
    """Two-factor login is already on for this user (the API answers 409)."""


class NoEnrollment(Exception):
    """There is no enrollment waiting for its first code."""


class WrongCode(Exception):
    """The code does not match (wrong, replayed, or outside the drift window)."""


class InvalidMfaToken(Exception):
    """The mfa_token is malformed, forged, expired, used, or its user's password changed."""


# ---------------------------------------------------------------- state


def mfa_enabled(user: User) -> bool:
    """Whether ``user`` has two-factor login on (a confirmed authenticator)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_secret(device: TOTPDevice) -> str:
    """The device's key in base32, as authenticator apps take it (shown once, at enrollment)."""
    return b32encode(device.bin_key).decode()


# ---------------------------------------------------------------- recovery codes


def _new_code() -> str:
    return "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))


def _digest(normalized: str) -> str:
    return salted_hmac(_RECOVERY_SALT, normalized, algorithm="sha256").hexdigest()


def normalize_recovery_code(code: str) -> str:
    """A recovery code as typed (any case, with or without dashes and spaces) in its stored form."""
    return re.sub(r"[\s-]", "", code).lower()


def _display(code: str) -> str:
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def _replace_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [_new_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(RecoveryCode(user=user, digest=_digest(code)) for code in codes)
    return [_display(code) for code in codes]


# ---------------------------------------------------------------- enrollment


@transaction.atomic
def mfa_totp_start(*, user: User) -> TOTPDevice:
    """Starts enrolling an authenticator: a new secret, not active until confirmed.

    Raises ``AlreadyEnabled`` when two-factor login is on; an earlier
    unconfirmed enrollment is replaced.
    """
    User.objects.select_for_update().filter(pk=user.pk).first()  # one enrollment at a time per user
    if mfa_enabled(user):
        raise AlreadyEnabled
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def mfa_totp_confirm(*, user: User, code: str) -> list[str]:
    """Turns two-factor login on with the first code of the enrolled authenticator.

    Returns the ten recovery codes, in clear for the only time; sends
    ``mfa_enabled``. Raises ``NoEnrollment`` or ``WrongCode``.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            raise NoEnrollment
        verified = bool(TOTP_CODE.fullmatch(code)) and device.verify_token(code)
        if verified:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _replace_recovery_codes(user)
            signals.mfa_enabled.send(sender=User, user=user)
    if not verified:
        raise WrongCode
    return codes


@transaction.atomic
def mfa_turn_off(*, actor: User | None, user: User) -> bool:
    """Removes ``user``'s authenticator and recovery codes; sends ``mfa_disabled`` when it was on.

    ``actor`` is the user, or None for the operator (``mfa_reset``). Returns whether it was on.
    """
    was_on = mfa_enabled(user)
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    if was_on:
        signals.mfa_disabled.send(sender=User, actor=actor, user=user)
    return was_on


# ---------------------------------------------------------------- the second factor


def mfa_verify(*, user: User, code: str) -> Method | None:
    """Checks a second-factor code of ``user``: a TOTP code (once per step) or an unused recovery
    code (used up by this). Returns which one matched, or None."""
    code = code.strip()
    if TOTP_CODE.fullmatch(code):
        with transaction.atomic():
            device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            verified = device is not None and device.verify_token(code)
        if verified:
            user.otp_device = device  # django_otp.login() marks a session login as verified
        return "totp" if verified else None
    normalized = normalize_recovery_code(code)
    if not _RECOVERY_CODE.fullmatch(normalized):
        return None
    # One conditional UPDATE: of two requests with the same code, one wins.
    used = RecoveryCode.objects.filter(user=user, digest=_digest(normalized), used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if used:
        user.otp_device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return "recovery" if used else None


# ---------------------------------------------------------------- the mfa_token


def _password_state(user: User) -> str:
    return salted_hmac(_TOKEN_SALT, user.password, algorithm="sha256").hexdigest()[:32]


def _nonce_key(nonce: str) -> str:
    return f"mfa-token:{nonce}"


def mfa_token_issue(*, user: User) -> str:
    """A token that stands for ``user``'s right password until the second factor is given."""
    nonce = secrets.token_urlsafe(18)
    cache.set(_nonce_key(nonce), user.pk, timeout=settings.MFA_TOKEN_SECONDS)
    payload = {"u": user.pk, "n": nonce, "p": _password_state(user)}
    return signing.dumps(payload, salt=_TOKEN_SALT)


def mfa_token_read(token: str) -> tuple[User, str]:
    """The user and nonce of a valid, unused ``mfa_token``; raises ``InvalidMfaToken``."""
    try:
        payload = signing.loads(token, salt=_TOKEN_SALT, max_age=settings.MFA_TOKEN_SECONDS)
    except (signing.BadSignature, ValueError) as exc:
        raise InvalidMfaToken from exc
    shape = (("u", int), ("n", str), ("p", str))
    if not isinstance(payload, dict) or not all(isinstance(payload.get(key), kind) for key, kind in shape):
        raise InvalidMfaToken
    if cache.get(_nonce_key(payload["n"])) != payload["u"]:
        raise InvalidMfaToken
    user = User.objects.filter(pk=payload["u"], is_active=True).first()
    if user is None or not constant_time_compare(payload["p"], _password_state(user)):
        raise InvalidMfaToken
    return user, payload["n"]


def mfa_token_use(nonce: str) -> bool:
    """Uses up an mfa_token; False when another request used it first."""
    return bool(cache.delete(_nonce_key(nonce)))
