"""Account actions, one function per business action, shared by the API, the admin and the CLI.

Each action sends its ``accounts.signals`` event (or Django's auth signal)
inside its own transaction, so the audit row commits or rolls back with it.
Passwords are hashed before a transaction opens: PBKDF2 takes a noticeable
fraction of a second and should not hold database locks meanwhile.
"""

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth import authenticate, password_validation, user_logged_in
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import lockout, mfa, signals
from accounts.login import login_attempt
from accounts.models import User
from accounts.tokens import PresentedRefreshToken, RefreshToken
from devlab import background

logger = logging.getLogger("accounts")

TAKEN = {
    "username": _("A user with that username already exists."),
    "email": _("A user with that email already exists."),
}
INVALID_REFRESH = _("Token is invalid, expired or revoked.")
INVALID_RESET = _("This password reset link is invalid, used or expired.")


class InvalidCredentials(Exception):
    """Unknown username, wrong password or inactive user: deliberately indistinguishable."""


class WrongPassword(Exception):
    """The user's current password, asked to confirm a change, was wrong."""


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


@dataclass(frozen=True)
class MfaChallenge:
    """A right password of a user with two-factor login: the login waits for the second factor."""

    mfa_token: str
    expires_in: int


def user_log_in(*, request: HttpRequest, username: str, password: str) -> RefreshToken | MfaChallenge:
    """Checks a username and password and issues a refresh token (with its access token).

    A ``login.login_attempt``: refused without checking the password
    (``lockout.LockedOut``) while the username is locked out for the client's
    network. Otherwise Django's ``authenticate`` decides (sending
    ``user_login_failed`` on failure); a failure counts towards the lockout and
    raises ``InvalidCredentials``, a success clears the count and sends
    ``user_logged_in`` (which also updates ``last_login``).

    With two-factor login on, a right password is not yet a success: it
    returns an ``MfaChallenge`` for ``user_log_in_second_factor`` and leaves
    the failure count as it is, so a known password buys no extra code guesses.
    """
    attempt = login_attempt(request=request, username=username)
    user = authenticate(request, username=username, password=password)
    if user is None:
        attempt.failed()
        raise InvalidCredentials
    if mfa.mfa_enabled(user):
        return MfaChallenge(mfa_token=mfa.mfa_token_issue(user=user), expires_in=settings.MFA_TOKEN_SECONDS)
    attempt.succeeded()
    return _complete_login(request=request, user=user)


def _complete_login(*, request: HttpRequest, user: User, recovery_code: bool = False) -> RefreshToken:
    with transaction.atomic():
        refresh = RefreshToken.for_user(user)
        if recovery_code:
            signals.recovery_code_used.send(sender=User, user=user)
        user_logged_in.send(sender=User, request=request, user=user)
    return refresh


