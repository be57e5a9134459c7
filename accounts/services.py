"""Account actions, one function per business action, shared by the API, the admin and the CLI.

Each action sends its ``accounts.signals`` event (or Django's auth signal)
inside its own transaction, so the audit row commits or rolls back with it.
Passwords are hashed before a transaction opens: PBKDF2 takes a noticeable
fraction of a second and should not hold database locks meanwhile.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth import authenticate, user_logged_in
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import lockout, signals
from accounts.models import User
from accounts.tokens import PresentedRefreshToken
from devlab.http import client_ip

TAKEN = {
    "username": _("A user with that username already exists."),
    "email": _("A user with that email already exists."),
}
INVALID_REFRESH = _("Token is invalid, expired or revoked.")


class InvalidCredentials(Exception):
    """Unknown username, wrong password or inactive user: deliberately indistinguishable."""


class RefreshTokenReused(TokenError):
    """A revoked refresh token was presented; every refresh token of its user is now revoked."""


def _duplicate_field(exc: IntegrityError) -> str | None:
    """Which unique field an insert or update collided on, from the constraint's name."""
    diag = getattr(exc.__cause__, "diag", None)  # psycopg names the constraint exactly
    # SQLite: "UNIQUE constraint failed: accounts_user.username" or "...: index '<name>'".
    name = getattr(diag, "constraint_name", None) or str(exc)
    return next((field for field in ("email", "username") if field in name), None)


