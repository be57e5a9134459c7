"""The API's one paginator: keyset cursors, so no list ever runs COUNT(*) and ties never break a page.

DRF's CursorPagination positions a cursor by the first ordering field and
skips equal values with an offset, which walks back wrongly over rows that
share a value (a previous link can repeat one row and lose another). Here
the ordering is always ``(field, id)`` in one direction and a cursor holds
both values of the row it stops at: the next page is every row strictly
after it, which is unique, needs no offset, and is a range scan of a
matching ``(..., field, id)`` index: ``field <= v AND (field < v OR id < i)``
for a descending page.

A view configures its list by attributes, never by a subclass:

- ``ordering``: the view's ``(field, id)`` order, e.g. ``("-tree_size", "-id")``
  (default newest first, ``("-created_at", "-id")``). A view whose filter
  backend has ``get_ordering`` (an ``?ordering=`` choice, as DRF's
  OrderingFilter) is ordered by that instead, so the list and its cursors
  always agree.
- ``?page_size=`` 1..100 (larger values are capped); anything that is not a
  whole number of at least 1 is a 400, as the schema says: DRF's own handling
  falls back to the default page for ``page_size=0`` or ``page_size=abc``,
  which hides a client's mistake.

Pages may hold model instances or ``values()`` rows (the fast list paths).
"""

import re
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination

_DIGITS = re.compile(r"[0-9]+")
_BIGINT_DIGITS = 19


class KeysetPagination(CursorPagination):
    """Cursor pages positioned by ``(field, id)`` of the last row shown; see the module docstring."""

    ordering = ("-created_at", "-id")
    page_size = settings.API_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE
    page_size_query_description = _("Entries per page, 1 to 100 (default 20); larger values are capped at 100.")

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # ASCII digits only: int() would also take " 7", "1_0" and other scripts' digits.
        if not _DIGITS.fullmatch(raw) or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: [_("Enter a whole number from 1 to 100.")]})
        return min(int(raw), self.max_page_size)

    def get_ordering(self, request, queryset, view):
        """The view's ``(field, id)`` order: from its ordering filter, its ``ordering``, or the default."""
        if any(hasattr(backend, "get_ordering") for backend in getattr(view, "filter_backends", ())):
            return super().get_ordering(request, queryset, view)
        ordering = getattr(view, "ordering", None) or self.ordering
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def paginate_queryset(self, queryset, request, view=None):
        def fetch(ordering, after, limit):
            rows = queryset.order_by(*ordering)
            if after is not None:
                rows = rows.filter(*after_position(ordering, after))
            return list(rows[:limit])

        return self.paginate_rows(request, view, fetch, queryset.model)

    def paginate_rows(self, request, view, fetch, model):
        """One page from ``fetch(ordering, after, limit)``: up to ``limit`` rows of ``model`` in
        ``ordering``, strictly after the ``(value, id)`` position ``after`` (None: from the start).
        A list's fast path passes a precompiled query here (``notes.selectors.note_page``)."""
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.ordering = self.get_ordering(request, None, view)
        self.cursor = self.decode_cursor(request)
        reverse, position = (self.cursor.reverse, self.cursor.position) if self.cursor else (False, None)

        field = model._meta.get_field(self.ordering[0].lstrip("-"))
        ordering = self.ordering if not reverse else tuple(_flip(term) for term in self.ordering)
        after = self._parse_position(position, field) if position is not None else None
        rows = fetch(ordering, after, self.page_size + 1)
        more, self.page = len(rows) > self.page_size, rows[: self.page_size]
        if reverse:
            self.page.reverse()
        self.has_next, self.has_previous = (more, position is not None) if not reverse else (position is not None, more)
        self.next_position = self._get_position_from_instance(self.page[-1], self.ordering) if self.page else position
        self.previous_position = (
            self._get_position_from_instance(self.page[0], self.ordering) if self.page else position
        )
        return self.page

    def get_next_link(self):
        if not self.has_next:
            return None
        return self.encode_cursor(Cursor(offset=0, reverse=False, position=self.next_position))

    def get_previous_link(self):
        if not self.has_previous:
            return None
        return self.encode_cursor(Cursor(offset=0, reverse=True, position=self.previous_position))

    def _get_position_from_instance(self, instance, ordering):
        """The ``value_id`` position of a row: a model instance, or a ``values()`` row."""
        field = ordering[0].lstrip("-")
        if isinstance(instance, dict):
            value, pk = instance[field], instance["id"]
        else:
            value, pk = getattr(instance, field), instance.pk
        return f"{value.isoformat() if isinstance(value, datetime) else value}_{pk}"

    def _parse_position(self, position: str, field: models.Field):
        """``(value, id)`` of a position this API issued; anything else is a 404, as DRF answers."""
        raw, _sep, pk = position.rpartition("_")
        try:
            value = _parse_value(raw, field)
            if not _DIGITS.fullmatch(pk) or len(pk) > _BIGINT_DIGITS:
                raise ValueError(position)
        except ValueError:
            raise NotFound(self.invalid_cursor_message) from None
        return value, int(pk)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "default": self.page_size}
        return parameters


def _parse_value(raw: str, field: models.Field):
    """The ordering field's value written in a position: an aware time or a whole number."""
    if isinstance(field, models.DateTimeField):
        parsed = parse_datetime(raw)
        if parsed is None or parsed.tzinfo is None:
            raise ValueError(raw)
        return parsed
    if not _DIGITS.fullmatch(raw) or len(raw) > _BIGINT_DIGITS:
        raise ValueError(raw)
    return int(raw)


def after_position(ordering: tuple[str, str], after: tuple) -> tuple[Q, Q]:
    """The conditions "strictly after ``(value, id)``" in ``ordering``; for ``-created_at``:
    ``created_at <= v AND (created_at < v OR id < i)``, a range scan of the matching index."""
    field, descending = ordering[0].lstrip("-"), ordering[0].startswith("-")
    op = "lt" if descending else "gt"
    value, pk = after
    return Q(**{f"{field}__{op}e": value}), Q(**{f"{field}__{op}": value}) | Q(**{f"pk__{op}": pk})


def _flip(term: str) -> str:
    return term[1:] if term.startswith("-") else f"-{term}"
