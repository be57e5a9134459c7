"""``?search=`` and ``?is_admin=`` of the admins' user list."""

from django.db.models import Q
from django_filters import CharFilter, TypedChoiceFilter
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.models import User
from api.filters import FilterSet


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(TypedChoiceFilter):
    """``true`` or ``false``, nothing else: django-filter's own BooleanFilter ignores any other
    value (``?is_admin=null`` listed everyone; found by schemathesis)."""

    def __init__(self, **kwargs):
        super().__init__(choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true", **kwargs)


class UserAdminFilter(FilterSet):
    search = CharFilter(method="filter_search", help_text="Substring of username or email, case-insensitive.")
    is_admin = BooleanFilter(field_name="is_staff", help_text="Only admins (true) or only non-admins (false).")

    class Meta:
        model = User
        fields = ["search", "is_admin"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(username__icontains=value) | Q(email__icontains=value))
