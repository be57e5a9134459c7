"""Admin and browsable-API sessions are stored under a hash of their key, never the key."""

import importlib
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from accounts.sessions import SessionStore, stored_key
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def admin_login(client: Client) -> str:
    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:1000]
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_the_session_engine_is_the_hashed_one():
    assert settings.SESSION_ENGINE == "accounts.sessions"


def test_a_logged_in_admin_session_is_stored_by_hash_only(client, superuser):
    key = admin_login(client)
    assert not Session.objects.filter(session_key=key).exists()
    row = Session.objects.get()
    assert row.session_key == stored_key(key)
    assert len(row.session_key) == 40
    assert client.get("/admin/").status_code == 200


def test_a_stolen_table_row_is_no_cookie(client, superuser):
    admin_login(client)
    stored = Session.objects.get().session_key
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stored
    response = thief.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_logout_deletes_the_stored_session(client, superuser):
    admin_login(client)
    assert client.post("/admin/logout/").status_code == 200
    assert Session.objects.count() == 0


def test_login_cycles_the_key_and_the_old_row_goes(client, superuser):
    client.get("/admin/login/")  # no session yet (nothing to store)
    store = SessionStore()
    store["probe"] = 1
    store.create()
    anonymous_key = store.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = anonymous_key
    key = admin_login(client)
    assert key != anonymous_key
    assert list(Session.objects.values_list("session_key", flat=True)) == [stored_key(key)]


def test_the_store_loads_saves_and_knows_sessions_by_their_key():
    store = SessionStore()
    store["answer"] = 42
    store.save()
    key = store.session_key
    assert SessionStore().exists(key)
    assert not SessionStore().exists(stored_key(key))  # the digest is not a key
    assert SessionStore(key).load() == {"answer": 42}
    assert SessionStore(stored_key(key)).load() == {}
    SessionStore(key).delete()
    assert not Session.objects.exists()


def test_the_async_api_hashes_keys_too():
    async_to_sync(_async_round_trip)()


async def _async_round_trip():
    store = SessionStore()
    await store.aset("answer", 42)
    await store.asave()
    key = store.session_key
    assert await SessionStore().aexists(key)
    assert await Session.objects.filter(session_key=stored_key(key)).aexists()
    assert await SessionStore(key).aload() == {"answer": 42}
    await SessionStore(key).adelete()
    assert not await Session.objects.aexists()


def test_the_migration_ends_sessions_stored_with_raw_keys():
    Session.objects.create(session_key="r" * 32, session_data="x", expire_date="2099-01-01T00:00:00Z")
    migration = importlib.import_module("accounts.migrations.0006_end_stored_sessions")
    migration.end_sessions(apps, SimpleNamespace(connection=connection))
    assert not Session.objects.exists()
