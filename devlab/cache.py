"""The cache backends DevLab selects in place of Django's own: cheaper per request.

**The database cache, with one statement per write.**

DRF's throttles read and write their history in the cache on every request.
Django's ``DatabaseCache.set()`` counts the whole table (``SELECT COUNT(*)``,
to decide whether to cull), then runs a ``SELECT`` and an ``UPDATE`` or
``INSERT`` in a transaction: five round trips to the database for every
throttled request, more than the request's own work. On PostgreSQL and
SQLite this backend writes with one ``INSERT ... ON CONFLICT DO UPDATE`` and
counts the table (culling like Django does) on one write in ``CULL_EVERY``
only, so the table may briefly hold about ``CULL_EVERY`` entries over
``MAX_ENTRIES``.
``add`` and ``touch`` (the lockout's atomic slot claims), reads, and other
databases keep Django's own code.

**The Redis cache, with one client per connection pool.** Django's
``RedisCacheClient`` builds a new ``redis.Redis`` for every call (its
constructor copies the table of about 170 response callbacks: a third of a
millisecond each time, twice per throttled request). This one keeps a client
per pool; ``redis.Redis`` is thread-safe.

``count_hit`` is the throttles' counter: one round trip per request on both
backends (an upsert that adds one and returns the count; a Lua ``INCR`` that
sets the expiry on the first hit), ``add`` and ``incr`` on any other.
"""

import base64
import itertools
import pickle
import secrets
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import UTC, datetime

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from django.db import DatabaseError, connections, router, transaction
from django.utils.timezone import now as tz_now

CULL_EVERY = 50
UPSERT_VENDORS = frozenset({"postgresql", "sqlite"})


class DatabaseCache(DjangoDatabaseCache):
    """Django's database cache; ``set`` is a single upsert on PostgreSQL and SQLite."""

    _writes = itertools.count(1)

    def hit(self, key: str, timeout: float) -> int | None:
        """Adds one to the integer counter at ``key`` (created at 1, expiring in ``timeout``
        seconds) and returns it, in one statement; None where this backend cannot.

        The counter is stored as decimal text, not pickled: read it with ``hit`` only.
        """
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        if connection.vendor not in UPSERT_VENDORS:
            return None
        key = self.make_and_validate_key(key)
        expires = datetime.fromtimestamp(self.get_backend_timeout(timeout), tz=UTC)
        expires = connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0))
        table = connection.ops.quote_name(self._table)
        with connection.cursor() as cursor:
            self._cull_now_and_then(db, cursor, table)
            # No savepoint, unlike set(): a counter that cannot be written fails the request.
            cursor.execute(
                f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, '1', %s) "  # noqa: S608
                f"ON CONFLICT (cache_key) DO UPDATE SET value = CAST(CAST({table}.value AS integer) + 1 AS text) "
                "RETURNING value",
                [key, expires],
            )
            return int(cursor.fetchone()[0])

    def _cull_now_and_then(self, db, cursor, table) -> None:
        """On one write in ``CULL_EVERY``: drop expired entries (throttle counters leave
        one per client and window behind), then the oldest if still over ``MAX_ENTRIES``."""
        if next(self._writes) % CULL_EVERY == 0:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - the table name is quoted
            self._cull(db, cursor, tz_now().replace(microsecond=0), cursor.fetchone()[0])

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        if connection.vendor not in UPSERT_VENDORS:
            return super().set(key, value, timeout, version)
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        expires = datetime.max if timeout is None else datetime.fromtimestamp(timeout, tz=UTC)
        expires = connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0))
        encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        table = connection.ops.quote_name(self._table)
        with connection.cursor() as cursor:
            self._cull_now_and_then(db, cursor, table)
            # In autocommit one statement is its own transaction; inside an atomic
            # block (ATOMIC_REQUESTS) a savepoint keeps a failed write from
            # breaking the request's transaction, as Django's backend does.
            contained = transaction.atomic(using=db) if connection.in_atomic_block else nullcontext()
            try:
                with contained:
                    cursor.execute(
                        f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "  # noqa: S608
                        "ON CONFLICT (cache_key) DO UPDATE SET value = EXCLUDED.value, expires = EXCLUDED.expires",
                        [key, encoded, expires],
                    )
            except DatabaseError:
                # Like Django's backend: a cache write that fails is not the request's failure.
                return


