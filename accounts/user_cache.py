"""A worker's copy of the users its bearer tokens name, good while their stamp is unchanged.

The JWT authentication reads the user on every request, so that a demoted,
deactivated or deleted user, or a changed password, counts on the very next
request. With the Redis cache (the production example) that read is a round
trip to PostgreSQL a worker can mostly skip:

- every user has a *stamp* in Redis, a random value that each save or delete
  of the user replaces (``user_changed``: before the change commits, so that a
  Redis that cannot be told fails the change, and again after, for a reader
  that fetched the row in between);
- a request reads its user's stamp in the round trip its throttles make
  anyway (``RedisCache.hits``), before any read of the row;
- the worker keeps each row it reads with the stamp read before it, and uses it
  again only under the same stamp and for ``MAX_AGE_SECONDS`` at most.

A stamp that Redis lost (restart, eviction) is created anew and matches no
kept row. A change made around the ORM (SQL typed by an operator) sends no
new stamp and reaches the workers' copies within ``MAX_AGE_SECONDS``. With
any other cache every request reads the row (``user_by_id``).
"""

import logging
import time
from functools import partial

from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from accounts.selectors import user_from_row, user_row_by_id
from api.throttling import counters_ahead
from devlab.cache import RedisCache

logger = logging.getLogger(__name__)

#: The longest a worker uses a row without reading it again, whatever the stamp says.
MAX_AGE_SECONDS = 60
#: Rows kept per worker; past that the worker starts over.
MAX_ENTRIES = 4096
#: A stamp outlives every kept row by far; one that expired is simply created anew.
STAMP_TTL_SECONDS = 24 * 3600

# user id -> (stamp, monotonic time of the read, row)
_kept: dict[int, tuple[str, float, tuple]] = {}


def shared_cache() -> RedisCache | None:
    """The Redis cache the stamps live in, or None when the default cache is another kind."""
    cache = caches["default"]
    return cache if isinstance(cache, RedisCache) else None


def stamp_key(user_id: int) -> str:
    return f"user-stamp:{user_id}"


def current_user(cache: RedisCache, request, user_id: int):
    """The user ``user_id`` as the database has it now (None if there is none), for a request
    the JWT authentication is authenticating; also hits the view's throttle counters.

    The throttles key their counters by ``request.user``, which DRF sets only
    once authentication returns; until then it is an unsaved user of this id.
    """
    view = (request.parser_context or {}).get("view")
    request.user = get_user_model()(pk=user_id)
    counters = counters_ahead(request, view)
    counts, stamp = cache.hits(counters, stamp_key(user_id), STAMP_TTL_SECONDS)
    request.counted_hits = {key: count for (key, _), count in zip(counters, counts, strict=True)}
    kept = _kept.get(user_id)
    if kept is not None and kept[0] == stamp and time.monotonic() - kept[1] < MAX_AGE_SECONDS:
        return user_from_row(kept[2])
    row = user_row_by_id(user_id)
    if row is None:
        _kept.pop(user_id, None)
        return None
    if len(_kept) >= MAX_ENTRIES:
        _kept.clear()
    _kept[user_id] = (stamp, time.monotonic(), row)
    return user_from_row(row)


def user_changed(user_id: int) -> None:
    """Gives the user a new stamp now and again once the current transaction commits."""
    cache = shared_cache()
    if cache is None:
        return
    cache.new_stamp(stamp_key(user_id), STAMP_TTL_SECONDS)
    transaction.on_commit(partial(_stamp_again, cache, user_id))


def _stamp_again(cache: RedisCache, user_id: int) -> None:
    try:
        cache.new_stamp(stamp_key(user_id), STAMP_TTL_SECONDS)
    except Exception:
        logger.exception(
            "user %s changed, but Redis did not take the new stamp after the commit: a worker that read "
            "the row before the commit may use it for up to %s s",
            user_id,
            MAX_AGE_SECONDS,
        )


def _on_user_saved_or_deleted(sender, instance, **kwargs) -> None:
    user_changed(instance.pk)


def connect_receivers() -> None:
    """Every save or delete of a user gives it a new stamp (``AccountsConfig.ready``)."""
    user_model = get_user_model()
    post_save.connect(_on_user_saved_or_deleted, sender=user_model, dispatch_uid="user_cache_saved")
    post_delete.connect(_on_user_saved_or_deleted, sender=user_model, dispatch_uid="user_cache_deleted")
