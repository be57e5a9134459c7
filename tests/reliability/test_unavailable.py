"""A shared cache (Redis) that is down: the API answers 503 with Retry-After, never 500.

Every API request reads throttle counters, and a login the lockout counters,
from the shared cache; `make reliability` kills Redis under load ("cache
(Redis) down"). Here nothing listens on the cache's port.
"""

import pytest

# Port 9 (discard): nothing listens there on loopback.
UNREACHABLE_REDIS = "redis://127.0.0.1:9/0"


@pytest.fixture(params=["devlab.cache.RedisCache", "django.core.cache.backends.redis.RedisCache"])
def redis_down(settings, request):
    """DevLab's Redis cache (what ``CACHE_URL=redis://`` selects), and Django's own."""
    settings.CACHES = {"default": {"BACKEND": request.param, "LOCATION": UNREACHABLE_REDIS}}


@pytest.mark.django_db
def test_api_request_while_the_cache_is_down_is_json_503_with_retry_after(user_client, redis_down):
    response = user_client.get("/api/notes/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


@pytest.mark.django_db
def test_login_while_the_cache_is_down_is_refused_with_503_not_let_through(api_client, user, password, redis_down):
    response = api_client.post("/api/auth/login/", {"username": user.username, "password": password}, format="json")
    assert response.status_code == 503
    assert "access" not in response.json()
