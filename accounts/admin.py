"""The users' page of the admin panel; every change goes through accounts.services.

Who may change whom is decided by the services (``user_can_manage``,
``user_can_grant_rights``, ``user_admin_check``); this module only asks them:
to hide what an admin may not touch, to refuse a change form with an error,
and, should a refused change get past the form anyway, the service refuses
it again (``AdminRightsForbidden`` is a ``PermissionDenied``: a 403 page, and
the admin's transaction rolls back).
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from accounts import services, token_admin  # noqa: F401 - registers the token admins
from accounts.models import User


def requested_changes(form) -> dict:
    """What a submitted change form asks for: its changed fields' new values, and the
    rights fields (``services.RIGHTS_FIELDS``) posted although the form does not have
    them (a hand-made POST by an admin who is not shown them): an attempt all the same."""
    changes = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
    changes.pop("password", None)
    for name in services.RIGHTS_FIELDS:
        if name not in form.fields and name in form.data:
            changes[name] = form.data.getlist(name)
    return changes


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "is_admin", "is_active", "date_joined", "last_login", "note_count"]
    list_filter = ["is_staff", "is_active", "date_joined"]
    search_fields = ["username", "email"]
    ordering = ["-date_joined"]
    actions = ["promote", "demote", "deactivate", "logout_everywhere"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(note_count=Count("notes"))

    @admin.display(boolean=True, ordering="is_staff", description=_("admin"))
    def is_admin(self, user):
        return user.is_staff

    @admin.display(ordering="note_count", description=_("notes"))
    def note_count(self, user):
        return user.note_count

    # ------------------------------------------------------------ who may change what

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or services.user_can_manage(actor=request.user, user=obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or services.user_can_manage(actor=request.user, user=obj))

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not services.user_can_grant_rights(actor=request.user):
            readonly += sorted(services.RIGHTS_FIELDS - set(readonly))
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form_class
        actor = request.user

        class RightsCheckedForm(form_class):
            def clean(self):
                cleaned_data = super().clean()
                stored = User.objects.get(pk=self.instance.pk)
                try:
                    services.user_admin_check(actor=actor, user=stored, changes=requested_changes(self))
                except (services.AdminRightsForbidden, services.AdminRightsConflict) as exc:
                    raise ValidationError(str(exc)) from None
                return cleaned_data

        return RightsCheckedForm

    # ------------------------------------------------------------ actions

    def _run(self, request, queryset, service, done):
        for user in queryset:
            try:
                service(actor=request.user, user=user)
            except (services.AdminRightsConflict, services.AdminRightsForbidden) as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, done % {"username": user.username}, messages.SUCCESS)

    @admin.action(description=_("Promote to admin"), permissions=["change"])
    def promote(self, request, queryset):
        self._run(request, queryset, services.user_promote, _("%(username)s is now an admin."))

    @admin.action(description=_("Remove admin rights"), permissions=["change"])
    def demote(self, request, queryset):
        self._run(request, queryset, services.user_demote, _("%(username)s is no longer an admin."))

    @admin.action(description=_("Deactivate"), permissions=["change"])
    def deactivate(self, request, queryset):
        self._run(request, queryset, services.user_deactivate, _("%(username)s is deactivated."))

    @admin.action(description=_("Log out everywhere"), permissions=["change"])
    def logout_everywhere(self, request, queryset):
        self._run(request, queryset, services.user_logout_all, _("%(username)s is logged out everywhere."))

    # ------------------------------------------------------------ saving

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        # The form asked user_admin_check already; the service asks again with
        # the rows locked and saves it all (fields, rights, groups, permissions).
        stored = User.objects.get(pk=obj.pk)
        try:
            services.user_admin_update(actor=request.user, user=stored, changes=requested_changes(form))
        except services.AdminRightsConflict as exc:  # changed since the form was checked
            raise PermissionDenied(str(exc)) from exc

    def save_related(self, request, form, formsets, change):
        if not change:
            return super().save_related(request, form, formsets, change)
        # user_admin_update saved groups and permissions; only inlines (none today) remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        try:
            services.user_delete(actor=request.user, user=obj)
        except (services.AdminRightsConflict, services.AdminRightsForbidden) as exc:
            self.message_user(request, str(exc), messages.ERROR)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            self.delete_model(request, user)

    def user_change_password(self, request, id, form_url=""):
        # Django's view refuses unless has_change_permission(request, user); the
        # service is asked too, before the form is saved, and keeps the rows
        # locked until this transaction ends.
        with transaction.atomic():
            target = self.get_object(request, unquote(id))
            if request.method == "POST" and target is not None:
                services.user_admin_check(actor=request.user, user=target)
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                services.user_admin_set_password(actor=request.user, user=User.objects.get(pk=id))
        return response
