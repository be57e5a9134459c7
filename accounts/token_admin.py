"""Refresh-token records in the admin site: read-only lists for superusers, never the token.

simplejwt registers its own admins for the blacklist app, which show the
stored token text and a Save button. Here they are replaced: superusers see
who holds a session (user, ``jti``, issue and expiry times, whether it is
revoked) and can change nothing; everybody else, staff in the
Administrators group included, does not see the models at all. Revoking is
done through the services (logout-all, deactivation, password change).
"""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.token_blacklist import admin as simplejwt_admin  # noqa: F401 - see below
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken


class _SuperuserReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by active superusers only; nobody adds, changes or deletes.

    ``fields`` are both the detail page and the list's columns, all read-only.
    """

    actions = None
    list_per_page = 50
    search_help_text = _("A username (or part of one) or an exact jti.")

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def get_list_display(self, request):
        return self.fields

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# simplejwt's admin module is imported above, so its registrations have
# happened whatever the order of INSTALLED_APPS; they are replaced here.
for model in (OutstandingToken, BlacklistedToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(_SuperuserReadOnlyAdmin):
    # ``token`` is left out on purpose: no form, list or search ever touches it.
    fields = ("user", "jti", "created_at", "expires_at", "blacklisted")
    list_select_related = ("user",)
    search_fields = ("user__username", "=jti")
    ordering = ("-created_at",)

    def get_queryset(self, request):
        revoked = BlacklistedToken.objects.filter(token=OuterRef("pk"))
        return super().get_queryset(request).annotate(is_blacklisted=Exists(revoked))

    @admin.display(boolean=True, ordering="is_blacklisted", description=_("blacklisted"))
    def blacklisted(self, token: OutstandingToken) -> bool:
        return token.is_blacklisted


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(_SuperuserReadOnlyAdmin):
    fields = ("user", "jti", "created_at", "expires_at", "blacklisted_at")
    list_select_related = ("token__user",)
    search_fields = ("token__user__username", "=token__jti")
    ordering = ("-blacklisted_at",)

    @admin.display(ordering="token__user", description=_("user"))
    def user(self, blacklisted: BlacklistedToken):
        return blacklisted.token.user

    @admin.display(ordering="token__jti", description=_("jti"))
    def jti(self, blacklisted: BlacklistedToken) -> str:
        return blacklisted.token.jti

    @admin.display(ordering="token__created_at", description=_("created at"))
    def created_at(self, blacklisted: BlacklistedToken):
        return blacklisted.token.created_at

    @admin.display(ordering="token__expires_at", description=_("expires at"))
    def expires_at(self, blacklisted: BlacklistedToken):
        return blacklisted.token.expires_at
