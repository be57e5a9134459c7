"""The audit API under /api/audit/: read-only, admins only."""

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import generics, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import AdminOnlyMixin
from audit import export, merkle
from audit.checkpoints import (
    TreeError,
    consistency_proof,
    covering_size,
    inclusion_proof,
    latest_checkpoint,
    trusted_verifier_keys,
)
from audit.filters import AuditEntryFilter
from audit.models import PUBLIC_FIELDS, AuditEntry, Checkpoint, entry_document
from audit.serializers import (
    AuditEntrySerializer,
    CheckpointSerializer,
    ConsistencyProofSerializer,
    ConsistencyQuerySerializer,
    ExportQuerySerializer,
    InclusionProofSerializer,
    InclusionQuerySerializer,
    VerifyResultSerializer,
)
from audit.services import audit_verify
from devlab.pagination import CreatedAtCursorPagination

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}

_detail = inline_serializer("AuditErrorDetail", {"detail": serializers.CharField()})
UNAUTHORIZED = OpenApiResponse(_detail, description="Missing, invalid or expired credentials.")
FORBIDDEN = OpenApiResponse(_detail, description="Not an admin (recorded as access_denied).")
NOT_FOUND = OpenApiResponse(_detail, description="No such entry.")
BAD_CURSOR = OpenApiResponse(_detail, description="A `cursor` that this API did not issue.")
THROTTLED = OpenApiResponse(_detail, description="Too many requests; `Retry-After` says how many seconds to wait.")
BAD_FILTER = OpenApiResponse(
    {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    description='A filter value that does not parse, e.g. `{"since": ["Enter a valid date/time."]}`.',
)


class AuditCursorPagination(CreatedAtCursorPagination):
    """Newest first; id breaks ties between equal times (an index covers both)."""

    ordering = ("-created_at", "-id")


class ErrorsAsJsonNegotiation(DefaultContentNegotiation):
    """The export's ``?format=`` names the file type, not a renderer; errors are JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type


@extend_schema_view(
    list=extend_schema(
        summary="List audit entries, newest first",
        description="Cursor-paginated (no total count). Filters combine with AND.",
        responses={
            200: AuditEntrySerializer(many=True),
            400: BAD_FILTER,
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            404: BAD_CURSOR,
            429: THROTTLED,
        },
    ),
    retrieve=extend_schema(
        summary="One audit entry",
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="The entry's id.")],
        responses={200: AuditEntrySerializer, 401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND, 429: THROTTLED},
    ),
)
class AuditEntryViewSet(AdminOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """The audit trail, read-only: no route writes, changes or deletes an entry."""

    queryset = AuditEntry.objects.all()
    serializer_class = AuditEntrySerializer
    pagination_class = AuditCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = AuditEntryFilter
    lookup_value_regex = "[0-9]+"

    def list(self, request, *args, **kwargs):
        """A page as ``entry_document`` dicts from ``values()``: the same JSON as
        AuditEntrySerializer, without a model instance and a serializer per row
        (20 rows: 0.03 ms instead of 0.67 ms; bench/README.md)."""
        rows = self.filter_queryset(self.get_queryset()).values(*PUBLIC_FIELDS)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([entry_document(row) for row in page])

    @extend_schema(
        operation_id="audit_logs_export",
        summary="Export audit entries as a file",
        description=(
            "The entries matching the same filters as the list, oldest first (by time, then id; sort by id "
            "to check the chain), "
            "streamed as CSV or JSON Lines with `Content-Disposition: attachment`. JSONL lines carry "
            "the exact stored values; CSV cells starting with `= + - @` (or their full-width forms) or with "
            "whitespace get a leading `'` so that a spreadsheet does not run them."
        ),
        filters=True,
        parameters=[ExportQuerySerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV with a header row."),
            (200, "application/jsonl"): OpenApiResponse(OpenApiTypes.STR, description="One JSON entry a line."),
            400: BAD_FILTER,
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            429: THROTTLED,
        },
    )
    @action(
        detail=False,
        url_path="export",
        pagination_class=None,
        renderer_classes=[JSONRenderer],
        content_negotiation_class=ErrorsAsJsonNegotiation,
    )
    def export(self, request):
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        export_format = query.validated_data["format"]
        entries = self.filter_queryset(self.get_queryset()).order_by("created_at", "id")
        lines = export.LINES[export_format](export.export_documents(entries))
        response = StreamingHttpResponse(export.batched(lines), content_type=CONTENT_TYPES[export_format])
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{export_format}"'
        return response


class AuditVerifyView(AdminOnlyMixin, APIView):
    """Re-computes the whole chain; the first row that breaks it is named."""

    @extend_schema(
        summary="Verify the audit chain",
        description=(
            'Walks every entry in id order. `{"ok": true, "checked": N}`, or `{"ok": false, "checked": N, '
            '"first_bad_id": id, "reason": "..."}` naming the first entry that was changed, inserted, '
            "or whose predecessor was deleted. Reads the whole table: seconds per million rows."
        ),
        responses={200: VerifyResultSerializer, 401: UNAUTHORIZED, 403: FORBIDDEN, 429: THROTTLED},
    )
    def get(self, request):
        return Response(VerifyResultSerializer(audit_verify()).data)


# ---------------------------------------------------------------- signed checkpoints (AUDIT.md 10)

TEXT_PLAIN = "text/plain; charset=utf-8"
NO_CHECKPOINT = OpenApiResponse(_detail, description="No checkpoint has been signed yet.")
NOT_COVERED = OpenApiResponse(
    {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    description="Invalid parameters, or a tree size the latest checkpoint does not cover.",
)


class CheckpointCursorPagination(AuditCursorPagination):
    ordering = ("-tree_size", "-id")


class CheckpointListView(AdminOnlyMixin, generics.ListAPIView):
    """Every signed checkpoint, newest (largest) first."""

    serializer_class = CheckpointSerializer
    pagination_class = CheckpointCursorPagination
    queryset = Checkpoint.objects.all()

    @extend_schema(
        summary="List signed checkpoints, newest first",
        responses={
            200: CheckpointSerializer(many=True),
            400: BAD_FILTER,
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            404: BAD_CURSOR,
            429: THROTTLED,
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _PlainTextView(AdminOnlyMixin, APIView):
    """Answers text/plain on success; errors stay JSON whatever the Accept header."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = ErrorsAsJsonNegotiation


class LatestCheckpointView(_PlainTextView):
    @extend_schema(
        summary="The latest signed checkpoint",
        description="The C2SP signed note (tlog-checkpoint body, a blank line, the Ed25519 signature line).",
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The signed note."),
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            404: NO_CHECKPOINT,
            429: THROTTLED,
        },
    )
    def get(self, request):
        checkpoint = latest_checkpoint()
        if checkpoint is None:
            raise NotFound(_("No checkpoint has been signed yet."))
        return HttpResponse(checkpoint.note, content_type=TEXT_PLAIN)


