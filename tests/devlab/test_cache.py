"""devlab.cache.DatabaseCache: Django's database cache with a one-statement write."""

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.base import CacheKeyWarning
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from devlab import cache as devlab_cache

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _empty_cache():
    """The cache table is no model, so test flushes leave it as it was."""
    cache.clear()
    yield
    cache.clear()


def _rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM devlab_cache")
        return cursor.fetchone()[0]


def test_the_default_cache_is_the_devlab_database_cache():
    assert isinstance(caches["default"], devlab_cache.DatabaseCache)


def test_a_value_that_was_set_is_read_back():
    cache.set("greeting", {"hello": ["world", 1]}, timeout=60)
    assert cache.get("greeting") == {"hello": ["world", 1]}


def test_setting_a_key_again_replaces_its_value():
    cache.set("counter", 1, timeout=60)
    cache.set("counter", 2, timeout=60)
    assert cache.get("counter") == 2
    assert _rows() == 1


def test_a_value_without_a_timeout_does_not_expire():
    cache.set("forever", "yes", timeout=None)
    assert cache.get("forever") == "yes"


def test_an_expired_value_is_gone():
    cache.set("gone", "soon", timeout=-1)
    assert cache.get("gone") is None


def test_add_still_refuses_a_key_that_is_present():
    cache.set("slot", "first", timeout=60)
    assert cache.add("slot", "second", timeout=60) is False
    assert cache.get("slot") == "first"


def test_a_write_is_one_statement():
    cache.set("warm", 0, timeout=60)
    with CaptureQueriesContext(connection) as queries:
        cache.set("warm", 1, timeout=60)
    writes = [q["sql"] for q in queries.captured_queries if "devlab_cache" in q["sql"]]
    assert len(writes) == 1, writes  # tests/conftest.py keeps the occasional cull out
    assert writes[-1].startswith("INSERT INTO")
    assert "ON CONFLICT" in writes[-1]


def test_the_table_is_culled_when_it_outgrows_max_entries(monkeypatch):
    monkeypatch.setattr(devlab_cache, "CULL_EVERY", 5)
    # Patch the backend itself: through the ``cache`` proxy, undoing the patch
    # would delete the attribute from the shared backend instance.
    monkeypatch.setattr(caches["default"], "_max_entries", 10)
    for i in range(60):
        cache.set(f"key-{i}", i, timeout=60)
    # Culling removes a third of the entries (Django's CULL_FREQUENCY) once
    # the table is over the limit, checked on one write in CULL_EVERY.
    assert _rows() <= 2 * 10


@pytest.mark.postgres_only
def test_a_failed_write_inside_a_transaction_leaves_the_transaction_usable():
    with transaction.atomic():
        with pytest.warns(CacheKeyWarning):
            cache.set("k" * 300, "too long for the cache_key column", timeout=60)
        User.objects.create_user("after", "after@example.com", "x")
    assert User.objects.filter(username="after").exists()


def test_expired_counters_are_dropped_even_when_the_table_is_small(monkeypatch):
    monkeypatch.setattr(devlab_cache, "CULL_EVERY", 5)
    for i in range(10):
        devlab_cache.count_hit(caches["default"], f"window-{i}", timeout=-1)
    for i in range(5):
        devlab_cache.count_hit(caches["default"], f"live-{i}", timeout=60)
    assert _rows() < 15


def test_a_counter_counts_one_hit_per_call():
    assert [devlab_cache.count_hit(caches["default"], "hits", timeout=60) for _ in range(3)] == [1, 2, 3]
