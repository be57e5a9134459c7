"""Reads of notes for the API's hot path."""

from datetime import UTC, datetime

from django.db import connections, router

from api.pagination import after_position
from api.queries import compiled
from notes.models import Note

_ANY_TIME = datetime(2000, 1, 1, tzinfo=UTC)  # stands for the position while the shape is compiled


def note_page(
    *,
    owner_id: int,
    fields: tuple[str, ...],
    ordering: tuple[str, str],
    after: tuple | None,
    search: str | None,
    limit: int,
) -> list[dict]:
    """Up to ``limit`` of the owner's notes as ``values(*fields)`` dicts, in ``ordering``, strictly after
    the ``(time, id)`` position ``after`` (None: from the start), containing ``search`` (ignoring case)
    when it is not None.

    The same query as the ORM's ``filter(...).order_by(...).values(...)[:limit]``, compiled once per
    shape (``api.queries``): a list request then costs one statement and almost no ORM work.
    """
    alias = router.db_for_read(Note)

    def build():
        notes = Note.objects.using(alias).filter(owner_id=0)
        if search is not None:
            notes = notes.filter(text__icontains="needle")
        if after is not None:
            notes = notes.filter(*after_position(ordering, (_ANY_TIME, 0)))
        return notes.order_by(*ordering).values(*fields)[:limit]

    query = compiled(("note_page", alias, fields, ordering, search is not None, after is not None, limit), build)
    operations = connections[alias].ops
    params = [owner_id]
    if search is not None:
        params.append(f"%{operations.prep_for_like_query(search)}%")
    if after is not None:
        time = operations.adapt_datetimefield_value(after[0])
        params += [time, time, after[1]]
    return [dict(zip(query.names, row, strict=True)) for row in query.rows(params)]
