"""The audit API under /api/audit/: read-only, admins only."""

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from accounts.permissions import AdminOnlyMixin
from api.negotiation import ErrorsAsJsonNegotiation
from api.renderers import JSONRenderer
from api.schema import BAD_CURSOR, NOT_ADMIN, THROTTLED, UNAUTHORIZED, detail_error, query_errors
from audit import export, merkle
from audit.checkpoints import (
    TreeError,
    consistency_proof,
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
    VerifyJobSerializer,
    VerifyResultSerializer,
)
from audit.services import VerifyResult, audit_verify
from audit.verify_jobs import verify_job_get, verify_job_start

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}

NOT_FOUND = detail_error("No such entry.")
BAD_FILTER = query_errors('A filter value that does not parse, e.g. `{"since": ["Enter a valid date/time."]}`.')


@extend_schema_view(
    list=extend_schema(
        summary="List audit entries, newest first",
        description="Cursor-paginated (no total count). Filters combine with AND.",
        responses={
            200: AuditEntrySerializer(many=True),
            400: BAD_FILTER,
            401: UNAUTHORIZED,
            403: NOT_ADMIN,
            404: BAD_CURSOR,
            429: THROTTLED,
        },
    ),
    retrieve=extend_schema(
        summary="One audit entry",
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="The entry's id.")],
        responses={200: AuditEntrySerializer, 401: UNAUTHORIZED, 403: NOT_ADMIN, 404: NOT_FOUND, 429: THROTTLED},
    ),
)
class AuditEntryViewSet(AdminOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """The audit trail, read-only: no route writes, changes or deletes an entry."""

    queryset = AuditEntry.objects.all()
    serializer_class = AuditEntrySerializer
    ordering = ("-created_at", "-id")  # the keyset paginator's order: an index covers both
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
            403: NOT_ADMIN,
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
        responses={200: VerifyResultSerializer, 401: UNAUTHORIZED, 403: NOT_ADMIN, 429: THROTTLED},
    )
    def get(self, request):
        return Response(VerifyResultSerializer(audit_verify()).data)


# ---------------------------------------------------------------- signed checkpoints (AUDIT.md 10)

TEXT_PLAIN = "text/plain; charset=utf-8"
NO_CHECKPOINT = detail_error("No checkpoint has been signed yet.")
BAD_PROOF_QUERY = query_errors("A parameter that is missing or not a whole number of at least 1.")
NO_PROOF = detail_error(
    "No such proof: a tree size no checkpoint covers yet, an entry outside that tree, or first larger than second."
)


