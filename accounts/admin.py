"""The users' page of the admin panel; every change goes through accounts.services."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from accounts import services, token_admin  # noqa: F401 - registers the token admins
from accounts.forms import LockoutAdminAuthenticationForm
from accounts.models import User

FLAG_SERVICES = {"is_staff", "is_superuser"}


admin.site.login_form = LockoutAdminAuthenticationForm


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "is_admin", "is_active", "date_joined", "last_login", "note_count"]
    list_filter = ["is_staff", "is_active", "date_joined"]
    search_fields = ["username", "email"]
    ordering = ["-date_joined"]
    actions = ["promote", "demote", "deactivate"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(note_count=Count("notes"))

    @admin.display(boolean=True, ordering="is_staff", description=_("admin"))
    def is_admin(self, user):
        return user.is_staff

    @admin.display(ordering="note_count", description=_("notes"))
    def note_count(self, user):
        return user.note_count

    def _run(self, request, queryset, service, done):
        for user in queryset:
            try:
                service(actor=request.user, user=user)
            except services.AdminRightsConflict as exc:
                self.message_user(request, str(exc), messages.WARNING)
            else:
                self.message_user(request, done % {"username": user.username}, messages.SUCCESS)

    @admin.action(description=_("Promote to admin"))
    def promote(self, request, queryset):
        self._run(request, queryset, services.user_promote, _("%(username)s is now an admin."))

    @admin.action(description=_("Remove admin rights"))
    def demote(self, request, queryset):
        self._run(request, queryset, services.user_demote, _("%(username)s is no longer an admin."))

    @admin.action(description=_("Deactivate"))
    def deactivate(self, request, queryset):
        self._run(request, queryset, services.user_deactivate, _("%(username)s is deactivated."))

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        changed = set(form.changed_data)
        before = User.objects.get(pk=obj.pk)
        if "is_staff" in changed and obj.is_staff != before.is_staff:
            # Promotion and demotion have their own rules (never yourself, not
            # the last superuser) and events: run them on the stored user.
            try:
                service = services.user_promote if obj.is_staff else services.user_demote
                service(actor=request.user, user=before)
            except services.AdminRightsConflict as exc:
                obj.is_staff = before.is_staff
                self.message_user(request, str(exc), messages.ERROR)
            changed -= {"is_staff"}
            obj.is_staff, obj.is_superuser = before.is_staff, before.is_superuser
        if "is_active" in changed and not obj.is_active and obj.pk == request.user.pk:
            obj.is_active = True
            changed -= {"is_active"}
            self.message_user(request, _("You cannot deactivate yourself."), messages.ERROR)
        services.user_admin_update(actor=request.user, user=obj, fields=sorted(changed - {"password"}))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The form's group list must not undo what promotion/demotion decided.
        group = services.administrators_group()
        if form.instance.is_staff:
            form.instance.groups.add(group)
        else:
            form.instance.groups.remove(group)

    def delete_model(self, request, obj):
        try:
            services.user_delete(actor=request.user, user=obj)
        except services.AdminRightsConflict as exc:
            self.message_user(request, str(exc), messages.ERROR)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            self.delete_model(request, user)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            services.user_admin_set_password(actor=request.user, user=User.objects.get(pk=id))
        return response
