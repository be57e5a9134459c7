"""The session login forms (admin panel, browsable API), under the API's lockout."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import lockout, signals
from accounts.models import User
from devlab.http import client_ip


class LockoutFormMixin:
    """The per-username-and-IP lockout of ``accounts.lockout`` around a login form's ``clean``."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request)
        try:
            failures = lockout.check(username=username, ip=ip)
        except lockout.LockedOut as locked:
            signals.login_throttled.send(sender=User, username=username, reason="lockout")
            raise ValidationError(
                _("Too many failed logins. Try again in %(seconds)s seconds."), params={"seconds": locked.retry_after}
            ) from None
        try:
            cleaned = super().clean()
        except ValidationError:
            lockout.record_failure(username=username, ip=ip)
            raise
        if failures:
            lockout.reset(username=username, ip=ip)
        return cleaned


class LockoutAdminAuthenticationForm(LockoutFormMixin, AdminAuthenticationForm):
    """The admin login form."""


class LockoutAuthenticationForm(LockoutFormMixin, AuthenticationForm):
    """The browsable API's login form (``/api-auth/login/``)."""
