"""Housekeeping of the tables that would otherwise only grow (``manage.py maintenance``).

Each task removes rows that nothing can use any more and returns how many it
removed (with ``dry_run``, how many it would remove). Live rows stay:

- refresh tokens: outstanding tokens past their expiry, and with them (the
  foreign key cascades) their blacklist entries. A revoked token that has not
  expired is kept, or reuse detection would forget it.
- sessions: Django's database sessions past their expiry date.
- cache: entries of the database cache past their expiry. Redis expires its
  own keys, so there is nothing to do there.
"""

from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken


@dataclass(frozen=True)
class Removed:
    """What one task removed (or would remove). ``count`` is None when the backend cannot say."""

    what: str
    count: int | None


def expired_tokens_flush(*, dry_run: bool = False) -> list[Removed]:
    """Deletes expired outstanding refresh tokens and their blacklist entries."""
    now = timezone.now()
    expired = OutstandingToken.objects.filter(expires_at__lte=now)
    blacklisted = BlacklistedToken.objects.filter(token__expires_at__lte=now).count()
    if dry_run:
        outstanding = expired.count()
    else:
        with transaction.atomic():
            _total, per_model = expired.delete()
        outstanding = per_model.get(OutstandingToken._meta.label, 0)
        blacklisted = per_model.get(BlacklistedToken._meta.label, 0)
    return [
        Removed("expired refresh tokens", outstanding),
        Removed("blacklist entries of expired refresh tokens", blacklisted),
    ]


def expired_sessions_clear(*, dry_run: bool = False) -> list[Removed]:
    """Deletes expired sessions (counted when sessions live in the database)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store, DatabaseSessionStore):
        if not dry_run:
            store.clear_expired()
        return [Removed("expired sessions", None)]
    expired = store.get_model_class().objects.filter(expire_date__lt=timezone.now())
    count = expired.count() if dry_run else expired.delete()[0]
    return [Removed("expired sessions", count)]


def expired_cache_cull(*, dry_run: bool = False) -> list[Removed]:
    """Deletes expired entries of every database cache (``CACHES``)."""
    removed = []
    for alias in settings.CACHES:
        cache = caches[alias]
        if not isinstance(cache, DatabaseCache):
            continue
        connection = connections[router.db_for_write(cache.cache_model_class)]
        table = connection.ops.quote_name(cache._table)
        expires = connection.ops.quote_name("expires")
        now = connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))
        verb = "SELECT COUNT(*) FROM" if dry_run else "DELETE FROM"
        with connection.cursor() as cursor:
            # Quoted identifiers only; the time is a parameter.
            cursor.execute(f"{verb} {table} WHERE {expires} < %s", [now])
            count = cursor.fetchone()[0] if dry_run else cursor.rowcount
        removed.append(Removed(f"expired cache entries ({alias})", count))
    return removed


TASKS = (expired_tokens_flush, expired_sessions_clear, expired_cache_cull)


def run(*, dry_run: bool = False) -> list[Removed]:
    """Every task in turn; what each removed."""
    return [removed for task in TASKS for removed in task(dry_run=dry_run)]
