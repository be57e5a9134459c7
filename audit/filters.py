"""The audit list's and export's filters; a value that does not parse is a 400."""

from datetime import UTC, datetime, timedelta

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from api.filters import FilterSet
from audit.models import Action, AuditEntry

_BIGINT_MAX = 2**63 - 1


# The schema of each filter says what the form field accepts: a value the
# schema allows must not be a 400 (schemathesis found actor=0 documented as
# any integer, and any string documented for ip).
@extend_schema_field({"type": "integer", "minimum": 1, "maximum": _BIGINT_MAX})
class UserIdFilter(django_filters.Filter):
    """A user id: a whole number from 1 to the largest bigint."""

    field_class = forms.IntegerField

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=_BIGINT_MAX, **kwargs)


@extend_schema_field({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})
class IPAddressFilter(django_filters.Filter):
    """An IPv4 or IPv6 address."""

    field_class = forms.GenericIPAddressField


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time, compared in UTC.

    ISO 8601 allows offsets up to 23:59 but PostgreSQL only up to 15:59, so a
    time such as ``...T11:05:27-21:39`` sent as it came was a 500 (found by
    schemathesis). A time whose UTC falls outside years 1 to 9999 (year 1 with
    a positive offset, 9999 with a negative one) is the earliest or latest one.
    """

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                value = (datetime.min if value.utcoffset() > timedelta(0) else datetime.max).replace(tzinfo=UTC)
        return super().filter(qs, value)


class AuditEntryFilter(FilterSet):
    """``action``, ``actor`` (user id), ``since``/``until`` (ISO 8601) and ``ip``, combined with AND."""

    action = django_filters.ChoiceFilter(choices=Action.choices, help_text=_("Only entries of this action."))
    # An id, not a user lookup: the rows of a deleted user stay findable.
    actor = UserIdFilter(field_name="actor_id", help_text=_("Only entries by this user id."))
    since = UtcDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text=_("Entries at or after this ISO 8601 time (UTC when no offset is given)."),
    )
    until = UtcDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        help_text=_("Entries before this ISO 8601 time (UTC when no offset is given)."),
    )
    ip = IPAddressFilter(help_text=_("Only entries from this client IP address."))

    class Meta:
        model = AuditEntry
        fields = ["action", "actor", "since", "until", "ip"]
