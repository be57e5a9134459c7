"""Fixtures shared by the whole suite: users, clients and fast hashing."""

import contextlib
import importlib
import time
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import DatabaseError, connection
from django.db.models.signals import post_migrate
from rest_framework.test import APIClient

from api.throttling import FixedWindowThrottle
from tests.audit.triggers import allow_test_flushes
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory

E2E_DIR = Path(__file__).parent / "e2e"

# Tests render templates without running collectstatic first.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# transaction=True tests end with a flush of every table; the audit table's
# append-only triggers refuse it, so they are lifted around test flushes only.
allow_test_flushes()

_administrators_migration = importlib.import_module("accounts.migrations.0003_administrators_group")


def _administrators_group_again(sender, **kwargs):
    """That flush also empties the group a data migration made; Django sends post_migrate
    after it (permissions come back), and the group comes back here. Without it the tests
    that promote or log into the admin pass only when every transaction=True test runs
    after them, which pytest-xdist (``make test``) does not promise."""
    _administrators_migration.create_group(apps, schema_editor=None)


post_migrate.connect(_administrators_group_again, sender=apps.get_app_config("accounts"), weak=False)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings, request):
    """MD5 keeps the suite fast; tests of hashing itself mark ``real_hasher``."""
    if "real_hasher" not in request.keywords:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_cache_culls_in_query_counts(monkeypatch):
    """devlab.cache counts (and may cull) its table on one write in CULL_EVERY: a
    statement that would land in whichever test's query count happened to hit
    it. tests/devlab/test_cache.py sets CULL_EVERY itself."""
    monkeypatch.setattr("devlab.cache.CULL_EVERY", 10**9)


@pytest.fixture(autouse=True)
def throttle_clock(monkeypatch):
    """Throttles count in fixed windows (api/throttling.py): their clock stands at
    the start of an hour, so no test's requests straddle a window boundary."""
    start = time.time() // 3600 * 3600
    monkeypatch.setattr(FixedWindowThrottle, "timer", lambda self: start)
    return start


@pytest.fixture(autouse=True)
def _clear_cache(request, django_db_blocker):
    """Throttle and lockout counters must not leak from one test to the next.

    The database cache table is no model: ``transaction=True`` tests leave
    their rows behind, which a test rollback would not. So it is emptied
    after every test that used the test database, like any other backend (Redis).
    """
    yield
    if isinstance(caches["default"], DatabaseCache) and "django_db_setup" not in request.fixturenames:
        return
    # A test that took the database away on purpose (a patched cursor) wrote no counters.
    with django_db_blocker.unblock(), contextlib.suppress(DatabaseError):
        caches["default"].clear()


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def user(db):
    return UserFactory(username="alice")


@pytest.fixture
def other_user(db):
    return UserFactory(username="bob")


@pytest.fixture
def admin_user(db):
    return AdminFactory(username="root")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user_client(user):
    """An API client authenticated as ``user`` (forced, no token round trip)."""
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def admin_api_client(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL-only tests on SQLite; .ci/run fails if any were skipped on PostgreSQL."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="postgres_only: needs DATABASE_URL=postgres://...")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def pytest_ignore_collect(collection_path, config):
    """tests/e2e needs a live server and a browser: collected only when named on the
    command line (``make e2e``), never by a plain ``pytest`` (no skips either)."""
    if collection_path != E2E_DIR:
        return None
    named = (config.invocation_params.dir / arg.split("::")[0] for arg in config.args)
    return True if not any(path.resolve().is_relative_to(E2E_DIR) for path in named) else None
