"""Notes in the admin site: read-only, and only for those granted the right to view them.

Being staff is not enough: a note is private text. Superusers, and staff
given "Can view note" (or a group that has it), see the list and the notes;
nobody adds or edits a note here, since the audit trail records every note
write as its owner's. Deletion (directly, or when a user is deleted with
their notes) needs "Can delete note" and goes through ``notes.services``.
"""

from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from notes import services
from notes.models import Note

PREVIEW_CHARACTERS = 60


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "created_at", "preview")
    list_select_related = ("owner",)
    search_fields = ("owner__username",)
    search_help_text = _("The owner's username, or part of it.")
    # A COUNT(*) of the whole table per page is not worth it at millions of notes.
    show_full_result_count = False
    fields = ("owner", "text", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description=_("text"))
    def preview(self, note: Note) -> str:
        return Truncator(note.text).chars(PREVIEW_CHARACTERS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        services.note_delete(note=obj)

    def delete_queryset(self, request, queryset):
        # One at a time, so that each deletion sends post_delete (audited).
        for note in queryset.select_related("owner"):
            services.note_delete(note=note)
