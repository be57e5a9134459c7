"""One login attempt: the lockout, the failure count and the refusal's audit, for every entry point.

The API login, its second-factor step, the admin and browsable-API session
logins and the password change all check a secret of a user; each starts a
``login_attempt`` before checking it, so that they count towards one lockout
(``accounts.lockout``, per username and client network) and are audited the
same way::

    attempt = login_attempt(request=request, username=username)  # LockedOut: 429
    if not secret_is_right:
        attempt.failed()
        ...
    attempt.succeeded()

A refusal by the lockout or by a rate limit sends ``login_throttled`` through
``login_throttled``, at most once a minute per client network and username:
one client hammering a locked door must not grow the (append-only, hashed)
audit table without bound. The request log still has a line for every refusal.
"""

import hashlib
import time
from dataclasses import dataclass

from django.contrib.auth import user_login_failed
from django.core.cache import cache
from django.http import HttpRequest

from accounts import lockout, signals
from accounts.models import User, username_key
from devlab.http import client_ip, network_key

#: How long one ``login_throttled`` row stands for every refusal of its client and username.
THROTTLED_AUDIT_SECONDS = 60


def login_throttled(*, request: HttpRequest, username: str, reason: str) -> bool:
    """Sends ``login_refused`` for a refused login (``reason``: ``"lockout"`` or ``"rate"``),
    and ``login_throttled`` unless one was sent for this client network and username in
    the current minute; returns whether ``login_throttled`` was sent.

    ``cache.add`` decides, atomically on every shared backend, so parallel
    refusals send one signal between them.
    """
    signals.login_refused.send(sender=User, username=username, reason=reason)
    minute = int(time.time() // THROTTLED_AUDIT_SECONDS)
    pair = hashlib.sha256(f"{network_key(client_ip(request))}\x00{username_key(username)}".encode()).hexdigest()
    if not cache.add(f"login-throttled:{pair}:{minute}", 1, timeout=2 * THROTTLED_AUDIT_SECONDS):
        return False
    signals.login_throttled.send(sender=User, username=username, reason=reason)
    return True


@dataclass
class LoginAttempt:
    """A secret of ``username`` about to be checked from ``ip``; ``failures`` recent failures so far."""

    username: str
    ip: str | None
    failures: int
    request: HttpRequest
    counted: bool = False

    def failed(self) -> None:
        """The secret was wrong: counts towards the lockout, once per attempt."""
        if not self.counted:
            self.counted = True
            lockout.record_failure(username=self.username, ip=self.ip)

    def refused(self) -> None:
        """The password was right but this login is not allowed (e.g. a non-admin at the admin
        site): audited as a failed login (Django's ``user_login_failed``, as ``authenticate``
        sends for a wrong password) and counted."""
        user_login_failed.send(sender=__name__, credentials={"username": self.username}, request=self.request)
        self.failed()

    def succeeded(self) -> None:
        """The login is complete: the failure count starts again (if there was one)."""
        if self.failures:
            lockout.reset(username=self.username, ip=self.ip)
            self.failures = 0


def login_attempt(*, request: HttpRequest, username: str) -> LoginAttempt:
    """Starts checking a secret of ``username`` for ``request``'s client.

    Raises ``lockout.LockedOut`` (and sends ``login_throttled``, bounded) while
    that username is locked out for the client's network, before any secret is
    looked at: a locked-out client learns nothing and costs no hashing.
    """
    ip = client_ip(request)
    try:
        failures = lockout.check(username=username, ip=ip)
    except lockout.LockedOut:
        login_throttled(request=request, username=username, reason="lockout")
        raise
    return LoginAttempt(username=username, ip=ip, failures=failures, request=request)
