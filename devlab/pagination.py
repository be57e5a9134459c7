"""The API's pagination: cursors, so no list ever runs COUNT(*)."""

from django.conf import settings
from rest_framework.pagination import CursorPagination


class CreatedAtCursorPagination(CursorPagination):
    """Newest first; ``?page_size=`` 1..100 (larger values are capped).

    Views with an ``?ordering=`` filter get their cursor ordered the same way
    (CursorPagination reads the OrderingFilter of the view).
    """

    ordering = "-created_at"
    page_size = settings.API_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE
