"""The admin site: Django's, with the lockout login form and the second factor.

A user with two-factor login on reaches the admin only from a session whose
login gave the code (django-otp's ``OTPMiddleware`` tells: ``is_verified()``);
a session from before two-factor was turned on has to log in again. With
``MFA_REQUIRED_FOR_ADMINS``, an admin without two-factor login is sent to
enroll (the browsable API's enrollment endpoint) instead of the admin.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

#: django-otp's models have admin pages that would show the TOTP secret: never registered here.
HIDDEN_APP_LABELS = frozenset({"otp_totp", "otp_static", "otp_hotp", "otp_email"})


class DevLabAdminSite(admin.AdminSite):
    login_template = "accounts/admin_login.html"

    @property
    def login_form(self):
        from accounts.forms import LockoutAdminAuthenticationForm

        return LockoutAdminAuthenticationForm

    def register(self, model_or_iterable, admin_class=None, **options):
        models = [model_or_iterable] if isinstance(model_or_iterable, type) else list(model_or_iterable)
        models = [model for model in models if model._meta.app_label not in HIDDEN_APP_LABELS]
        if models:
            super().register(models, admin_class, **options)

    def has_permission(self, request):
        from accounts import mfa

        if not super().has_permission(request):
            return False
        user = request.user
        if mfa.mfa_enabled(user):
            return user.is_verified() if hasattr(user, "is_verified") else False
        return not settings.MFA_REQUIRED_FOR_ADMINS

    def login(self, request, extra_context=None):
        from accounts.permissions import admin_lacks_required_mfa

        user = request.user
        if request.method == "GET" and user.is_active and admin_lacks_required_mfa(user):
            messages.warning(request, _("Admins must turn on two-factor login before using the admin site."))
            return redirect(reverse("auth-mfa-totp"))
        return super().login(request, extra_context)
