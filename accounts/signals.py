"""Account events, sent by ``accounts.services`` and views; the audit app listens.

Every signal is sent with ``sender=User`` (the user model class). ``actor`` is
the user who caused the event, or ``None`` for the operator on the command
line (the audit trail records ``cli``). Django's own ``user_logged_in`` and
``user_login_failed`` cover successful and failed logins.
"""

from django.dispatch import Signal

#: A new account was created through signup. kwargs: ``user``.
user_signed_up = Signal()

#: A login (or another check of a password, such as a password change) was
#: refused by the lockout or a rate limit, before any secret was checked; sent
#: at most once a minute per client network and username (``accounts.login``).
#: kwargs: ``username`` (as attempted, may be empty), ``reason``: ``"lockout"``
#: (too many failures for the username from this network) or ``"rate"`` (a rate limit).
#: Every refusal, unbounded, is ``login_refused``.
login_throttled = Signal()

#: Every login refused by the lockout or a rate limit (``login_throttled`` is
#: its bounded, audited twin), for counting. kwargs: ``username``, ``reason``.
login_refused = Signal()

#: A refresh token was revoked by logout. kwargs: ``user``, optional ``actor``
#: (an admin who logged ``user`` out everywhere; the user themself when absent).
user_logged_out = Signal()

#: A blacklisted or rotated-out refresh token was presented; every
#: outstanding refresh token of its user has been revoked. kwargs: ``user``
#: (``None`` when the token names no existing user).
refresh_token_reused = Signal()

#: A password was changed. kwargs: ``actor``, ``user``.
password_changed = Signal()

#: A password change was refused: the old password was wrong. kwargs: ``user``.
password_change_failed = Signal()

#: A user changed their own profile. kwargs: ``user``, ``fields`` (names changed).
profile_updated = Signal()

#: A user was made an admin. kwargs: ``actor``, ``user``, ``superuser`` (bool).
user_promoted = Signal()

#: A user's admin rights were removed. kwargs: ``actor``, ``user``.
user_demoted = Signal()

#: An admin changed a user (other than promote/demote), e.g. deactivation or an
#: edit in the admin site. kwargs: ``actor``, ``user``, ``fields`` (names changed).
user_updated = Signal()

#: A user's login lockout was cleared for every IP (``manage.py unlock_user``).
#: kwargs: ``actor``, ``user``.
user_unlocked = Signal()

#: An admin is deleting a user; sent just before the row goes, inside the same
#: transaction. kwargs: ``actor``, ``user``.
user_deleted = Signal()

#: An authenticated user was refused (403) on an admin-only endpoint.
#: kwargs: ``user``, ``method``, ``path``.
access_denied = Signal()

#: Two-factor login was turned on (an authenticator confirmed). kwargs: ``user``.
mfa_enabled = Signal()

#: Two-factor login was turned off. kwargs: ``actor`` (the user, or ``None`` for
#: the operator's ``mfa_reset``), ``user``.
mfa_disabled = Signal()

#: A second-factor code was refused at a login: wrong, replayed or already used.
#: kwargs: ``user``. Never the code.
mfa_failed = Signal()

#: A recovery code completed a login (and is now used up). kwargs: ``user``.
recovery_code_used = Signal()

#: A password-reset email was asked for an address that has an account
#: (nothing is sent for an unknown address). kwargs: ``user``.
password_reset_requested = Signal()

#: A password-reset token set a new password. kwargs: ``actor`` (the user), ``user``.
password_reset_done = Signal()
