"""The session login forms (admin panel, browsable API), under the API's lockout and second factor."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import lockout, mfa, signals
from accounts.login import login_attempt
from accounts.models import User


class LockoutFormMixin:
    """A login form's ``clean`` as an ``accounts.login.login_attempt``: one lockout, one audit and
    one second factor with the API login.

    Django's username field sets ``max_length`` for the browser only (no
    validator), so an over-long name is a failed login here too (audited,
    counted). A user with two-factor login on also gives a code (``otp_token``,
    a TOTP or recovery code): without one the form asks for it (nothing is
    counted, nothing reset), a wrong one counts towards the lockout and is
    audited as ``mfa_failed``, exactly as at ``POST /api/auth/login/mfa/``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["otp_token"] = forms.CharField(
            label=_("Two-factor code"),
            required=False,
            max_length=32,
            help_text=_("Only if two-factor login is on: your authenticator's code or a recovery code."),
            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        )

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
        user = self.get_user()
        if user is None:
            return cleaned
        if mfa.mfa_enabled(user):
            self._check_second_factor(user, cleaned.get("otp_token") or "")
        self._attempt.succeeded()
        return cleaned

    def _check_second_factor(self, user: User, code: str) -> None:
        if not code.strip():
            raise ValidationError(
                _("Two-factor login is on: enter the code of your authenticator app (or a recovery code)."),
                code="mfa_required",
            )
        method = mfa.mfa_verify(user=user, code=code)
        if method is None:
            self._attempt.failed()
            signals.mfa_failed.send(sender=User, user=user)
            raise ValidationError(_("Invalid two-factor code."), code="mfa_failed")
        if method == "recovery":
            signals.recovery_code_used.send(sender=User, user=user)

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
