"""Querysets compiled once per shape and executed many times.

Building a queryset (``filter``, ``order_by``, clones) and compiling it to SQL
costs the ORM about as much CPU as the round trip to PostgreSQL, and the hot
read paths (the JWT user, a page of notes) run the same few shapes on every
request with other values. A ``CompiledQuery`` keeps the SQL Django wrote for
one shape, with the column converters the ORM would apply (SQLite's times
arrive as text), and runs it with new parameters. The SQL is Django's own, so
it stays right on every database backend.

Parameters are passed in the order Django emits them: the order in which the
shape's conditions were added (``CompiledQuery.params`` shows the template).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from django.db import connections
from django.db.models import QuerySet


class CompiledQuery:
    """One queryset's SQL, column names and converters, to run with other parameter values."""

    def __init__(self, queryset: QuerySet):
        self.alias = queryset.db
        self._compiler = queryset.query.get_compiler(self.alias)
        self.sql, self.params = self._compiler.as_sql()
        columns = [column for column, _, _ in self._compiler.select]
        self.names = [column.target.attname for column in columns]
        self._converters = self._compiler.get_converters(columns)

    def rows(self, params: list) -> list[tuple]:
        """All rows for these parameters, converted as the ORM would."""
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self._converters:
            rows = [tuple(row) for row in self._compiler.apply_converters(rows, self._converters)]
        return rows


_compiled: dict[Hashable, CompiledQuery] = {}
_lock = threading.Lock()


def compiled(key: Hashable, build: Callable[[], QuerySet]) -> CompiledQuery:
    """The ``CompiledQuery`` of the queryset ``build()`` makes, compiled on first use of ``key``.

    ``key`` must name everything that changes the SQL (database alias,
    ordering, which conditions are present, the LIMIT), never the values.
    """
    if (query := _compiled.get(key)) is None:
        with _lock:
            if (query := _compiled.get(key)) is None:
                query = _compiled[key] = CompiledQuery(build())
    return query
