"""The audit trail in the admin site: readable by those allowed to view it, changeable by nobody."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """No add, change or delete for anyone, superusers included; the change view is read-only."""

    list_display = ("created_at", "action", "actor_username", "target_display", "ip", "request_id")
    list_filter = ("action",)
    date_hierarchy = "created_at"
    # Exact IP and request id (what an incident hands you), any part of a username.
    search_fields = ("actor_username", "=ip", "=request_id")
    search_help_text = _("A username (or part of one), an exact IP address or an exact request id.")
    # The second COUNT(*) over the whole table is not worth it at millions of rows.
    show_full_result_count = False
    fields = (
        "created_at",
        "action",
        "actor_id",
        "actor_username",
        "target_display",
        "detail",
        "ip",
        "user_agent",
        "request_id",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields

    @admin.display(description=_("target"))
    def target_display(self, entry: AuditEntry) -> str:
        return entry.target

    @admin.display(description=_("actor id"))
    def actor_id(self, entry: AuditEntry) -> int | None:
        return entry.actor_id

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