@contextmanager
def _unique_fields() -> Iterator[None]:
    """A transaction whose username/email unique violations become field errors.

    The serializers check uniqueness first, for a friendly message; this
    catches the race they cannot see (two signups of one name at once), which
    the database's case-insensitive unique constraints settle.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        field = _duplicate_field(exc)
        if field is None:
            raise
        raise ValidationError({field: [TAKEN[field]]}) from exc


def user_signup(*, username: str, email: str, password: str) -> User:
    """Creates an account and sends ``user_signed_up``.

    ``username`` is stored NFKC-normalised. Raises ``ValidationError`` naming
    the field when the username or email is taken (case-insensitively).
    """
    user = User(username=User.normalize_username(username), email=User.objects.normalize_email(email))
    user.set_password(password)
    with _unique_fields():
        user.save()
        signals.user_signed_up.send(sender=User, user=user)
    return user


def user_log_in(*, request: HttpRequest, username: str, password: str) -> RefreshToken:
    """Checks a username and password and issues a refresh token (with its access token).

    Refused without checking the password (``lockout.LockedOut``, and a
    ``login_throttled`` signal) while the username is locked out for the
    client's IP. Otherwise Django's ``authenticate`` decides (sending
    ``user_login_failed`` on failure); a failure counts towards the lockout and
    raises ``InvalidCredentials``, a success clears the count (if there is one) and sends
    ``user_logged_in`` (which also updates ``last_login``).
    """
    ip = client_ip(request)
    try:
        failures = lockout.check(username=username, ip=ip)
    except lockout.LockedOut:
        signals.login_throttled.send(sender=User, username=username, reason="lockout")
        raise
    user = authenticate(request, username=username, password=password)
    if user is None:
        lockout.record_failure(username=username, ip=ip)
        raise InvalidCredentials
    if failures:
        lockout.reset(username=username, ip=ip)
    with transaction.atomic():
        refresh = RefreshToken.for_user(user)
        user_logged_in.send(sender=User, request=request, user=user)
    return refresh


def token_refresh(*, refresh: str) -> RefreshToken:
    """Rotates a refresh token: revokes it and returns a new one (with its access token).

    Atomic: the outstanding-token row is locked, so of several requests with
    the same token exactly one succeeds. Presenting a revoked token is treated
    as theft (OAuth 2.0 Security BCP): every refresh token of its user is
    revoked, ``refresh_token_reused`` is sent and ``RefreshTokenReused``
    raised. That revocation commits in its own transaction, so the caller
    must not run this inside one that the failure would roll back. Other
    failures (bad signature, expired, unknown, user gone or inactive) raise
    ``TokenError``.
    """
    presented = PresentedRefreshToken(refresh)
    with transaction.atomic():
        outstanding = (
            OutstandingToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(jti=presented[jwt_settings.JTI_CLAIM])
            .first()
        )
        if outstanding is None:
            raise TokenError(INVALID_REFRESH)
        # A statement of its own, after the lock: under READ COMMITTED it sees
        # the revocation committed by a request that held the lock before us.
        reused = BlacklistedToken.objects.filter(token=outstanding).exists()
        user = outstanding.user
        if not reused:
            if user is None or not user.is_active:
                raise TokenError(INVALID_REFRESH)
            BlacklistedToken.objects.create(token=outstanding)
            return RefreshToken.for_user(user)
    if user is not None:
        user_revoke_tokens(user=user)
    signals.refresh_token_reused.send(sender=User, user=user)
    raise RefreshTokenReused(INVALID_REFRESH)


@transaction.atomic
def user_revoke_tokens(*, user: User) -> int:
    """Revokes (blacklists) every outstanding refresh token of ``user``; returns how many.

    Used by logout-all, password change, refresh-token reuse, demotion and
    deactivation. Access tokens already issued live on until they expire
    (``ACCESS_TOKEN_MINUTES``), but each request re-reads the user, so a
    deactivated user's or a demoted admin's access token loses its rights at once.
    """
    outstanding = OutstandingToken.objects.filter(
        user=user, blacklistedtoken__isnull=True, expires_at__gt=timezone.now()
    ).values_list("pk", flat=True)
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in outstanding], ignore_conflicts=True
    )
    return len(revoked)


@transaction.atomic
def user_logout(*, user: User, refresh: str) -> None:
    """Revokes one refresh token of ``user`` and sends ``user_logged_out``.

    Raises ``ValidationError`` on the ``refresh`` field when the token is
    malformed or expired, or names another user. Logging out with a token
    that is already revoked changes nothing and sends nothing.
    """
    try:
        token = PresentedRefreshToken(refresh)
    except TokenError as exc:
        raise ValidationError({"refresh": [INVALID_REFRESH]}) from exc
    outstanding = OutstandingToken.objects.filter(jti=token[jwt_settings.JTI_CLAIM], user=user).first()
    if outstanding is None:
        raise ValidationError({"refresh": [_("This refresh token does not belong to you.")]})
    if BlacklistedToken.objects.get_or_create(token=outstanding)[1]:
        signals.user_logged_out.send(sender=User, user=user)


@transaction.atomic
def user_logout_all(*, user: User) -> None:
    """Revokes every outstanding refresh token of ``user`` and sends ``user_logged_out``."""
    user_revoke_tokens(user=user)
    signals.user_logged_out.send(sender=User, user=user)


def user_update_profile(*, user: User, email: str) -> User:
    """Changes ``user``'s own email; sends ``profile_updated`` when it changed.

    Raises ``ValidationError`` on ``email`` when another user has it
    (case-insensitively).
    """
    email = User.objects.normalize_email(email)
    if email == user.email:
        return user
    previous, user.email = user.email, email
    try:
        with _unique_fields():
            user.save(update_fields=["email"])
            signals.profile_updated.send(sender=User, user=user, fields=["email"])
    except ValidationError:
        user.email = previous
        raise
    return user


def user_change_password(*, user: User, new_password: str) -> None:
    """Sets ``user``'s password, revokes all their refresh tokens, sends ``password_changed``.

    The caller has checked the old password and the validators.
    """
    user.set_password(new_password)
    with transaction.atomic():
        user.save(update_fields=["password"])
        user_revoke_tokens(user=user)
        signals.password_changed.send(sender=User, actor=user, user=user)


# ---------------------------------------------------------------- user administration
# ``actor`` is the admin who acts, or None for the operator on the command line
# (the audit trail records "cli").

ADMINISTRATORS_GROUP = "Administrators"


class AdminRightsConflict(Exception):
    """The change contradicts the user's current rights (the API answers 409)."""


