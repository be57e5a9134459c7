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

``clear_user`` (``manage.py unlock_user``) forgets a username's failures from
every IP at once. The slots are keyed by (username, IP) pairs, so instead of
finding them it moves the username to a new *generation*: a random token
stored under a per-username key and mixed into every slot key. Slots of the
old generation are never read again and expire on their own. A username that
was never unlocked has no generation key, and its slots keep the plain key, so
the common case still costs one cache read (the generation key is fetched in
the same ``get_many``).
"""

import hashlib
import math
import secrets
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


class ClearFailed(Exception):
    """The shared cache did not keep the new generation: the lockout is not cleared."""


def _generation_key(username: str) -> str:
    # Hashed: usernames may hold any Unicode letter, cache keys may not (memcached).
    return "login-generation:" + hashlib.sha256(username_key(username).encode()).hexdigest()


def _slot_keys(username: str, ip: str | None, generation: str = "") -> list[str]:
    pair = hashlib.sha256(f"{username_key(username)}\x00{network_key(ip)}".encode()).hexdigest()
    prefix = f"login-failure:{pair}:{generation}:" if generation else f"login-failure:{pair}:"
    return [f"{prefix}{slot}" for slot in range(settings.LOGIN_FAILURE_LIMIT)]


def _current_slots(username: str, ip: str | None) -> tuple[list[str], dict]:
    """The slot keys of the username's current generation, and those of them taken.

    One cache read, or two for a username that has been unlocked."""
    generation_key = _generation_key(username)
    keys = _slot_keys(username, ip)
    found = cache.get_many([generation_key, *keys])
    generation = found.pop(generation_key, "")
    if generation:
        keys = _slot_keys(username, ip, generation)
        found = cache.get_many(keys)
    return keys, found


def check(*, username: str, ip: str | None) -> int:
    """The number of recent failed logins of ``username`` from ``ip``; raises ``LockedOut``
    when they reach ``LOGIN_FAILURE_LIMIT``. One cache read (two after an unlock)."""
    _keys, failures = _current_slots(username, ip)
    if len(failures) >= settings.LOGIN_FAILURE_LIMIT:
        raise LockedOut(max(1, math.ceil(min(failures.values()) - time.time())))
    return len(failures)


def record_failure(*, username: str, ip: str | None) -> None:
    """Counts one failed login for ``username`` from ``ip``."""
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    keys, taken = _current_slots(username, ip)
    expires_at = time.time() + window
    for key in keys:
        if key not in taken and cache.add(key, expires_at, timeout=window):
            return


def reset(*, username: str, ip: str | None) -> None:
    """Forgets the failed logins of ``username`` from ``ip`` (after a success)."""
    cache.delete_many(_current_slots(username, ip)[0])


def clear_user(*, username: str) -> None:
    """Forgets the failed logins of ``username`` from every IP (``manage.py unlock_user``).

    A new random generation replaces the old one for good (no timeout): were
    it to expire or go back to an earlier value, slots of that generation that
    are still live would count again. Raises ``ClearFailed`` when the cache did
    not keep it."""
    key, generation = _generation_key(username), secrets.token_hex(8)
    cache.set(key, generation, timeout=None)
    # The database cache swallows a failed write (as Django's does): read it back,
    # so that an unlock is never reported, or audited, when it did not happen.
    if cache.get(key) != generation:
        raise ClearFailed(username)
