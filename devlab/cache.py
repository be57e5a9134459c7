"""The database cache, with one statement per write.

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
"""

import base64
import itertools
import pickle
from contextlib import nullcontext
from datetime import UTC, datetime

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import DatabaseError, connections, router, transaction
from django.utils.timezone import now as tz_now

CULL_EVERY = 50
UPSERT_VENDORS = frozenset({"postgresql", "sqlite"})


class DatabaseCache(DjangoDatabaseCache):
    """Django's database cache; ``set`` is a single upsert on PostgreSQL and SQLite."""

    _writes = itertools.count(1)

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
            if next(self._writes) % CULL_EVERY == 0:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - the table name is quoted
                count = cursor.fetchone()[0]
                if count > self._max_entries:
                    self._cull(db, cursor, tz_now().replace(microsecond=0), count)
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
