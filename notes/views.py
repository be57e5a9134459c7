"""The notes API under /api/notes/: the caller's own notes, nobody else's."""

from django.http import Http404
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api.filters import FilterBackend
from api.pagination import KeysetPagination
from api.schema import BAD_CURSOR, THROTTLED, UNAUTHORIZED, detail_error, field_errors
from notes import selectors, services
from notes.filters import SEARCH_MAX_LENGTH, NoteFilter, NoteOrderingFilter
from notes.models import Note
from notes.permissions import IsOwner
from notes.serializers import NOTE_FIELDS, NoteSerializer, NoteTextSerializer, note_document

INVALID_NOTE = field_errors(
    "Field errors: `text` missing, blank after stripping, over 10,000 characters, or containing NUL, "
    "another control character (other than tab, line feed, carriage return) or a lone surrogate.",
    example={"text": ["This field may not be blank."]},
)
INVALID_QUERY = field_errors(
    "An `ordering` that is not one of the four choices, a `search` with NUL or over 200 characters, "
    "or a `page_size` that is not a whole number of at least 1.",
    example={"ordering": ["Select one of: created_at, -created_at, updated_at, -updated_at."]},
)
NOT_FOUND = detail_error("No such note among yours (someone else's note is a 404 too).")

NOTE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The note's id.")
SEARCH = OpenApiParameter(
    "search",
    {"type": "string", "maxLength": SEARCH_MAX_LENGTH, "pattern": r"^[^\x00]*$"},
    OpenApiParameter.QUERY,
    description="Only notes whose text contains this string, taken literally (spaces included), ignoring case.",
)


@extend_schema_view(
    list=extend_schema(
        summary="List your notes",
        description=(
            "Your own notes, newest first unless `ordering` says otherwise. Cursor-paginated: follow `next` "
            "and `previous` (no total count); pages stay stable while notes are added."
        ),
        parameters=[SEARCH],
        responses={
            200: NoteSerializer(many=True),
            400: INVALID_QUERY,
            401: UNAUTHORIZED,
            404: BAD_CURSOR,
            429: THROTTLED,
        },
    ),
    create=extend_schema(
        summary="Create a note",
        description="The note is yours: an `owner` or `id` in the body is ignored.",
        responses={201: NoteSerializer, 400: INVALID_NOTE, 401: UNAUTHORIZED, 429: THROTTLED},
    ),
    retrieve=extend_schema(
        summary="One of your notes",
        description="404 for an id that does not exist and for someone else's note alike.",
        parameters=[NOTE_ID],
        responses={200: NoteSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND, 429: THROTTLED},
    ),
    update=extend_schema(
        summary="Replace the text of one of your notes",
        description="`text` is required. Sending the same text changes nothing (`updated_at` stays).",
        parameters=[NOTE_ID],
        responses={200: NoteSerializer, 400: INVALID_NOTE, 401: UNAUTHORIZED, 404: NOT_FOUND, 429: THROTTLED},
    ),
    partial_update=extend_schema(
        summary="Change the text of one of your notes",
        description="Without `text`, or with the same text, nothing changes (`updated_at` stays).",
        parameters=[NOTE_ID],
        responses={200: NoteSerializer, 400: INVALID_NOTE, 401: UNAUTHORIZED, 404: NOT_FOUND, 429: THROTTLED},
    ),
    destroy=extend_schema(
        summary="Delete one of your notes",
        description="404 for an id that does not exist and for someone else's note alike.",
        parameters=[NOTE_ID],
        responses={204: None, 401: UNAUTHORIZED, 404: NOT_FOUND, 429: THROTTLED},
    ),
)
class NoteViewSet(viewsets.ModelViewSet):
    """Your own notes, newest first. Nobody else can see or change them.

    Search with ?search= (any part of the text, ignoring case), order with
    ?ordering= (created_at, -created_at, updated_at or -updated_at) and choose
    the page size with ?page_size= (1 to 100).
    """

    serializer_class = NoteSerializer
    permission_classes = [IsAuthenticated, IsOwner]
    pagination_class = KeysetPagination
    filter_backends = [FilterBackend, NoteOrderingFilter]
    filterset_class = NoteFilter
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Note.objects.none()
        # Through the reverse relation, each note comes with its owner
        # already set (request.user): no query for it later, e.g. when the
        # audit trail reads note.owner on save or delete.
        return self.request.user.notes.all()

    def list(self, request, *args, **kwargs):
        """A page as ``note_document`` dicts: one precompiled query (``notes.selectors.note_page``)
        and no model instance or serializer per row; the JSON of NoteSerializer all the same."""
        search = self._search(request)
        page = self.paginator.paginate_rows(
            request,
            self,
            lambda ordering, after, limit: selectors.note_page(
                owner_id=request.user.pk, fields=NOTE_FIELDS, ordering=ordering, after=after, search=search, limit=limit
            ),
            Note,
        )
        return self.get_paginated_response([note_document(row) for row in page])

    def _search(self, request) -> str | None:
        """``?search=`` validated by ``NoteFilter`` (400 as the filter backend would), or None when absent."""
        if NoteFilter.Meta.fields[0] not in request.query_params:
            return None
        filterset = NoteFilter(request.query_params, queryset=Note.objects.none(), request=request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        return filterset.form.cleaned_data["search"]

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            # The same body as IsOwner's refusal: a missing note and someone
            # else's look alike.
            raise exceptions.NotFound from None

    def create(self, request, *args, **kwargs):
        """``NoteSerializer``'s validation and JSON without a ``ModelSerializer`` per request:
        ``NoteTextSerializer`` validates the text, ``note_document`` shows the note."""
        serializer = NoteTextSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        note = services.note_create(owner=request.user, text=serializer.validated_data["text"])
        return Response(note_document(vars(note)), status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        note = serializer.instance
        services.note_update(note=note, text=serializer.validated_data.get("text", note.text))

    def perform_destroy(self, instance):
        services.note_delete(note=instance)
