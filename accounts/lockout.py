"""Failed-login counters per (username, client IP), kept in the shared cache.

A client IP is ``devlab.http.network_key``'s: an IPv6 client is counted by its
/64 network, every address of which it can use.

``LOGIN_FAILURE_LIMIT`` failures for one username from one client IP within
``LOGIN_LOCKOUT_MINUTES`` lock that pair out until the oldest of those failures
is ``LOGIN_LOCKOUT_MINUTES`` old; a successful login clears the count. The
cache is ``CACHE_URL`` (the database cache by default, Redis when configured),
so every worker and replica sees the same counts.

Each failure claims one of ``LOGIN_FAILURE_LIMIT`` slots with ``cache.add``,
which is atomic on every shared backend (a primary-key insert in the database
cache, ``SET NX`` in Redis), so parallel failures are all counted. One counter
with ``cache.incr`` would not do: the database cache implements ``incr`` as a
read followed by a write (parallel failures get lost) and resets the key's
timeout to the default.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

from accounts.models import username_key
from devlab.http import network_key


class LockedOut(Exception):
    """Too many recent failed logins for this username from this client IP."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _slot_keys(username: str, ip: str | None) -> list[str]:
    # Hashed: usernames may hold any Unicode letter, cache keys may not (memcached).
    pair = hashlib.sha256(f"{username_key(username)}\x00{network_key(ip)}".encode()).hexdigest()
    return [f"login-failure:{pair}:{slot}" for slot in range(settings.LOGIN_FAILURE_LIMIT)]


def check(*, username: str, ip: str | None) -> int:
    """The number of recent failed logins of ``username`` from ``ip``; raises ``LockedOut``
    when they reach ``LOGIN_FAILURE_LIMIT``. One cache read."""
    failures = cache.get_many(_slot_keys(username, ip))
    if len(failures) >= settings.LOGIN_FAILURE_LIMIT:
        raise LockedOut(max(1, math.ceil(min(failures.values()) - time.time())))
    return len(failures)


def record_failure(*, username: str, ip: str | None) -> None:
    """Counts one failed login for ``username`` from ``ip``."""
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    keys = _slot_keys(username, ip)
    taken = cache.get_many(keys)
    expires_at = time.time() + window
    for key in keys:
        if key not in taken and cache.add(key, expires_at, timeout=window):
            return


def reset(*, username: str, ip: str | None) -> None:
    """Forgets the failed logins of ``username`` from ``ip`` (after a success)."""
    cache.delete_many(_slot_keys(username, ip))
