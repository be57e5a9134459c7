"""Shapes of the audit API: entries, the export's query, the verify result."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty

from audit.models import PUBLIC_FIELDS, AuditEntry, entry_document

EXPORT_FORMATS = ("csv", "jsonl")


# An entry as the API shows it is ``entry_document``, the one definition that the list's fast
# path, the export and the checkpoints' leaves use too; the fields here describe it for the schema.
# (A comment, not a docstring: a docstring would become the schema component's description.)
class AuditEntrySerializer(serializers.ModelSerializer):
    actor_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = AuditEntry
        fields = list(PUBLIC_FIELDS)
        read_only_fields = fields

    def to_representation(self, instance):
        return entry_document({name: getattr(instance, name) for name in PUBLIC_FIELDS})


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
    checkpoint = serializers.IntegerField(
        required=False,
        help_text=_("The tree size of the latest signed checkpoint the table was held against, when there is one."),
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data["ok"]:
            data.pop("first_bad_id", None)
            data.pop("reason", None)
        elif data.get("first_bad_id") is None:
            data.pop("first_bad_id", None)  # a checkpoint failure with no row to name
        if data.get("checkpoint") is None:
            data.pop("checkpoint", None)
        return data


class CheckpointSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    origin = serializers.CharField(read_only=True, help_text=_("The log's name (AUDIT_LOG_ORIGIN when signed)."))
    tree_size = serializers.IntegerField(read_only=True, help_text=_("Entries covered, in id order."))
    root_hash = serializers.CharField(read_only=True, help_text=_("Base64 SHA-256 Merkle root (RFC 9162)."))
    last_entry_id = serializers.IntegerField(read_only=True, allow_null=True, help_text=_("The last entry covered."))
    verifier_key = serializers.CharField(read_only=True, help_text=_("The key that signed it."))
    note = serializers.CharField(read_only=True, help_text=_("The C2SP signed note, as served by latest/."))


class InclusionQuerySerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, help_text=_("The audit entry's id."))
    tree_size = serializers.IntegerField(min_value=1, help_text=_("A tree size the latest checkpoint covers."))


class ConsistencyQuerySerializer(serializers.Serializer):
    first = serializers.IntegerField(min_value=1, help_text=_("The smaller tree size."))
    second = serializers.IntegerField(min_value=1, help_text=_("The larger tree size, covered by a checkpoint."))


class InclusionProofSerializer(serializers.Serializer):
    leaf_index = serializers.IntegerField(help_text=_("The entry's position in the tree (0-based)."))
    tree_size = serializers.IntegerField()
    proof = serializers.ListField(child=serializers.CharField(), help_text=_("Base64 hashes, RFC 9162 2.1.3."))


class ConsistencyProofSerializer(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    proof = serializers.ListField(child=serializers.CharField(), help_text=_("Base64 hashes, RFC 9162 2.1.4."))


class VerifyJobSerializer(serializers.Serializer):
    id = serializers.CharField(help_text=_("The job's id."))
    status = serializers.ChoiceField(
        choices=["running", "done", "failed", "lost"],
        help_text=_("running; done (see result); failed; lost (its worker stopped: start another)."),
    )
    checked = serializers.IntegerField(help_text=_("Entries checked so far."))
    url = serializers.CharField(help_text=_("Where to ask for the job's state."))
    result = VerifyResultSerializer(
        required=False, help_text=_("When done: the same answer as GET /api/audit/verify/.")
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.get("result") is None:
            data.pop("result", None)
        return data
