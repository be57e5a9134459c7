"""Reads of users that the request path needs to be cheap."""

from django.contrib.auth import get_user_model
from django.db import router

from api.queries import CompiledQuery, compiled


def _by_id() -> CompiledQuery:
    """``User.objects.filter(pk=...)``, compiled once per database (it runs on every request)."""
    user_model = get_user_model()
    alias = router.db_for_read(user_model)
    return compiled(("user_by_id", alias), lambda: user_model.objects.using(alias).filter(pk=0))


def user_row_by_id(user_id: int) -> tuple | None:
    """The database row of the user with this primary key (for ``user_from_row``), or None."""
    rows = _by_id().rows([user_id])
    return rows[0] if rows else None


def user_from_row(row: tuple):
    """A user instance of a row from ``user_row_by_id``, as the ORM would build it."""
    query = _by_id()
    return get_user_model().from_db(query.alias, query.names, row)


def user_by_id(user_id: int) -> object | None:
    """The user with this primary key, or None: ``User.objects.filter(pk=...).first()`` in one
    query (the JWT authentication runs it on every request)."""
    row = user_row_by_id(user_id)
    return user_from_row(row) if row is not None else None
