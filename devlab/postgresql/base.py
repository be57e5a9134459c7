"""Django's PostgreSQL backend with ``timestamptz`` values parsed in C.

Django registers its own loader for ``timestamptz`` (``psycopg_any.BaseTzLoader``,
to give every value the connection's time zone), and it subclasses psycopg's
pure-Python loader: psycopg's C loader cannot be subclassed. So every time
column of every query was parsed in Python, about 5 µs a value: a page of 20
notes carries 40, a tenth of a list request's CPU (bench/README.md).

DevLab's database time zone is UTC (``TIME_ZONE``), and for a session in UTC
the C loader gives the very values Django's does (``tzinfo`` is
``datetime.timezone.utc``). ``UtcTimestamptzLoader`` keeps Django's loader
interface (its ``timezone`` attribute, which ``create_cursor`` compares) and
hands the parsing to the C loader; any other time zone keeps Django's loader.
"""

import functools
from datetime import UTC

from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg import adapt, adapters
from psycopg.pq import Format

TIMESTAMPTZ = "timestamptz"
C_LOADER = adapters.get_loader(adapters.types[TIMESTAMPTZ].oid, Format.TEXT)


class UtcTimestamptzLoader(BaseTzLoader):
    """Django's UTC loader, parsing with psycopg's C loader (the pure-Python one without psycopg's C build)."""

    timezone = UTC

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._parse = C_LOADER(oid, context).load

    def load(self, data):
        value = self._parse(data)
        return value if value.tzinfo is UTC else value.astimezone(UTC)  # a session not (yet) in UTC


@functools.cache
def with_c_timestamps(template: adapt.AdaptersMap) -> adapt.AdaptersMap:
    """Django's adapters for a UTC database, with ``UtcTimestamptzLoader``."""
    context = adapt.AdaptersMap(template)
    context.register_loader(TIMESTAMPTZ, UtcTimestamptzLoader)
    return context


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        if self.timezone is UTC:
            params["context"] = with_c_timestamps(params["context"])  # Django's template is cached too
        return params
