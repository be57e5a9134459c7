"""Reads of users that the request path needs to be cheap."""

from django.contrib.auth import get_user_model
from django.db import router

from api.queries import compiled


def user_by_id(user_id) -> object | None:
    """The user with this primary key, or None: ``User.objects.filter(pk=...).first()`` in one
    query, compiled once (the JWT authentication runs it on every request)."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    user_model = get_user_model()
    alias = router.db_for_read(user_model)
    query = compiled(("user_by_id", alias), lambda: user_model.objects.using(alias).filter(pk=0))
    rows = query.rows([user_id])
    return user_model.from_db(alias, query.names, rows[0]) if rows else None
