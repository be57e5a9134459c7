"""The API's pagination: cursors, so no list ever runs COUNT(*)."""

import re

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination

_DIGITS = re.compile(r"[0-9]+")


class CreatedAtCursorPagination(CursorPagination):
    """Newest first; ``?page_size=`` 1..100 (larger values are capped).

    A ``page_size`` that is not a whole number of at least 1 is a 400, as the
    schema says: DRF's own handling falls back to the default page for
    ``page_size=0`` or ``page_size=abc``, which hides a client's mistake.

    Views with an ``?ordering=`` filter get their cursor ordered the same way
    (CursorPagination reads the OrderingFilter of the view).
    """

    ordering = "-created_at"
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

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "default": self.page_size}
        return parameters