class RedisCacheClient(DjangoRedisCacheClient):
    """Django's client with one ``redis.Redis`` per connection pool instead of one per call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        if (client := self._clients.get(id(pool))) is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


#: Adds one to each counter ``KEYS[1..n]`` (``n`` = ``ARGV[1]``), giving it its expiry
#: (``ARGV[1 + i]`` ms) on its first hit, then reads the stamp ``KEYS[n + 1]`` if given,
#: creating a missing one as ``ARGV[n + 2]`` (expiring in ``ARGV[n + 3]`` s); atomically.
_HITS_SCRIPT = """
local n = tonumber(ARGV[1])
local out = {}
for i = 1, n do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[i + 1]) end
  out[i] = count
end
if #KEYS > n then
  local stamp = redis.call('GET', KEYS[n + 1])
  if not stamp then
    stamp = ARGV[n + 2]
    redis.call('SET', KEYS[n + 1], stamp, 'EX', ARGV[n + 3])
  end
  out[n + 1] = stamp
end
return out
"""


class RedisCache(DjangoRedisCache):
    """Django's Redis cache with a reused client, and counters and stamps in one round trip.

    A *stamp* is a random value that stands for a version of something kept
    elsewhere (``accounts.user_cache``: a user's row): ``new_stamp`` replaces it
    when the thing changes, and a reader that finds none creates one, so a
    stamp lost with a restart or an eviction never matches an older one.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._hits_scripts = {}

    def hit(self, key: str, timeout: float) -> int:
        """Adds one to the integer counter at ``key`` (created at 1, expiring in ``timeout``
        seconds) and returns it, in one round trip (EVALSHA)."""
        [count], _ = self.hits([(key, timeout)])
        return count

    def hits(
        self, counters: Sequence[tuple[str, float]], stamp_key: str | None = None, stamp_ttl: int = 0
    ) -> tuple[list[int], str | None]:
        """``hit`` on each ``(key, timeout)`` of ``counters``, and the stamp at ``stamp_key``
        (created if missing, expiring in ``stamp_ttl`` seconds): one round trip in all."""
        keys = [self.make_and_validate_key(key) for key, _ in counters]
        args = [len(counters), *(max(int(timeout * 1000), 1) for _, timeout in counters)]
        if stamp_key is not None:
            keys.append(self.make_and_validate_key(stamp_key))
            args += [_fresh_stamp(), stamp_ttl]
        client = self._cache.get_client(keys[0], write=True)
        if (script := self._hits_scripts.get(id(client))) is None:
            script = self._hits_scripts[id(client)] = client.register_script(_HITS_SCRIPT)
        out = script(keys=keys, args=args)
        counts = [int(count) for count in out[: len(counters)]]
        return counts, (out[-1].decode() if stamp_key is not None else None)

    def new_stamp(self, key: str, ttl: int) -> None:
        """Replaces the stamp at ``key`` with a new random value (expiring in ``ttl`` seconds)."""
        key = self.make_and_validate_key(key)
        self._cache.get_client(key, write=True).set(key, _fresh_stamp(), ex=ttl)


def _fresh_stamp() -> str:
    """A stamp value no earlier one equals."""
    return secrets.token_hex(16)


def count_hit(cache, key: str, timeout: float) -> int:
    """One more hit on the counter at ``key`` in ``cache``; the count so far.

    The counter starts at 1 and expires ``timeout`` seconds after its first hit.
    """
    if isinstance(cache, DatabaseCache | RedisCache) and (count := cache.hit(key, timeout)) is not None:
        return count
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        return 1