def user_log_in_second_factor(*, request: HttpRequest, mfa_token: str, code: str) -> RefreshToken:
    """Completes a two-factor login: the ``mfa_token`` of a right password and a TOTP or recovery code.

    Raises ``mfa.InvalidMfaToken`` for a bad, expired or used token. Then a
    ``login.login_attempt`` of that user (``lockout.LockedOut`` without
    checking the code): a wrong, replayed or used code counts towards the
    same lockout as a wrong password, sends ``mfa_failed`` and raises
    ``InvalidCredentials``. A right one uses up the token, clears the count and
    logs in (``user_logged_in``; ``recovery_code_used`` too for a recovery code).
    """
    user, nonce = mfa.mfa_token_read(mfa_token)
    attempt = login_attempt(request=request, username=user.get_username())
    method = mfa.mfa_verify(user=user, code=code)
    if method is None:
        attempt.failed()
        signals.mfa_failed.send(sender=User, user=user)
        raise InvalidCredentials
    if not mfa.mfa_token_use(nonce):
        raise mfa.InvalidMfaToken
    attempt.succeeded()
    return _complete_login(request=request, user=user, recovery_code=method == "recovery")


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
def user_logout_all(*, user: User, actor: User | None = None) -> None:
    """Revokes every outstanding refresh token of ``user`` and sends ``user_logged_out``.

    Without ``actor`` the user logs themself out (the API). With one, an admin
    logs ``user`` out everywhere (the admin site's action), which
    ``user_can_manage`` must allow (``AdminRightsForbidden`` otherwise); the
    audit row names the admin as actor.
    """
    by_admin = {} if actor is None else {"actor": actor}
    if actor is not None:
        _lock_rights(actor, user)
        _require_manage(actor, user)
    user_revoke_tokens(user=user)
    signals.user_logged_out.send(sender=User, user=user, **by_admin)


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

    The caller has checked the old password (``user_change_own_password``) and the validators.
    """
    user.set_password(new_password)
    with transaction.atomic():
        user.save(update_fields=["password"])
        user_revoke_tokens(user=user)
        signals.password_changed.send(sender=User, actor=user, user=user)


def user_change_own_password(*, request: HttpRequest, user: User, old_password: str, new_password: str) -> None:
    """Changes ``user``'s password after checking the old one, as a ``login.login_attempt``.

    The old password is a password check like a login's, so it is guarded the
    same way: ``lockout.LockedOut`` (without checking it) while the user is
    locked out for the client's network; a wrong one counts towards that
    lockout, sends ``password_change_failed`` and raises ``WrongPassword``.
    The new password has passed the validators (the serializer's job).
    """
    attempt = login_attempt(request=request, username=user.get_username())
    if not user.check_password(old_password):
        attempt.failed()
        signals.password_change_failed.send(sender=User, user=user)
        raise WrongPassword
    attempt.succeeded()
    user_change_password(user=user, new_password=new_password)


def user_mfa_disable(*, request: HttpRequest, user: User, password: str) -> bool:
    """Turns ``user``'s two-factor login off after checking their password, as a
    ``login.login_attempt`` (``lockout.LockedOut``; a wrong password counts and
    raises ``WrongPassword``). Returns whether it was on (``mfa_disabled`` is sent then)."""
    attempt = login_attempt(request=request, username=user.get_username())
    if not user.check_password(password):
        attempt.failed()
        raise WrongPassword
    attempt.succeeded()
    return mfa.mfa_turn_off(actor=user, user=user)


# ---------------------------------------------------------------- password reset
# Django's token generator: an HMAC (SECRET_KEY) of the user's id, password
# hash, last login and email and of the time it was made, valid for
# PASSWORD_RESET_TIMEOUT seconds (PASSWORD_RESET_MINUTES). Nothing is stored:
# setting a password (or logging in) changes what the HMAC covers, so a token
# is single use and dies with the password it was issued for.

#: Languages the reset email is written in (templates/accounts/email/<language>/).
RESET_EMAIL_LANGUAGES = ("en", "pt-br")


def password_reset_request(*, email: str, url_template: str) -> None:
    """Mails a reset link to the active account with ``email``, if there is one.

    Returns at once, having done the same for every address: the lookup, the
    ``password_reset_requested`` signal and the mail happen in a background
    thread (``_password_reset_mail``), so neither the answer nor its time
    says whether the address has an account. ``url_template`` is the link
    with ``{uid}`` and ``{token}`` to fill in; the email is written in the
    active language.
    """
    task = partial(_password_reset_mail, email=email, url_template=url_template, language=translation.get_language())
    background.run_after_commit(task, name="password-reset-mail")


def _reset_recipient(email: str) -> User | None:
    user = User.objects.by_email(email).filter(is_active=True).first()
    return user if user is not None and user.has_usable_password() else None


def _password_reset_mail(*, email: str, url_template: str, language: str | None) -> None:
    """The work of ``password_reset_request``; a failed send is logged (never the link)."""
    user = _reset_recipient(email)
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = url_template.format(uid=uid, token=default_token_generator.make_token(user))
    with transaction.atomic():
        signals.password_reset_requested.send(sender=User, user=user)
    language = language if language in RESET_EMAIL_LANGUAGES else RESET_EMAIL_LANGUAGES[0]
    context = {"username": user.get_username(), "link": link, "minutes": settings.PASSWORD_RESET_MINUTES}
    with translation.override(language):
        templates = f"accounts/email/{language}/password_reset"
        subject = " ".join(render_to_string(f"{templates}_subject.txt", context).split())
        message = EmailMultiAlternatives(subject, render_to_string(f"{templates}.txt", context), to=[user.email])
        message.attach_alternative(render_to_string(f"{templates}.html", context), "text/html")
    try:
        message.send()
    except Exception as exc:  # SMTP, DNS, TLS, timeouts: the user simply gets no mail
        logger.error(
            "password reset email could not be sent",
            extra={"user_id": user.pk, "error": f"{type(exc).__name__}: {exc}"[:300]},
        )


def _reset_user(uid: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Sets a new password with a reset link's ``uid`` and ``token``; revokes every refresh token.

    Raises ``ValidationError`` on ``token`` when the link is invalid, used,
    expired or its user inactive, and on ``new_password`` when Django's
    validators refuse it. Sends ``password_reset_done``. The token is checked
    again under a lock on the user's row, so of two requests with one token
    only one sets a password.
    """
    user = _reset_user(uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise ValidationError({"token": [INVALID_RESET]})
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    hashed = make_password(new_password)  # before the lock: PBKDF2 is slow
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user.pk, is_active=True).first()
        if user is None or not default_token_generator.check_token(user, token):
            raise ValidationError({"token": [INVALID_RESET]})
        user.password = hashed
        user.save(update_fields=["password"])
        user_revoke_tokens(user=user)
        signals.password_reset_done.send(sender=User, actor=user, user=user)
    return user


# ---------------------------------------------------------------- user administration
# ``actor`` is the admin who acts, or None for the operator on the command line
# (the audit trail records "cli"). Who may act on whom is decided here and only
# here (``user_can_manage``, ``user_can_grant_rights``, ``user_admin_check``):
# the API, the admin site and the commands ask these functions.

ADMINISTRATORS_GROUP = "Administrators"
#: What only a superuser (or the operator) may change: the rights beyond the group.
RIGHTS_FIELDS = frozenset({"is_superuser", "groups", "user_permissions"})
#: The other fields an admin's edit may change (``user_admin_update``); never the password.
ADMIN_EDITABLE_FIELDS = frozenset(
    {"username", "email", "first_name", "last_name", "is_active", "last_login", "date_joined"}
)
_STATE_FIELDS = ["is_staff", "is_superuser", "is_active"]


class AdminRightsConflict(Exception):
    """The change contradicts the user's current rights (the API answers 409)."""


class AdminRightsForbidden(PermissionDenied):
    """The actor may not make this change (the API answers 403, the admin site shows an error).

    A ``PermissionDenied``: a path that forgets to catch it still refuses (403) and
    rolls its transaction back rather than failing with a 500.
    """


def administrators_group() -> Group:
    """The ``Administrators`` group (created with its permissions by accounts/migrations/0003)."""
    return Group.objects.get(name=ADMINISTRATORS_GROUP)


def _is_self(actor: User | None, user: User) -> bool:
    return actor is not None and actor.pk == user.pk


def user_can_manage(*, actor: User | None, user: User) -> bool:
    """Whether ``actor`` may change ``user`` at all (edit, password, rights, deactivate, delete, log out).

    The operator (``None``) and superusers may act on anyone; any other active
    admin on users who are not superusers (themselves included); nobody else.
    """
    if actor is None:
        return True
    if not (actor.is_active and actor.is_staff):
        return False
    return actor.is_superuser or not user.is_superuser


def user_can_grant_rights(*, actor: User | None) -> bool:
    """Whether ``actor`` may set ``RIGHTS_FIELDS`` (superuser status, groups, permissions) of anyone."""
    return actor is None or (actor.is_active and actor.is_superuser)


def _require_manage(actor: User | None, user: User) -> None:
    if user_can_manage(actor=actor, user=user):
        return
    if actor is not None and not (actor.is_active and actor.is_staff):
        raise AdminRightsForbidden(_("Admin rights are required."))
    raise AdminRightsForbidden(
        _("Only a superuser can change the superuser %(username)s.") % {"username": user.username}
    )


def _require_not_last_superuser(user: User) -> None:
    """Refuses a change that would leave no active superuser (nobody, superusers included, may)."""
    if not (user.is_superuser and user.is_active):
        return
    if not User.objects.filter(is_superuser=True, is_active=True).exclude(pk=user.pk).exists():
        raise AdminRightsConflict(_("%(username)s is the last superuser.") % {"username": user.username})


def _lock_rights(actor: User | None, user: User) -> None:
    """Locks the rows of every active superuser, of ``actor`` and of ``user``; re-reads their rights.

    Every rights change runs this first, in its transaction: two superusers
    demoting each other at once are serialised, and the second sees that the
    first already removed a superuser (and that its actor may no longer act).
    Rows are locked in primary-key order, so concurrent changes cannot deadlock.
    Raises ``User.DoesNotExist`` when ``user`` (or ``actor``) is gone meanwhile.
    """
    ids = [user.pk] if actor is None else [user.pk, actor.pk]
    locked = User.objects.select_for_update().filter(Q(pk__in=ids) | Q(is_superuser=True, is_active=True))
    list(locked.order_by("pk").values_list("pk", flat=True))
    user.refresh_from_db(fields=_STATE_FIELDS)
    if actor is not None:
        actor.refresh_from_db(fields=_STATE_FIELDS)


@transaction.atomic
def user_admin_check(*, actor: User | None, user: User, changes: Mapping[str, object] | None = None) -> None:
    """Raises ``AdminRightsForbidden`` or ``AdminRightsConflict`` if ``actor`` may not make ``changes`` to ``user``.

    ``changes`` maps the names of changed fields to their new values (as an
    admin's edit would set them). The admin site asks this before it saves
    (validating the change form, before the password form); ``user_admin_update``
    asks again. The rows stay locked (``_lock_rights``) until the caller's
    transaction ends, so what was allowed stays allowed until the save.
    """
    changes = changes or {}
    _lock_rights(actor, user)
    _require_manage(actor, user)
    granted = sorted(RIGHTS_FIELDS.intersection(changes))
    if granted and not user_can_grant_rights(actor=actor):
        raise AdminRightsForbidden(_("Only a superuser can change %(fields)s.") % {"fields": ", ".join(granted)})
    demoted = "is_staff" in changes and not changes["is_staff"] and user.is_staff
    if demoted and _is_self(actor, user):
        raise AdminRightsConflict(_("You cannot remove your own admin rights."))
    deactivated = "is_active" in changes and not changes["is_active"] and user.is_active
    if deactivated and _is_self(actor, user):
        raise AdminRightsConflict(_("You cannot deactivate yourself."))
    unsuperused = "is_superuser" in changes and not changes["is_superuser"] and user.is_superuser
    if demoted or deactivated or unsuperused:
        _require_not_last_superuser(user)


@transaction.atomic
def user_promote(*, actor: User | None, user: User, superuser: bool = False) -> User:
    """Makes ``user`` an admin (``is_staff``, the Administrators group); ``superuser`` too if asked.

    Only a superuser (or the operator) makes a superuser or changes one.
    """
    _lock_rights(actor, user)
    _require_manage(actor, user)
    if superuser and not user_can_grant_rights(actor=actor):
        raise AdminRightsForbidden(_("Only a superuser can make a superuser."))
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
    """Removes ``user``'s admin rights and revokes their refresh tokens.

    Never yourself, a superuser only by a superuser (or the operator), never the
    last active superuser (not even by the operator).
    """
    if _is_self(actor, user):
        raise AdminRightsConflict(_("You cannot remove your own admin rights."))
    _lock_rights(actor, user)
    _require_manage(actor, user)
    if not user.is_staff:
        raise AdminRightsConflict(_("%(username)s is not an admin.") % {"username": user.username})
    _require_not_last_superuser(user)
    user.is_staff = False
    user.is_superuser = False
    user.save(update_fields=["is_staff", "is_superuser"])
    user.groups.remove(administrators_group())
    user_revoke_tokens(user=user)
    signals.user_demoted.send(sender=User, actor=actor, user=user)
    return user


@transaction.atomic
def user_deactivate(*, actor: User | None, user: User) -> User:
    """Deactivates ``user`` (no more logins, access tokens refused) and revokes their refresh tokens.

    Never yourself, a superuser only by a superuser, never the last active superuser.
    """
    if _is_self(actor, user):
        raise AdminRightsConflict(_("You cannot deactivate yourself."))
    _lock_rights(actor, user)
    _require_manage(actor, user)
    if not user.is_active:
        raise AdminRightsConflict(_("%(username)s is already inactive.") % {"username": user.username})
    _require_not_last_superuser(user)
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
def user_admin_update(*, actor: User, user: User, changes: Mapping[str, object]) -> User:
    """Applies an admin's edit to ``user`` (as stored) and returns it.

    ``changes`` maps changed field names to new values; ``groups`` and
    ``user_permissions`` to what the user should have. ``user_admin_check``
    decides first, with the rows locked. Granting or removing admin rights
    (``is_staff``, a new ``is_superuser``) runs ``user_promote`` /
    ``user_demote`` with their own events; the rest is saved and sent as one
    ``user_updated``. An admin keeps the Administrators group whatever
    ``groups`` says, a non-admin never has it; deactivation revokes refresh tokens.
    """
    user_admin_check(actor=actor, user=user, changes=changes)
    changes = dict(changes)
    staff = bool(changes.pop("is_staff", user.is_staff))
    superuser = bool(changes.pop("is_superuser", user.is_superuser))
    groups = changes.pop("groups", None)
    permissions = changes.pop("user_permissions", None)
    unknown = set(changes) - ADMIN_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    fields = []
    if user.is_staff and not staff:
        user_demote(actor=actor, user=user)
    elif (staff and not user.is_staff) or (superuser and not user.is_superuser):
        user_promote(actor=actor, user=user, superuser=superuser)
    if user.is_superuser and not superuser:
        user.is_superuser = False
        fields.append("is_superuser")
    for name, value in changes.items():
        if getattr(user, name) != value:
            setattr(user, name, value)
            fields.append(name)
    if fields:
        user.save(update_fields=fields)
    if groups is not None:
        before = set(user.groups.values_list("pk", flat=True))
        wanted = {group.pk for group in groups}
        admins = administrators_group().pk
        wanted = wanted | {admins} if user.is_staff else wanted - {admins}
        if wanted != before:
            user.groups.set(wanted)
            fields.append("groups")
    if permissions is not None:
        before = set(user.user_permissions.values_list("pk", flat=True))
        wanted = {permission.pk for permission in permissions}
        if wanted != before:
            user.user_permissions.set(wanted)
            fields.append("user_permissions")
    if "is_active" in fields and not user.is_active:
        user_revoke_tokens(user=user)
    if fields:
        signals.user_updated.send(sender=User, actor=actor, user=user, fields=sorted(fields))
    return user


@transaction.atomic
def user_admin_set_password(*, actor: User, user: User) -> None:
    """Records a password set by an admin (the admin form saved it) and revokes the user's tokens.

    Refuses (``AdminRightsForbidden``) a superuser's password set by anyone but
    a superuser. The admin site asks ``user_admin_check`` before its form saves
    and calls this after, in the same transaction, which a refusal rolls back.
    """
    _lock_rights(actor, user)
    _require_manage(actor, user)
    user_revoke_tokens(user=user)
    signals.password_changed.send(sender=User, actor=actor, user=user)


@transaction.atomic
def user_delete(*, actor: User, user: User) -> None:
    """Deletes ``user`` (and their notes); their audit rows stay.

    Never yourself, a superuser only by a superuser, never the last active superuser.
    """
    if _is_self(actor, user):
        raise AdminRightsConflict(_("You cannot delete yourself."))
    _lock_rights(actor, user)
    _require_manage(actor, user)
    _require_not_last_superuser(user)
    signals.user_deleted.send(sender=User, actor=actor, user=user)
    user.delete()
