"""DevLab's PostgreSQL backend: time columns parsed by psycopg's C loader, the same values as Django's."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.pq import Format

from devlab.postgresql.base import UtcTimestamptzLoader

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

TIMES = [
    datetime(2026, 12, 3, 1, 58, 8, 277087, tzinfo=UTC),
    datetime(2026, 12, 3, 1, 58, 8, tzinfo=UTC),  # no fraction
    datetime(2026, 12, 3, 1, 58, 8, 270000, tzinfo=UTC),  # PostgreSQL writes .27
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


def select_times(django_loader: bool = False) -> list[datetime]:
    with connection.cursor() as cursor:
        if django_loader:
            register_tzloader(UTC, cursor.cursor)
        cursor.execute("SELECT unnest(%s::timestamptz[])", [TIMES])
        return [value for (value,) in cursor.fetchall()]


def test_the_connection_reads_timestamptz_with_devlabs_loader():
    connection.ensure_connection()
    oid = connection.connection.adapters.types["timestamptz"].oid
    assert connection.connection.adapters.get_loader(oid, Format.TEXT) is UtcTimestamptzLoader


def test_times_are_read_as_djangos_loader_reads_them():
    ours, djangos = select_times(), select_times(django_loader=True)
    assert ours == djangos == TIMES
    assert all(value.tzinfo is UTC for value in ours)


def test_a_session_in_another_time_zone_still_gives_the_same_instants_in_utc():
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'America/St_Johns'")  # -03:30: no whole-hour accident
        try:
            cursor.execute("SELECT %s::timestamptz", [TIMES[0]])
            (value,) = cursor.fetchone()
        finally:
            cursor.execute("SET TIME ZONE 'UTC'")
    assert value == TIMES[0]
    assert value.tzinfo is UTC
    assert value.utcoffset() == timedelta(0)
