"""The audit list's and export's filters; a value that does not parse is a 400."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from audit.models import Action, AuditEntry

_BIGINT_MAX = 2**63 - 1


class IntegerFilter(django_filters.Filter):
    field_class = forms.IntegerField


class IPAddressFilter(django_filters.Filter):
    field_class = forms.GenericIPAddressField


class AuditEntryFilter(django_filters.FilterSet):
    """``action``, ``actor`` (user id), ``since``/``until`` (ISO 8601) and ``ip``, combined with AND."""

    action = django_filters.ChoiceFilter(choices=Action.choices, help_text=_("Only entries of this action."))
    # An id, not a user lookup: the rows of a deleted user stay findable.
    actor = IntegerFilter(
        field_name="actor_id", min_value=1, max_value=_BIGINT_MAX, help_text=_("Only entries by this user id.")
    )
    since = django_filters.IsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text=_("Entries at or after this ISO 8601 time (UTC when no offset is given)."),
    )
    until = django_filters.IsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        help_text=_("Entries before this ISO 8601 time (UTC when no offset is given)."),
    )
    ip = IPAddressFilter(help_text=_("Only entries from this client IP address."))

    class Meta:
        model = AuditEntry
        fields = ["action", "actor", "since", "until", "ip"]
