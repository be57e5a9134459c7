"""The session login forms (admin panel, browsable API), under the API's lockout."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import lockout
from accounts.login import login_attempt


class LockoutFormMixin:
    """A login form's ``clean`` as an ``accounts.login.login_attempt``: one lockout and one audit
    with the API login.

    Django's username field sets ``max_length`` for the browser only (no
    validator), so an over-long name is a failed login here too (audited, counted).
    """

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if not username or not password:
            return super().clean()  # a field error already; no password is checked
        try:
            self._attempt = login_attempt(request=self.request, username=username)
        except lockout.LockedOut as locked:
            raise ValidationError(
                _("Too many failed logins. Try again in %(seconds)s seconds."), params={"seconds": locked.retry_after}
            ) from None
        try:
            cleaned = super().clean()
        except ValidationError:
            self._attempt.failed()
            raise
        if self.get_user() is not None:
            self._attempt.succeeded()
        return cleaned

    def confirm_login_allowed(self, user):
        try:
            super().confirm_login_allowed(user)
        except ValidationError:
            # The password was right, yet no login (a non-admin at the admin site).
            self._attempt.refused()
            raise


class LockoutAdminAuthenticationForm(LockoutFormMixin, AdminAuthenticationForm):
    """The admin login form."""


class LockoutAuthenticationForm(LockoutFormMixin, AuthenticationForm):
    """The browsable API's login form (``/api-auth/login/``)."""
