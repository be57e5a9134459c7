"""``devlab.cache.RedisCache``: Django's Redis cache with one client per pool and a one-round-trip counter.

Needs the Redis on 127.0.0.1:6379 that the machine runs (database 14, emptied by each test).
"""

import pytest
import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from devlab.cache import RedisCache, count_hit
from tests.redis_db import emptied

LOCATION = "redis://127.0.0.1:6379/14"


@pytest.fixture
def cache():
    client = emptied(LOCATION)
    yield RedisCache(LOCATION, {})
    client.flushdb()


def test_it_is_djangos_redis_cache(cache):
    cache.set("greeting", {"hello": "world"}, timeout=60)
    assert isinstance(cache, DjangoRedisCache)
    assert cache.get("greeting") == {"hello": "world"}


def test_every_call_uses_the_same_client(cache):
    assert cache._cache.get_client("a", write=True) is cache._cache.get_client("b")


def test_a_counter_starts_at_one_and_counts_up(cache):
    assert [cache.hit("login:1.2.3.4", timeout=60) for _ in range(3)] == [1, 2, 3]


def test_a_counter_expires_after_its_timeout_from_the_first_hit(cache):
    cache.hit("window", timeout=30)
    ttl = redis.Redis.from_url(LOCATION).pttl(cache.make_and_validate_key("window"))
    assert 29_000 < ttl <= 30_000
    cache.hit("window", timeout=5)  # later hits leave the expiry alone
    assert redis.Redis.from_url(LOCATION).pttl(cache.make_and_validate_key("window")) > 5_000


def test_the_throttles_count_with_it(cache):
    assert count_hit(cache, "throttle_user_1", timeout=60) == 1
    assert count_hit(cache, "throttle_user_1", timeout=60) == 2


def test_counters_and_a_stamp_come_back_from_one_call(cache):
    counts, stamp = cache.hits([("a", 60), ("b", 60), ("a", 60)], "stamp", stamp_ttl=60)
    assert counts == [1, 1, 2]
    assert len(stamp) == 32  # a fresh random value, as text


def test_a_missing_stamp_is_created_and_then_kept(cache):
    _, first = cache.hits([], "stamp", stamp_ttl=60)
    _, again = cache.hits([], "stamp", stamp_ttl=60)
    assert first == again
    assert 59 <= redis.Redis.from_url(LOCATION).ttl(cache.make_and_validate_key("stamp")) <= 60


def test_a_new_stamp_replaces_the_old_one(cache):
    _, old = cache.hits([], "stamp", stamp_ttl=60)
    cache.new_stamp("stamp", ttl=60)
    assert cache.hits([], "stamp", stamp_ttl=60)[1] != old
