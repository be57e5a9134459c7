"""Django's psycopg pool on PostgreSQL: a connection that breaks fails one request with a 503
and is replaced, with no health-check query on every request."""

import psycopg
import pytest
from django.db import close_old_connections, connection

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def get(client, path="/api/notes/"):
    """A request as the server handles it: Django's test client leaves out the end of request
    (``close_old_connections``), which is when a connection goes back to the pool."""
    response = client.get(path)
    close_old_connections()
    return response


def terminate_the_apps_connections() -> None:
    """What a PostgreSQL restart does to the pool's idle connections, from a connection of our own."""
    params = connection.get_connection_params()
    params.pop("pool", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_requests_take_their_connection_from_the_pool(user_client):
    assert connection.pool is not None
    assert get(user_client).status_code == 200
    assert connection.connection is None  # given back to the pool when the request ended


def test_a_broken_connection_is_one_503_then_replaced(user_client):
    assert get(user_client).status_code == 200
    terminate_the_apps_connections()
    broken = get(user_client)
    assert broken.status_code == 503
    assert broken["Retry-After"]
    assert get(user_client).status_code == 200


def test_no_health_check_query_runs_before_a_request(user_client, django_assert_num_queries):
    get(user_client)
    with django_assert_num_queries(2):  # the throttle counter (the database cache here) and the page: no SELECT 1
        assert get(user_client).status_code == 200
