"""Shapes of the audit API: entries, the export's query, the verify result."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty

from audit.models import PUBLIC_FIELDS, AuditEntry

EXPORT_FORMATS = ("csv", "jsonl")


class AuditEntrySerializer(serializers.ModelSerializer):
    actor_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = AuditEntry
        fields = list(PUBLIC_FIELDS)
        read_only_fields = fields


class QueryChoiceField(serializers.ChoiceField):
    """A choice read from the query string, where an empty value is sent, not omitted.

    DRF reads an empty form value of an optional field as "not sent", so
    ``?format=`` exported CSV although the schema allows only csv or jsonl
    (found by schemathesis); here it is an invalid choice (400).
    """

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, empty)


class ExportQuerySerializer(serializers.Serializer):
    format = QueryChoiceField(
        choices=EXPORT_FORMATS,
        default="csv",
        help_text=_("File format: csv (default) or jsonl (one JSON object a line)."),
    )


class VerifyResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text=_("Whether the whole chain is intact."))
    checked = serializers.IntegerField(help_text=_("Rows examined (the bad one included)."))
    first_bad_id = serializers.IntegerField(required=False, help_text=_("The first row that breaks the chain."))
    reason = serializers.CharField(required=False, help_text=_("Why that row breaks the chain."))

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data["ok"]:
            data.pop("first_bad_id", None)
            data.pop("reason", None)
        return data