def administrators_group() -> Group:
    """The ``Administrators`` group (created with its permissions by accounts/migrations/0003)."""
    return Group.objects.get(name=ADMINISTRATORS_GROUP)


def _is_self(actor: User | None, user: User) -> bool:
    return actor is not None and actor.pk == user.pk


@transaction.atomic
def user_promote(*, actor: User | None, user: User, superuser: bool = False) -> User:
    """Makes ``user`` an admin (``is_staff``, the Administrators group); ``superuser`` too if asked."""
    if user.is_staff and (user.is_superuser or not superuser):
        raise AdminRightsConflict(_("%(username)s is already an admin.") % {"username": user.username})
    user.is_staff = True
    user.is_superuser = user.is_superuser or superuser
    user.save(update_fields=["is_staff", "is_superuser"])
    user.groups.add(administrators_group())
    signals.user_promoted.send(sender=User, actor=actor, user=user, superuser=superuser)
    return user


@transaction.atomic
def user_demote(*, actor: User | None, user: User) -> User:
    """Removes ``user``'s admin rights and revokes their refresh tokens."""
    if _is_self(actor, user):
        raise AdminRightsConflict(_("You cannot remove your own admin rights."))
    if not user.is_staff:
        raise AdminRightsConflict(_("%(username)s is not an admin.") % {"username": user.username})
    if user.is_superuser and not User.objects.filter(is_superuser=True, is_active=True).exclude(pk=user.pk).exists():
        raise AdminRightsConflict(_("%(username)s is the last superuser.") % {"username": user.username})
    user.is_staff = False
    user.is_superuser = False
    user.save(update_fields=["is_staff", "is_superuser"])
    user.groups.remove(administrators_group())
    user_revoke_tokens(user=user)
    signals.user_demoted.send(sender=User, actor=actor, user=user)
    return user


@transaction.atomic
def user_deactivate(*, actor: User | None, user: User) -> User:
    """Deactivates ``user`` (no more logins, access tokens refused) and revokes their refresh tokens."""
    if _is_self(actor, user):
        raise AdminRightsConflict(_("You cannot deactivate yourself."))
    if not user.is_active:
        raise AdminRightsConflict(_("%(username)s is already inactive.") % {"username": user.username})
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_revoke_tokens(user=user)
    signals.user_updated.send(sender=User, actor=actor, user=user, fields=["is_active"])
    return user


@transaction.atomic
def user_unlock(*, actor: User | None, user: User) -> None:
    """Clears ``user``'s login lockout for every client IP and sends ``user_unlocked``.

    Idempotent: unlocking a user who is not locked out is recorded all the same,
    since the operator's intent is what the audit trail keeps. Raises
    ``lockout.ClearFailed`` (nothing sent or recorded) when the cache refused the write."""
    lockout.clear_user(username=user.username)
    signals.user_unlocked.send(sender=User, actor=actor, user=user)


@transaction.atomic
def user_admin_update(*, actor: User, user: User, fields: list[str]) -> User:
    """Saves an admin's edit of ``user``; flag changes go through promote/demote/deactivate."""
    user.save()
    if "is_active" in fields and not user.is_active:
        user_revoke_tokens(user=user)
    if fields:
        signals.user_updated.send(sender=User, actor=actor, user=user, fields=sorted(fields))
    return user


@transaction.atomic
def user_admin_set_password(*, actor: User, user: User) -> None:
    """Records a password set by an admin (the admin form saved it) and revokes the user's tokens."""
    user_revoke_tokens(user=user)
    signals.password_changed.send(sender=User, actor=actor, user=user)


@transaction.atomic
def user_delete(*, actor: User, user: User) -> None:
    """Deletes ``user`` (and their notes); their audit rows stay."""
    if _is_self(actor, user):
        raise AdminRightsConflict(_("You cannot delete yourself."))
    signals.user_deleted.send(sender=User, actor=actor, user=user)
    user.delete()