class VerifierKeyView(_PlainTextView):
    @extend_schema(
        summary="The checkpoints' verifier key",
        description=(
            "`<origin>+<key id>+<base64 key>`: the trusted keys of AUDIT_CHECKPOINT_VERIFIER_KEYS, one a line, "
            "or else the key of the first checkpoint. Auditors should get it from a second channel too."
        ),
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Verifier keys, one a line."),
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            404: NO_CHECKPOINT,
            429: THROTTLED,
        },
    )
    def get(self, request):
        keys = sorted(trusted_verifier_keys())
        if not keys:
            raise NotFound(_("No checkpoint has been signed yet."))
        return HttpResponse("".join(f"{key}\n" for key in keys), content_type=TEXT_PLAIN)


def _proof_error(error: TreeError, field: str):
    return Response({field: [str(error)]}, status=400)


class InclusionProofView(AdminOnlyMixin, APIView):
    @extend_schema(
        summary="Inclusion proof of an entry",
        description="RFC 9162 2.1.3: the audit path of entry `id` in the tree of the first `tree_size` entries.",
        parameters=[InclusionQuerySerializer],
        responses={
            200: InclusionProofSerializer,
            400: NOT_COVERED,
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            404: OpenApiResponse(_detail, description="The entry is not in that tree."),
            429: THROTTLED,
        },
    )
    def get(self, request):
        query = InclusionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        entry_id, tree_size = query.validated_data["id"], query.validated_data["tree_size"]
        try:
            covering_size(tree_size)
        except TreeError as error:
            return _proof_error(error, "tree_size")
        try:
            index, proof = inclusion_proof(entry_id, tree_size)
        except TreeError as error:
            raise NotFound(str(error)) from error
        data = {"leaf_index": index, "tree_size": tree_size, "proof": [merkle.b64(p) for p in proof]}
        return Response(InclusionProofSerializer(data).data)


class ConsistencyProofView(AdminOnlyMixin, APIView):
    @extend_schema(
        summary="Consistency proof between two tree sizes",
        description="RFC 9162 2.1.4: proves the tree of `first` entries a prefix of the tree of `second`.",
        parameters=[ConsistencyQuerySerializer],
        responses={
            200: ConsistencyProofSerializer,
            400: NOT_COVERED,
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            429: THROTTLED,
        },
    )
    def get(self, request):
        query = ConsistencyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        first, second = query.validated_data["first"], query.validated_data["second"]
        try:
            proof = consistency_proof(first, second)
        except TreeError as error:
            return _proof_error(error, "second")
        data = {"first": first, "second": second, "proof": [merkle.b64(p) for p in proof]}
        return Response(ConsistencyProofSerializer(data).data)
