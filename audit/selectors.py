"""Reading the audit table in full without holding it in memory."""

from collections.abc import Iterator
from contextlib import nullcontext

from django.db import connection, transaction
from django.db.models import QuerySet


def stream(queryset: QuerySet, *, chunk_size: int) -> Iterator:
    """Yields the queryset's rows through a server-side cursor, ``chunk_size`` at a time.

    On PostgreSQL the read runs in a transaction: outside one, Django declares
    the cursor ``WITH HOLD`` and the server materialises the whole result
    before the first row arrives. (SQLite needs no transaction, and taking one
    there would hold its writer lock for the whole read.)
    """
    reading = transaction.atomic() if connection.vendor == "postgresql" else nullcontext()
    with reading:
        yield from queryset.iterator(chunk_size=chunk_size)
