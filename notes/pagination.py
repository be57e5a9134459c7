"""Keyset cursors for the notes list: a position is a time and an id, so ties cannot break a page."""

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor

from devlab.pagination import CreatedAtCursorPagination


class NoteCursorPagination(CreatedAtCursorPagination):
    """The project's cursor pagination, with ``(time, id)`` positions instead of time and offset.

    DRF's CursorPagination positions a cursor by the first ordering field and
    skips equal values with an offset, which walks back wrongly over notes that
    share a time (a previous link can repeat one note and lose another). Here
    the ordering is always ``(created_at or updated_at, id)`` in one direction
    (``NoteOrderingFilter``) and a cursor holds both values of the row it
    stops at: the next page is every row strictly after it, which is unique,
    needs no offset, and is a range scan of the matching ``(owner, time, id)``
    index: ``time <= t AND (time < t OR id < i)`` for a descending page.
    """

    def paginate_queryset(self, queryset, request, view=None):
        def fetch(ordering, after, limit):
            rows = queryset.order_by(*ordering)
            if after is not None:
                rows = rows.filter(*after_position(ordering, after))
            return list(rows[:limit])

        return self.paginate_rows(request, view, fetch)

    def paginate_rows(self, request, view, fetch):
        """One page from ``fetch(ordering, after, limit)``: up to ``limit`` rows (``values()``
        dicts) in ``ordering``, strictly after the ``(time, id)`` position ``after`` (None: from
        the start). The list's fast path passes a precompiled query (``notes.selectors``)."""
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.ordering = self.get_ordering(request, None, view)
        self.cursor = self.decode_cursor(request)
        reverse, position = (self.cursor.reverse, self.cursor.position) if self.cursor else (False, None)

        ordering = self.ordering if not reverse else tuple(_flip(term) for term in self.ordering)
        after = self._parse_position(position) if position is not None else None
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
        """The ``time_id`` position of a note as the list reads it, a ``values()`` row."""
        return f"{instance[ordering[0].lstrip('-')].isoformat()}_{instance['id']}"

    def _parse_position(self, position: str):
        time, _, pk = position.rpartition("_")
        try:
            parsed = parse_datetime(time)
            if parsed is None or parsed.tzinfo is None or not pk.isdigit() or len(pk) > 19:
                raise ValueError(position)
        except ValueError:
            raise NotFound(self.invalid_cursor_message) from None
        return parsed, int(pk)


def after_position(ordering: tuple[str, str], after: tuple) -> tuple[Q, Q]:
    """The conditions "strictly after ``(time, id)``" in ``ordering``, e.g. for ``-created_at``:
    ``created_at <= t AND (created_at < t OR id < i)``, a range scan of the owner's index."""
    field, descending = ordering[0].lstrip("-"), ordering[0].startswith("-")
    op = "lt" if descending else "gt"
    time, pk = after
    return Q(**{f"{field}__{op}e": time}), Q(**{f"{field}__{op}": time}) | Q(**{f"pk__{op}": pk})


def _flip(term: str) -> str:
    return term[1:] if term.startswith("-") else f"-{term}"
