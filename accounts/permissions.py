"""Who may do what: admin-only endpoints."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ErrorDetail, PermissionDenied
from rest_framework.permissions import BasePermission

from accounts import mfa, signals

MFA_REQUIRED = "mfa_required"


class MfaRequired(PermissionDenied):
    """403 ``{"detail", "code": "mfa_required"}``: an admin without two-factor login while
    ``MFA_REQUIRED_FOR_ADMINS`` is on."""

    default_detail = _("Admins must turn on two-factor login first: POST /api/auth/mfa/totp/.")
    default_code = MFA_REQUIRED

    def __init__(self):
        super().__init__()
        self.detail = {"detail": ErrorDetail(str(self.default_detail), MFA_REQUIRED), "code": MFA_REQUIRED}


def admin_lacks_required_mfa(user) -> bool:
    """An admin who must enroll a second factor (``MFA_REQUIRED_FOR_ADMINS``) and has not."""
    return settings.MFA_REQUIRED_FOR_ADMINS and user.is_staff and not mfa.mfa_enabled(user)


class IsAdmin(BasePermission):
    """Allows admins (``is_staff``) only.

    Rights are read from the database on every request (JWT authentication
    loads the user by primary key), so a demoted admin's still-valid access
    token stops passing at once.
    """

    message = "Admin rights are required."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff) and not admin_lacks_required_mfa(user)


class AdminOnlyMixin:
    """For admin-only views: ``IsAdmin``, and an ``access_denied`` signal on refusal.

    Anonymous requests still get 401 (not recorded: nobody to attribute);
    an authenticated non-admin gets 403 and the signal, which the audit trail
    records with the method and path. An admin who must enroll a second
    factor first gets 403 with ``code: "mfa_required"`` (and the signal).
    """

    permission_classes = [IsAdmin]

    def permission_denied(self, request, message=None, code=None):
        if request.user and request.user.is_authenticated:
            signals.access_denied.send(
                sender=type(request.user), user=request.user, method=request.method, path=request.path
            )
        if request.user and request.user.is_authenticated and admin_lacks_required_mfa(request.user):
            raise MfaRequired
        super().permission_denied(request, message=message, code=code)