class CheckpointListView(AdminOnlyMixin, generics.ListAPIView):
    """Every signed checkpoint, newest (largest) first."""

    serializer_class = CheckpointSerializer
    queryset = Checkpoint.objects.all()
    ordering = ("-tree_size", "-id")  # the keyset paginator's order

    @extend_schema(
        summary="List signed checkpoints, newest first",
        responses={
            200: CheckpointSerializer(many=True),
            400: BAD_FILTER,
            401: UNAUTHORIZED,
            403: NOT_ADMIN,
            404: BAD_CURSOR,
            429: THROTTLED,
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _CheckpointTextView(AdminOnlyMixin, APIView):
    """Answers ``text()`` as text/plain, or 404 before the first checkpoint; errors stay JSON."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = ErrorsAsJsonNegotiation

    def text(self) -> str | None:
        raise NotImplementedError

    def get(self, request):
        text = self.text()
        if text is None:
            raise NotFound(_("No checkpoint has been signed yet."))
        return HttpResponse(text, content_type=TEXT_PLAIN)


def _text_responses(description: str) -> dict:
    return {
        (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description=description),
        401: UNAUTHORIZED,
        403: NOT_ADMIN,
        404: NO_CHECKPOINT,
        429: THROTTLED,
    }


@extend_schema(
    summary="The latest signed checkpoint",
    description="The C2SP signed note (tlog-checkpoint body, a blank line, the Ed25519 signature line).",
    responses=_text_responses("The signed note."),
)
class LatestCheckpointView(_CheckpointTextView):
    def text(self) -> str | None:
        checkpoint = latest_checkpoint()
        return checkpoint.note if checkpoint is not None else None


@extend_schema(
    summary="The checkpoints' verifier key",
    description=(
        "`<origin>+<key id>+<base64 key>`: the trusted keys of AUDIT_CHECKPOINT_VERIFIER_KEYS, one a line, "
        "or else the key of the first checkpoint. Auditors should get it from a second channel too."
    ),
    responses=_text_responses("Verifier keys, one a line."),
)
class VerifierKeyView(_CheckpointTextView):
    def text(self) -> str | None:
        keys = sorted(trusted_verifier_keys())
        return "".join(f"{key}\n" for key in keys) if keys else None


class _ProofView(AdminOnlyMixin, APIView):
    """Validates the query with ``query_serializer_class`` and answers ``prove(**query)`` as
    ``proof_serializer_class``; a proof that no checkpoint covers is a 404. ``_proof_view`` sets
    both and the schema; the subclass's docstring is the endpoint's description."""

    query_serializer_class: type[Serializer]
    proof_serializer_class: type[Serializer]

    def prove(self, **query) -> dict:
        raise NotImplementedError

    def get(self, request):
        query = self.query_serializer_class(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            proof = self.prove(**query.validated_data)
        except TreeError as error:
            raise NotFound(str(error)) from error
        return Response(self.proof_serializer_class(proof).data)


def _proof_view(summary: str, *, query: type[Serializer], proof: type[Serializer]):
    """Gives a ``_ProofView`` its query and answer serializers and documents them."""

    def configure(view: type[_ProofView]) -> type[_ProofView]:
        view.query_serializer_class, view.proof_serializer_class = query, proof
        responses = {200: proof, 400: BAD_PROOF_QUERY, 401: UNAUTHORIZED, 403: NOT_ADMIN, 404: NO_PROOF, 429: THROTTLED}
        return extend_schema(summary=summary, parameters=[query], responses=responses)(view)

    return configure


@_proof_view("Inclusion proof of an entry", query=InclusionQuerySerializer, proof=InclusionProofSerializer)
class InclusionProofView(_ProofView):
    """RFC 9162 2.1.3: the audit path of entry `id` in the tree of the first `tree_size` entries."""

    def prove(self, *, id, tree_size) -> dict:
        index, proof = inclusion_proof(id, tree_size)
        return {"leaf_index": index, "tree_size": tree_size, "proof": [merkle.b64(p) for p in proof]}


@_proof_view(
    "Consistency proof between two tree sizes", query=ConsistencyQuerySerializer, proof=ConsistencyProofSerializer
)
class ConsistencyProofView(_ProofView):
    """RFC 9162 2.1.4: proves the tree of `first` entries a prefix of the tree of `second`."""

    def prove(self, *, first, second) -> dict:
        return {"first": first, "second": second, "proof": [merkle.b64(p) for p in consistency_proof(first, second)]}


# ---------------------------------------------------------------- verification as a background job


def _job_document(request, state: dict) -> dict:
    url = request.build_absolute_uri(reverse("audit-verify-job", args=[state["id"]]))
    result = state.get("result")
    return {
        "id": state["id"],
        "status": state["status"],
        "checked": state["checked"],
        "url": url,
        "result": VerifyResult(**result) if result else None,
    }


class AuditVerifyJobsView(AdminOnlyMixin, APIView):
    @extend_schema(
        summary="Start verifying the audit chain in the background",
        description=(
            "For tables too large to verify within one request (millions of entries): 202 at once with the "
            "job and its status URL (also in `Location`). A job already running is returned instead of a new one."
        ),
        request=None,
        responses={202: VerifyJobSerializer, 401: UNAUTHORIZED, 403: NOT_ADMIN, 429: THROTTLED},
    )
    def post(self, request):
        state, _started = verify_job_start()
        data = VerifyJobSerializer(_job_document(request, state)).data
        return Response(data, status=202, headers={"Location": data["url"]})


class AuditVerifyJobView(AdminOnlyMixin, APIView):
    @extend_schema(
        summary="A background verification's state",
        parameters=[OpenApiParameter("job_id", str, OpenApiParameter.PATH, description="The job's id.")],
        responses={
            200: VerifyJobSerializer,
            401: UNAUTHORIZED,
            403: NOT_ADMIN,
            404: detail_error("No such job (or it expired after a day)."),
            429: THROTTLED,
        },
    )
    def get(self, request, job_id):
        state = verify_job_get(job_id)
        if state is None:
            raise NotFound(_("No such verification job."))
        return Response(VerifyJobSerializer(_job_document(request, state)).data)
