"""The machine's Redis (127.0.0.1:6379) for tests of the Redis cache: one database per test module."""

import pytest
import redis


def emptied(location: str) -> redis.Redis:
    """A client of the Redis database at ``location``, emptied; the test fails if Redis is not there."""
    client = redis.Redis.from_url(location)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"no Redis at {location}: start it (the CI machine runs one)")
    client.flushdb()
    return client
