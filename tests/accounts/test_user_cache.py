"""``accounts.user_cache``: with the Redis cache a worker keeps the users its tokens name,
and uses a kept row only while the user's stamp in Redis is the one it was read under.

Needs the Redis on 127.0.0.1:6379 that the machine runs (database 11, emptied by each test).
"""

import pytest
import redis
from django.db import transaction
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts import authentication, user_cache
from accounts.models import User
from accounts.services import user_deactivate, user_demote
from api.throttling import UserRateThrottle
from tests.factories import AdminFactory, UserFactory
from tests.redis_db import emptied

pytestmark = pytest.mark.django_db

LOCATION = "redis://127.0.0.1:6379/11"
NOTES = "/api/notes/"
ADMIN_ONLY = "/api/admin/users/"


@pytest.fixture(autouse=True)
def redis_cache(settings):
    """The production example's cache: Redis (devlab.cache.RedisCache)."""
    client = emptied(LOCATION)
    settings.CACHES = {"default": {"BACKEND": "devlab.cache.RedisCache", "LOCATION": LOCATION}}
    user_cache._kept.clear()
    authentication._validated_tokens.clear()
    yield client
    user_cache._kept.clear()
    client.flushdb()


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def test_a_user_read_once_is_not_read_again(django_assert_num_queries):
    client = bearer(UserFactory())
    with django_assert_num_queries(2):  # the user, the page
        assert client.get(NOTES).status_code == 200
    with django_assert_num_queries(1):  # the page
        assert client.get(NOTES).status_code == 200


def test_a_user_deactivated_since_is_refused_on_the_next_request():
    user = UserFactory()
    client = bearer(user)
    assert client.get(NOTES).status_code == 200
    user_deactivate(actor=None, user=user)
    response = client.get(NOTES)
    assert (response.status_code, response.json()["code"]) == (401, "user_inactive")


def test_an_admin_demoted_since_loses_the_admin_api_on_the_next_request():
    admin = AdminFactory()
    client = bearer(admin)
    assert client.get(ADMIN_ONLY).status_code == 200
    user_demote(actor=None, user=admin)
    assert client.get(ADMIN_ONLY).status_code == 403


def test_a_change_made_by_another_worker_or_replica_counts_on_the_next_request(django_assert_num_queries):
    user = UserFactory()
    client = bearer(user)
    assert client.get(NOTES).status_code == 200
    # What another process's save does here: the row changes, then the stamp in Redis.
    User.objects.filter(pk=user.pk).update(is_active=False)
    user_cache.shared_cache().new_stamp(user_cache.stamp_key(user.pk), user_cache.STAMP_TTL_SECONDS)
    with django_assert_num_queries(1):  # the row, read again; the request goes no further
        response = client.get(NOTES)
    assert (response.status_code, response.json()["code"]) == (401, "user_inactive")


def test_a_user_deleted_since_is_refused_on_the_next_request():
    user = UserFactory()
    client = bearer(user)
    assert client.get(NOTES).status_code == 200
    user.delete()
    response = client.get(NOTES)
    assert (response.status_code, response.json()["code"]) == (401, "user_not_found")


def test_a_stamp_redis_lost_means_the_row_is_read_again(redis_cache, django_assert_num_queries):
    client = bearer(UserFactory())
    assert client.get(NOTES).status_code == 200
    redis_cache.flushdb()  # a restart without persistence, or an eviction
    with django_assert_num_queries(2):
        assert client.get(NOTES).status_code == 200


def test_a_change_made_around_the_orm_counts_once_the_kept_row_is_too_old(monkeypatch):
    user = UserFactory()
    client = bearer(user)
    assert client.get(NOTES).status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)  # SQL: no signal, no new stamp
    assert client.get(NOTES).status_code == 200  # the kept row, for now
    later = user_cache.time.monotonic() + user_cache.MAX_AGE_SECONDS
    monkeypatch.setattr(user_cache.time, "monotonic", lambda: later)
    assert client.get(NOTES).status_code == 401


def test_a_change_is_stamped_again_after_its_commit(redis_cache, django_capture_on_commit_callbacks):
    user = UserFactory()
    key = user_cache.shared_cache().make_and_validate_key(user_cache.stamp_key(user.pk))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        user_deactivate(actor=None, user=user)
        before_commit = redis_cache.get(key)
    # A request between the two stamps may have read the row as it was before the commit.
    assert before_commit is not None
    assert redis_cache.get(key) not in (None, before_commit)


def test_a_change_redis_cannot_stamp_is_rolled_back(monkeypatch):
    user = UserFactory()

    def unreachable(*args, **kwargs):
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(user_cache.RedisCache, "new_stamp", unreachable)
    with pytest.raises(redis.ConnectionError):
        user_deactivate(actor=None, user=user)
    assert User.objects.get(pk=user.pk).is_active


def test_the_throttle_counts_a_request_once(monkeypatch):
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "2/min")
    client = bearer(UserFactory())
    assert [client.get(NOTES).status_code for _ in range(3)] == [200, 200, 429]


def test_a_kept_row_is_a_fresh_instance_for_each_request():
    user = UserFactory()
    client = bearer(user)
    first = client.get(NOTES).wsgi_request.user
    first.is_staff = True  # a view that changed request.user in place
    assert client.get(NOTES).wsgi_request.user is not first
    assert client.get(ADMIN_ONLY).status_code == 403
