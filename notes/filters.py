"""``?search=`` and ``?ordering=`` of the notes list."""

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter

from api.filters import FilterSet
from notes.models import Note

#: Longer needles are refused (400): the query string must fit the server's request line
#: (gunicorn: 4094 bytes), and 200 characters percent-encoded as 4-byte UTF-8 take 2,400.
#: A longer value would be refused by gunicorn with its own HTML 414 instead.
SEARCH_MAX_LENGTH = 200

ORDERINGS = ("created_at", "-created_at", "updated_at", "-updated_at")
DEFAULT_ORDERING = "-created_at"


class NoteFilter(FilterSet):
    """``search``: a case-insensitive substring of the text, taken literally (spaces included)."""

    # The form field refuses NUL (400), and needles over SEARCH_MAX_LENGTH.
    search = django_filters.CharFilter(
        field_name="text",
        lookup_expr="icontains",
        max_length=SEARCH_MAX_LENGTH,
        strip=False,
        label=_("Search"),
        help_text=_("Only notes whose text contains this string, ignoring case."),
    )

    class Meta:
        model = Note
        fields = ["search"]


class NoteOrderingFilter(OrderingFilter):
    """``?ordering=`` one of ``ORDERINGS`` (default ``-created_at``); anything else is a 400.

    The cursor paginator takes its ordering from here (DRF's CursorPagination
    asks the view's first filter backend that has ``get_ordering``), so the
    list and its cursors always agree. ``id`` follows in the same direction:
    it breaks ties between equal times, keeping pages deterministic, and both
    columns are in the owner's index for that field.
    """

    ordering_description = _("Order of the list: `created_at`, `-created_at` (default), `updated_at`, `-updated_at`.")

    def get_ordering(self, request, queryset, view):
        # Absent means the default; an empty or padded value is not one of the choices.
        value = request.query_params.get(self.ordering_param, DEFAULT_ORDERING)
        if value not in ORDERINGS:
            raise exceptions.ValidationError(
                {
                    self.ordering_param: [
                        _("Select one of: %(choices)s.") % {"choices": ", ".join(ORDERINGS)},
                    ]
                }
            )
        return (value, "-id" if value.startswith("-") else "id")

    def get_valid_fields(self, queryset, view, context=None):
        return [("created_at", _("created")), ("updated_at", _("updated"))]

    def get_schema_operation_parameters(self, view):
        (parameter,) = super().get_schema_operation_parameters(view)
        parameter["schema"] = {"type": "string", "enum": list(ORDERINGS), "default": DEFAULT_ORDERING}
        return [parameter]
