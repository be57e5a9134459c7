"""Who may touch a note: its owner, and nobody else."""

from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission


class IsOwner(BasePermission):
    """Object permission: the note's owner only; for anyone else the note does not exist.

    The second line behind ``NoteViewSet.get_queryset()``, which already
    reads only the caller's notes. Should that first line ever fail, this one
    still answers 404 exactly like a missing note, never 403, which would
    tell that the id exists.
    """

    def has_object_permission(self, request, view, obj):
        if obj.owner_id != request.user.pk:
            raise NotFound
        return True
